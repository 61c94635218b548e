"""The admin site: open to members whose role has ADMIN."""

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.mfa import flows as mfa_flows
from accounts.mfa import services as mfa_services


class AdministratorAuthenticationForm(AdminAuthenticationForm):
    """Admit active members whose role has ADMIN; say nothing more to anyone else."""

    def confirm_login_allowed(self, user):
        if not user.is_active or not user.is_administrator():
            raise forms.ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class AdminLoginView(auth_views.LoginView):
    """Django's admin sign-in, with the site's second-factor step after the password."""

    def form_valid(self, form):
        user = form.get_user()
        if mfa_services.has_factors(user):
            mfa_flows.login_begin(
                self.request, user, remember=False, next_url=self.get_success_url()
            )
            return redirect("mfa:authenticate")
        return super().form_valid(form)


class OffbrandAdminSite(admin.AdminSite):
    site_header = "Offbrand administration"
    site_title = "Offbrand admin"
    index_title = "Members and roles"
    login_form = AdministratorAuthenticationForm

    def login(self, request, extra_context=None):
        """Django's `AdminSite.login`, through `AdminLoginView`."""
        redirect_url = auth_views.LoginView().get_redirect_url(request) or reverse(
            "admin:index", current_app=self.name
        )
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(redirect_url)
        context = {
            **self.each_context(request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
            REDIRECT_FIELD_NAME: redirect_url,
            **(extra_context or {}),
        }
        request.current_app = self.name
        return AdminLoginView.as_view(
            extra_context=context,
            authentication_form=self.login_form,
            template_name=self.login_template or "admin/login.html",
        )(request)
