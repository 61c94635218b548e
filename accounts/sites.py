"""The admin site: open to members whose role has ADMIN.

It has no sign-in page or password form of its own: the site's (with its
limits and wording) sign administrators in and change their password. A
signed-in member without ADMIN gets the site's 403 page, not Django's
"authenticated as … but not authorized".
"""

from functools import update_wrapper

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


class ActionForm(helpers.ActionForm):
    """A list's action bar, labelled like every form here: no colon after the label."""

    action = forms.ChoiceField(label="Action")


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record's pages: read, never added, changed or deleted, so the record stays true."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OffbrandAdminSite(admin.AdminSite):
    site_header = "Offbrand administration"
    site_title = "Offbrand admin"
    index_title = "Members and roles"

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every list, other apps' too, gets the action bar above unless it has its own."""
        super().register(model_or_iterable, admin_class, **options)
        for model_admin in self._registry.values():
            if model_admin.action_form is helpers.ActionForm:
                model_admin.action_form = ActionForm

    def has_permission(self, request):
        return request.user.is_active and request.user.is_administrator()

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        def refuse_members(request, *args, **kwargs):
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied("The administration is for administrators.")
            if tampered_selection(view, request):
                messages.error(request, "Select items from the list, then choose an action.")
                return redirect(request.get_full_path())
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

    def password_change(self, request, extra_context=None):
        """The site's form: its re-authentication, limits and messages (not Django's)."""
        return redirect("accounts:password_change")

    def password_change_done(self, request, extra_context=None):
        return redirect("accounts:password_change")


def tampered_selection(view, request) -> bool:
    """A list action posted with ids that are not ids of the model.

    Django's admin filters by the posted ids as they come, so a tampered one
    ("x", or a number past the column's range) fails in the ORM with a 500.
    Checked here, for every model's list."""
    model_admin = getattr(view, "__self__", None)
    if request.method != "POST" or not isinstance(model_admin, admin.ModelAdmin):
        return False
    pk = model_admin.model._meta.pk
    try:
        ids = [pk.to_python(value) for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)]
    except ValidationError:
        return True
    if pk.get_internal_type() not in connection.ops.integer_field_ranges:
        return False  # a UUID (the task results) has no range to be past
    low, high = connection.ops.integer_field_range(pk.get_internal_type())
    return any(isinstance(id_, int) and not low <= id_ <= high for id_ in ids)
