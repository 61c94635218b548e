"""A looping member's remembered upload refusal, answered in front of Django (issue 11).

Once a signed-in member's upload has been refused before its body was read (a
limit used up, or their previous upload still running), the view remembers that
refusal for their session cookie and page (`accounts.ratelimits.remember_refusal`,
which owns the fact, with `remembered_refusal` that reads it). Their next uploads
are then answered here, by the WSGI application gunicorn calls
(`offbrand.wsgi.application`), before Django's handler: no request signals, no
middleware, no session or member row, no CSRF, no `django.request` log line;
one cache read (two while the upload that refused it still runs), and the same
small 429 page with its `Retry-After`. The body is never read: gunicorn's sync
worker closes the connection after the answer.

Only a POST whose declared length carries a picture (`middleware.carries_file`)
is looked at; every other request costs two dictionary reads. Anything this gate
cannot decide (no marker, a marker that no longer holds, the cache down, a
malformed request) goes on to Django, whose full checks decide and fail closed.
"""

import logging
import time

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.urls import set_script_prefix
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.module_loading import import_string

from accounts import ratelimits
from offbrand.middleware import carries_file

logger = logging.getLogger(__name__)

# The middleware before this one add only headers; the gate answers in their stead.
FRONT_ENDS_AT = "django.contrib.sessions.middleware.SessionMiddleware"
REPORT_EVERY = 60  # seconds: at most one log line per process this often


class RememberedRefusalGate:
    """WSGI middleware around Django's handler: see the module docstring."""

    def __init__(self, app):
        self.app = app
        self.front = {}  # request.is_secure() -> the headers the front adds, or None
        self.refused, self.next_report, self.since = 0, 0.0, time.monotonic()

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "POST" and carries_file(environ):
            try:
                answer = self.refusal(environ)
            except Exception:  # never a 500 from here: Django's checks decide
                logger.exception("Remembered refusal: could not decide; Django's checks will")
                answer = None
            if answer is not None:
                status, headers, body = answer
                start_response(status, headers)
                return [body]
        return self.app(environ, start_response)

    def refusal(self, environ) -> tuple[str, list, bytes] | None:
        """The 429 of this session's remembered refusal for this page, if it holds."""
        set_script_prefix(get_script_name(environ))  # as Django's handler, for the page's links
        request = WSGIRequest(environ)  # parses nothing until asked; never reads the body
        try:
            request.get_host()
        except DisallowedHost:  # Django's 400 and its one line, as for anyone (attack A3)
            return None
        verdict = ratelimits.remembered_refusal(request)
        if verdict is None:
            return None
        front = self.front_headers(request)
        if front is None:
            return None
        status, front_headers = front
        body, headers = ratelimits.unread_refusal(verdict, request.path)
        self.report(request.path)
        return status, [*front_headers, *headers, ("Content-Length", str(len(body)))], body

    def front_headers(self, request) -> tuple[str, list[tuple[str, str]]] | None:
        """The status line of a 429, and the headers the middleware in front of the
        session add to it, plus the signed-in pages' rules (`PrivatePagesMiddleware`,
        X-Frame-Options): learnt once per process and scheme by running them on one
        refusal, since they depend on nothing else (settings, and HSTS on HTTPS).
        None when they answer something else (an HTTPS redirect): Django then does."""
        secure = request.is_secure()
        if secure not in self.front:
            self.front[secure] = front_headers_of(request)
        return self.front[secure]

    def report(self, path: str) -> None:
        """One warning line a minute at most, with the count, instead of one per refusal
        (the refusal that was remembered was logged by Django as a 429)."""
        self.refused += 1
        now = time.monotonic()
        if now < self.next_report:
            return
        logger.warning(
            "Uploads refused from a remembered refusal: %d in the last %.0f s (latest %s)",
            self.refused,
            now - self.since,
            path,
        )
        self.refused, self.since, self.next_report = 0, now, now + REPORT_EVERY


def front_headers_of(request) -> tuple[str, list[tuple[str, str]]] | None:
    probe = HttpResponse(status=429)  # its Content-Type is every HttpResponse's
    frame_options = XFrameOptionsMiddleware(lambda request: probe)

    def refuse(request):
        patch_vary_headers(probe, ("Cookie",))
        patch_cache_control(probe, private=True, no_store=True)
        return frame_options.process_response(request, probe)

    handler = refuse
    for path in reversed(settings.MIDDLEWARE[: settings.MIDDLEWARE.index(FRONT_ENDS_AT)]):
        handler = import_string(path)(handler)
    if handler(request) is not probe:
        return None
    return f"{probe.status_code} {probe.reason_phrase}", list(probe.items())
