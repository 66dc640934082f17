"""Local development: DEBUG on, embedded PostgreSQL/Valkey when URLs are unset."""

from .base import *  # noqa: F403
from .base import configure_services, env, service_url

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-secret-key-change-me")
# Serve static files straight from the source folders; no collectstatic in dev.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

globals().update(configure_services(service_url("DATABASE_URL"), service_url("REDIS_URL")))
