"""Test suite: like dev, with fast hashing. URLs come from the test plugin."""

from .dev import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The suite's SMTP and IMAP servers listen on loopback, like a self-hosted mail server.
MAIL_HOSTS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
