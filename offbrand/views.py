"""Site-wide pages: the landing page and the health check."""

import logging
import sys

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import OperationalError, close_old_connections, connection
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView
from django.views.static import serve

from accounts.mixins import UnconfirmedAllowedMixin, allow_unconfirmed
from accounts.models import Role
from accounts.queue import queue_depth, uses_database_queue
from offbrand.health import Prober, ask_all
from social import landing, selectors
from social.views import FeedView

logger = logging.getLogger(__name__)
# Made once: `as_view()` builds a new view function (and copies its attributes) each call.
feed_view = FeedView.as_view()


class IndexView(UnconfirmedAllowedMixin, TemplateView):
    """Signed-in members land on their feed; visitors on what Offbrand is, with recent posts."""

    template_name = "index.html"

    def get(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            # The same for every visitor: rendered once per change of what it shows.
            return landing.visitor_page(request, lambda: self.render_page(request, args, kwargs))
        if request.user.confirmed:
            return feed_view(request, *args, **kwargs)
        return super().get(request, *args, **kwargs)

    @staticmethod
    def read_with_session(request):
        """A member's feed, read in the session's round trip (`accounts.sessions`)."""
        if request.method not in ("GET", "HEAD"):
            return None
        return selectors.feed_read_along(before=selectors.parse_cursor(request.GET.get("before")))

    def render_page(self, request, args, kwargs):
        return super().get(request, *args, **kwargs).render()

    def get_context_data(self, **kwargs):
        # The roles as the administrators have set them (not the table new sites start with).
        roles = [
            {
                "name": role.name,
                "default": role.default,
                "permissions_text": ", ".join(name.lower() for name in role.permission_names),
            }
            for role in Role.objects.all()
        ]
        return super().get_context_data(
            recent_posts=selectors.recent_public_posts(), roles=roles, **kwargs
        )


def _check_database() -> dict:
    close_old_connections()  # as at the start of a request: drop a connection gone stale
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return queue_depth() if uses_database_queue() else {"queue": "none (mail sent in the request)"}


def _check_cache() -> None:
    caches["default"].get("offbrand:healthz")


def _close_database() -> None:
    connection.close()


def _nothing() -> None:
    return None


PROBERS = [
    Prober("database", _check_database, cleanup=_close_database),
    Prober("cache", _check_cache, cleanup=_nothing),
]


@allow_unconfirmed
@never_cache
def healthz(request):
    """200 when PostgreSQL and the cache answer in time, else 503; within a second.

    The details name what did not answer ("down" with the cause logged, or
    "timeout") and, with the database queue, its depth and oldest task's age.
    """
    outcomes = ask_all(PROBERS, timeout=settings.HEALTHZ_TIMEOUT)
    body = {name: state for name, (state, _) in outcomes.items()}
    for name, (state, detail) in outcomes.items():
        if state == "down":
            logger.warning("Health check: %s unavailable: %s", name, detail)
        elif state == "timeout":
            logger.warning(
                "Health check: %s did not answer within %g s",
                name,
                settings.HEALTHZ_TIMEOUT,
                extra={"outage": f"{name} timeout"},
            )
    state, detail = outcomes["database"]
    if state == "ok":
        body.update(detail)
    healthy = all(state == "ok" for state, _ in outcomes.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **body}, status=200 if healthy else 503
    )


@allow_unconfirmed
def media(request, path):
    """Uploaded files from local storage (generated names only; sent with nosniff)."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


def database_unavailable():
    """The friendly 503 page, rendered without the request (its context would query)."""
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "30"
    return response


def _leave_the_body_alone(request) -> None:
    """Error pages never parse the posted body.

    Django's handlers are wrapped in `requires_csrf_token`, which reads
    `request.POST`; a body that could not be parsed (a non-UTF-8 charset, a
    broken multipart boundary) would raise again there and turn a 400 into a
    500. A body already parsed is kept (its uploaded files are closed with it).
    """
    if request.method == "POST" and not hasattr(request, "_post"):
        request._mark_post_parse_error()  # an empty POST and FILES, as Django does itself


def _why_bad(exception) -> str:
    if isinstance(exception, RequestDataTooBig):
        kb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
        return f"What you sent is too large: the most a form here takes is {kb} KB."
    if isinstance(exception, TooManyFieldsSent):
        return "What you sent has too many fields for any form on this site."
    if isinstance(exception, TooManyFilesSent):
        return "What you sent has too many files for any form on this site."
    if "UTF-8" in str(exception):
        return "Forms must be sent as UTF-8; this one declared another character set."
    if isinstance(exception, MultiPartParserError):
        return "The form's parts could not be read (its multipart framing is broken)."
    return "The request could not be understood."


def bad_request(request, exception):
    """400 saying what was wrong, rendered without the request (nor its body)."""
    _leave_the_body_alone(request)
    return HttpResponseBadRequest(render_to_string("400.html", {"reason": _why_bad(exception)}))


def permission_denied(request, exception):
    _leave_the_body_alone(request)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    _leave_the_body_alone(request)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """500, unless the error is the database being unreachable: then 503."""
    if isinstance(sys.exc_info()[1], OperationalError):
        return database_unavailable()
    _leave_the_body_alone(request)
    return defaults.server_error(request)
