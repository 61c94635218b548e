"""WSGI entry point: `gunicorn offbrand.wsgi` serves production.

Django's handler, behind the gate that answers a looping member's remembered
upload refusal before Django builds a request (`offbrand.refusal_gate`), behind
the drain that reads what a refused upload still sends (`offbrand.unread_body`),
all behind `ServedAtTheRoot`, which also leaves a HEAD answer's body out.
"""

import os

from django.core.wsgi import get_wsgi_application


class ServedAtTheRoot:
    """The site lives at the root of its host (`FORCE_SCRIPT_NAME = ""`). gunicorn takes
    a `SCRIPT_NAME` header from its proxy's address and strips it from the path, so a
    client whose proxy passes the header on reached `/accounts/profile/` as
    `/anything/accounts/profile/`, past the proxy's per-path limit (attack report A2):
    the prefix is put back, and such a path is the 404 it is."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        script_name = environ.get("SCRIPT_NAME")
        if script_name:
            environ["PATH_INFO"] = script_name + environ.get("PATH_INFO", "")
            environ["SCRIPT_NAME"] = ""
        answer = self.app(environ, start_response)
        if environ.get("REQUEST_METHOD") == "HEAD":
            return WithoutBody(answer)
        return answer


class WithoutBody:
    """A HEAD answer: the GET's status and headers, no body. Django's handler leaves the
    body in (its test client and runserver drop it); gunicorn dropped it too, but logged
    a warning for every HEAD, a log line anyone could write per request (attack report
    3, A5). The answer is still closed, which ends Django's request."""

    def __init__(self, answer):
        self.answer = answer

    def __iter__(self):
        return iter(())

    def close(self) -> None:
        close = getattr(self.answer, "close", None)
        if close is not None:
            close()


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "offbrand.settings")

django_application = get_wsgi_application()

from offbrand.refusal_gate import RememberedRefusalGate  # noqa: E402  (needs the apps loaded)
from offbrand.unread_body import DrainUnreadUpload  # noqa: E402

application = ServedAtTheRoot(DrainUnreadUpload(RememberedRefusalGate(django_application)))
