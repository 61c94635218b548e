"""Site-wide failure handling and response headers."""

import logging

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.db import OperationalError
from django.http import HttpResponse

from accounts import ratelimits
from offbrand.views import database_unavailable

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    """Answer a friendly 503 while the database cannot be reached.

    Errors raised in middleware reach `handler500` (`offbrand.views.server_error`)
    instead, which answers the same page. With CONN_HEALTH_CHECKS on, the next
    request after the database returns opens a fresh connection, so the site
    recovers by itself.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError):
            return None
        logger.error("Database unavailable: %s", exception)
        return database_unavailable()


class PermissionsPolicyMiddleware:
    """Send `Permissions-Policy` (settings.PERMISSIONS_POLICY): the browser
    features no Offbrand page uses stay off, also for anything injected."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = ", ".join(
            f"{feature}=({' '.join(origins)})"
            for feature, origins in settings.PERMISSIONS_POLICY.items()
        )

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.header)
        return response


class RefuseFilesHandler(FileUploadHandler):
    """Stops the parse at the first file part, before a byte of it is stored."""

    def new_file(self, *args, **kwargs):
        self.request.offbrand_refused_file = True
        # connection_reset: the rest of the body is not read (nor streamed to disk).
        raise StopUpload(connection_reset=True)

    def receive_data_chunk(self, raw_data, start):
        return raw_data

    def file_complete(self, file_size):
        return None


class FileUploadGuardMiddleware:
    """A file sent to a page that takes none is refused at its first byte (413).

    Django would otherwise stream it to memory and then to a temporary file
    while reading `request.POST`. Views that take files say so with
    `accepts_files = True` (the class, or the function for function views).
    Must come before CsrfViewMiddleware, which reads the POST data.
    A view's `refusal_before_body` may hold a per-member lock (`one_at_a_time`);
    it is let go here once the response is made.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            ratelimits.release_holds(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST":
            return None
        if accepts_files(view_func):
            # A body larger than the largest file the view takes, plus its form,
            # is refused from its Content-Length, before a byte of it is read.
            limit = upload_limit()
            if declared_length(request.META) > limit:
                return HttpResponse(
                    f"The upload is larger than {limit // 1024} KB.",
                    status=413,
                    content_type="text/plain",
                )
            # A limit already used up answers before the body is read, too.
            view_class = getattr(view_func, "view_class", None)
            refusal = getattr(view_class, "refusal_before_body", None)
            return refusal(request, carries_file=carries_file(request.META)) if refusal else None
        if not request.content_type.startswith("multipart/"):
            return None
        request.upload_handlers = [RefuseFilesHandler(request)]
        _ = request.POST  # parse now, with the guard in place
        if getattr(request, "offbrand_refused_file", False):
            return HttpResponse(
                "This page takes no file upload.", status=413, content_type="text/plain"
            )
        return None


def upload_limit() -> int:
    """The largest body a view that takes files reads: its largest file plus the
    form beside it (the site's form limit, settings.py)."""
    return settings.OFFBRAND_AVATAR_MAX_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def declared_length(meta) -> int:
    """The body's declared length, from the WSGI environ (`request.META`)."""
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def carries_file(meta) -> bool:
    """A body larger than a form alone (and not over the upload limit, answered
    413) carries a picture worth decoding. `meta`: the WSGI environ (`request.META`),
    so `offbrand.refusal_gate` asks it before Django builds a request."""
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE < declared_length(meta) <= upload_limit()


def accepts_files(view_func) -> bool:
    view_class = getattr(view_func, "view_class", None)
    return bool(getattr(view_func, "accepts_files", getattr(view_class, "accepts_files", False)))
