"""Site-wide failure handling."""

import logging

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
