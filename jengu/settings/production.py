"""Production: no defaults for secrets or services, hardened HTTP settings.

Refuses to start (ImproperlyConfigured) without SECRET_KEY, DATABASE_URL and
REDIS_URL, and never starts embedded servers.
"""

from .base import *  # noqa: F403
from .base import configure_services, env, require

DEBUG = False
SECRET_KEY = require("SECRET_KEY")
globals().update(configure_services(require("DATABASE_URL"), require("REDIS_URL")))

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
