"""WSGI entry point: `gunicorn offbrand.wsgi` serves production."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "offbrand.settings")

application = get_wsgi_application()
