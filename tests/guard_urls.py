"""A small view per permission flag, guarded each way, for the guard tests."""

from django.http import HttpResponse
from django.urls import path
from django.views import View

from accounts.mixins import (
    AdminRequiredMixin,
    PermissionRequiredMixin,
    UnconfirmedAllowedMixin,
    admin_required,
    allow_unconfirmed,
    permission_required,
)
from accounts.models import Permission
from offbrand.urls import urlpatterns as site_urlpatterns


def class_view(flag):
    class Guarded(PermissionRequiredMixin, View):
        permission_required = flag

        def get(self, request):
            return HttpResponse(f"class {flag.name}")

    return Guarded.as_view()


def function_view(flag):
    @permission_required(flag)
    def guarded(request):
        return HttpResponse(f"function {flag.name}")

    return guarded


class AdminOnly(AdminRequiredMixin, View):
    def get(self, request):
        return HttpResponse("admin class")


@admin_required
def admin_only(request):
    return HttpResponse("admin function")


class OpenToUnconfirmed(UnconfirmedAllowedMixin, View):
    def get(self, request):
        return HttpResponse("open class")


@allow_unconfirmed
def open_to_unconfirmed(request):
    return HttpResponse("open function")


def closed_to_unconfirmed(request):
    return HttpResponse("closed function")


urlpatterns = [
    # Named like a page the gate used to let through by name: the view decides now.
    path("guard/unconfirmed/closed/", closed_to_unconfirmed, name="healthz"),
    path("guard/unconfirmed/class/", OpenToUnconfirmed.as_view()),
    path("guard/unconfirmed/function/", open_to_unconfirmed),
    *site_urlpatterns,
    *(path(f"guard/class/{flag.name}/", class_view(flag)) for flag in Permission),
    *(path(f"guard/function/{flag.name}/", function_view(flag)) for flag in Permission),
    path("guard/admin/class/", AdminOnly.as_view()),
    path("guard/admin/function/", admin_only),
]
