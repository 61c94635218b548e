"""WSGI entry point: `gunicorn offbrand.wsgi` serves production.

Django's handler, behind the gate that answers a looping member's remembered
upload refusal before Django builds a request (`offbrand.refusal_gate`).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "offbrand.settings")

django_application = get_wsgi_application()

from offbrand.refusal_gate import RememberedRefusalGate  # noqa: E402  (needs the apps loaded)

application = RememberedRefusalGate(django_application)
