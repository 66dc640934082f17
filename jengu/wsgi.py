"""WSGI entry point (gunicorn jengu.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jengu.settings.production")
application = get_wsgi_application()
