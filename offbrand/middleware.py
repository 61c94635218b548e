"""Site-wide failure handling and response headers."""

import logging

from django.conf import settings
from django.db import OperationalError

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
