"""The admin site: open to members whose role has ADMIN."""

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm

from accounts import ratelimits, services


class AdministratorAuthenticationForm(AdminAuthenticationForm):
    """Admit active members whose role has ADMIN; say nothing more to anyone else."""

    def confirm_login_allowed(self, user):
        if not user.is_active or not user.is_administrator():
            raise forms.ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class OffbrandAdminSite(admin.AdminSite):
    site_header = "Offbrand administration"
    site_title = "Offbrand admin"
    index_title = "Members and roles"
    login_form = AdministratorAuthenticationForm

    def login(self, request, extra_context=None):
        if request.method == "POST":
            refusal = services.login_refusal(request, request.POST.get("username", ""))
            if refusal:
                return ratelimits.too_many_requests(request, refusal)
        return super().login(request, extra_context)
