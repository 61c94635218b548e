"""Site-wide pages: the landing page and the health check."""

import logging
import sys

from django.conf import settings
from django.db import DatabaseError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView
from django.views.static import serve

from accounts.mixins import UnconfirmedAllowedMixin, allow_unconfirmed
from accounts.models import Role
from social import selectors
from social.views import FeedView

logger = logging.getLogger(__name__)


class IndexView(UnconfirmedAllowedMixin, TemplateView):
    """Signed-in members land on their feed; visitors on what Offbrand is, with recent posts."""

    template_name = "index.html"

    def get(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.confirmed:
            return FeedView.as_view()(request, *args, **kwargs)
        return super().get(request, *args, **kwargs)

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


@allow_unconfirmed
@never_cache
def healthz(request):
    """200 while the database answers, 503 when it does not (for load balancers)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        logger.warning("Health check: database unavailable: %s", error)
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@allow_unconfirmed
def media(request, path):
    """Uploaded files from local storage (generated names only; sent with nosniff)."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


def database_unavailable():
    """The friendly 503 page, rendered without the request (its context would query)."""
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "30"
    return response


def server_error(request):
    """500, unless the error is the database being unreachable: then 503."""
    if isinstance(sys.exc_info()[1], OperationalError):
        return database_unavailable()
    return defaults.server_error(request)
