"""The admin site: open to members whose role has ADMIN.

It has no sign-in page of its own: the site's (with its limits and wording)
signs administrators in. A signed-in member without ADMIN gets the site's
403 page, not Django's "authenticated as … but not authorized".
"""

from functools import update_wrapper

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


class OffbrandAdminSite(admin.AdminSite):
    site_header = "Offbrand administration"
    site_title = "Offbrand admin"
    index_title = "Members and roles"

    def has_permission(self, request):
        return request.user.is_active and request.user.is_administrator()

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def refuse_members(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied("The administration is for administrators.")
            return inner(request, *args, **kwargs)

        return update_wrapper(refuse_members, inner)

    def login(self, request, extra_context=None):
        index = reverse("admin:index", current_app=self.name)
        target = request.GET.get("next", index)
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = index
        if request.user.is_authenticated:
            if self.has_permission(request):
                return redirect(target)
            raise PermissionDenied("The administration is for administrators.")
        return redirect_to_login(target, reverse("accounts:login"))
