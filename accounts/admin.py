"""The Django admin: staff manage members and roles here."""

from contextvars import ContextVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import ngettext

from accounts import ratelimits, selectors, services
from accounts.edits import EditConflict, ShownValuesMixin, lock_unchanged_elsewhere
from accounts.forms import (
    PASSWORD_HINT,
    USERNAME_HELP,
    AdminModelForm,
    HumanErrorsMixin,
    MailboxField,
)
from accounts.models import ModerationAction, Permission, Role, User
from accounts.pagination import EstimatedCountPaginator
from accounts.sites import ReadOnlyAdmin


class RoleAdminForm(HumanErrorsMixin, ShownValuesMixin, forms.ModelForm):
    """Edit a role's permission bits as named checkboxes.

    Only what the administrator changed on the page they saw is saved
    (`accounts.edits`; `RoleAdmin.save_model`): another administrator's
    change made meanwhile stands, and a field both changed is refused.
    """

    shown_fields = ["name", "default", "permission_flags"]

    whose = "the"

    permission_flags = forms.TypedMultipleChoiceField(
        label="Permissions",
        choices=[(flag.value, flag.name.title()) for flag in Permission],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Role
        fields = ["name", "default"]
        error_messages = {"name": {"unique": "There is already a role with that name."}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permission_flags"].initial = [
            flag.value for flag in Permission if self.instance.grants(flag)
        ]

    def clean_default(self):
        default = self.cleaned_data["default"]
        was_default = self.instance.pk and Role.objects.filter(pk=self.instance.pk, default=True)
        if not default and was_default and was_default.exists():
            raise forms.ValidationError(
                "New members need a default role: make another role the default instead.",
                code="default_required",
            )
        return default

    def current_values(self, instance) -> dict:
        flags = [flag.value for flag in Permission if instance.grants(flag)]
        return {**super().current_values(instance), "permission_flags": flags}

    def full_clean(self):
        super().full_clean()
        # The admin validates and saves a change inside one transaction: the lock
        # taken here holds until `save_model` has written.
        if self.is_bound and self.instance.pk and not self._errors:
            try:
                lock_unchanged_elsewhere(self)
            except EditConflict as conflict:
                self.show_conflict(conflict)

    def changed_columns(self) -> list[str]:
        return ["permissions" if name == "permission_flags" else name for name in self.changed_data]

    def save(self, commit=True):
        self.instance.permissions = sum(self.cleaned_data["permission_flags"])
        return super().save(commit)


# Offbrand's access is by role; Django's groups would be a second, unused system.
admin.site.unregister(Group)


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    form = RoleAdminForm
    fields = ["name", "default", "permission_flags"]
    list_display = ["name", "default", "permission_list", "user_count"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(user_count=Count("users"))

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        if columns := form.changed_columns():
            obj.save(update_fields=columns)  # the rest may have changed meanwhile
        return None

    @admin.display(description="Permissions")
    def permission_list(self, role):
        return role.permission_summary

    @admin.display(description="Members", ordering="user_count")
    def user_count(self, role):
        return role.user_count


class AdminUserCreationForm(HumanErrorsMixin, UserCreationForm):
    """The admin's "add user", with messages in words like the site's forms."""

    whose = "the"

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "email"]
        field_classes = {**UserCreationForm.Meta.field_classes, "email": MailboxField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The site's short hints, not Django's "Required. 150 characters or fewer." and list.
        self.fields["username"].help_text = USERNAME_HELP
        self.fields["password1"].help_text = PASSWORD_HINT
        self.fields["password2"].help_text = "The same password again, to check it."

    def clean_username(self):
        # Django's check of a taken name leaves the name None, which `User.clean`
        # then fails on (a 500); `User.clean` judges taken and look-alike names.
        return self.cleaned_data["username"]


# The administrator at work in this request: Django's admin builds its
# password form without the request, and the change is recorded with its actor.
acting_administrator: ContextVar[User | None] = ContextVar("acting_administrator", default=None)


class AdminPasswordForm(HumanErrorsMixin, AdminPasswordChangeForm):
    """Django's admin password form, writing the password column alone,
    voiding the member's pending links and recording who did it
    (`services.user_set_password`)."""

    whose = "the"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = PASSWORD_HINT

    def save(self, commit=True):
        usable = self.cleaned_data.get("set_usable_password", True)
        password = self.cleaned_data["password1"] if usable else None
        services.user_set_password(
            user=self.user,
            password=password,
            actor=acting_administrator.get(),
            via=services.Via.ADMIN,
        )
        return self.user


@admin.register(ModerationAction)
class ModerationActionAdmin(ReadOnlyAdmin):
    """The moderation log: read-only, so the record stays true."""

    form = AdminModelForm

    list_display = ["created_at", "kind", "detail", "member_name", "actor_name", "via", "reason"]
    list_filter = ["kind", "via"]
    list_select_related = ["member", "actor"]
    search_fields = ["member__username", "actor__username", "reason"]
    date_hierarchy = "created_at"


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """The member list, bulk actions, adding a member and setting a password.

    One member editor: a member's change page here is the site's editor
    (`accounts.views.MemberEditView`, `member_edit`), which leads back to this
    list as it was filtered. So every edit of a member is validated, written
    (only the changed fields) and recorded in one place.
    """

    add_form = AdminUserCreationForm
    change_password_form = AdminPasswordForm
    list_display = ["username", "email", "role", "confirmed", "is_active", "last_seen"]
    list_filter = ["role", "confirmed", "is_active"]
    list_select_related = ["role"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    # Prefix search: served by an index at any number of members.
    search_fields = ["^username", "^email"]
    ordering = ["username"]
    actions = ["mark_confirmed"]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["username", "email", "password1", "password2"],
            },
        )
    ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """To the site's member editor, for GET and POST alike (nothing is saved
        here), with the way back to this list as it was filtered."""
        member = self.get_object(request, unquote(object_id))
        if member is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, member):
            raise PermissionDenied
        back = reverse("admin:accounts_user_changelist")
        if filters := request.GET.get("_changelist_filters"):
            back = f"{back}?{filters}"
        editor = reverse("member_edit", args=[member.username])
        return redirect(f"{editor}?{urlencode({'next': back})}")

    def user_change_password(self, request, id, form_url=""):
        token = acting_administrator.set(request.user)
        try:
            response = super().user_change_password(request, id, form_url)
        finally:
            acting_administrator.reset(token)
        if (
            request.method == "POST"
            and response.status_code == 302
            and str(id) == str(request.user.pk)
        ):
            # Her own new password revoked every browser's trust but this one's (attack F3).
            ratelimits.trust_device(request, selectors.user_with_role(id))
        return response

    @admin.action(description="Mark selected members as confirmed")
    def mark_confirmed(self, request, queryset):
        count = services.members_update(
            members=queryset, actor=request.user, via=services.Via.ADMIN_BULK, confirmed=True
        )
        self.message_user(
            request,
            ngettext("%d member confirmed.", "%d members confirmed.", count) % count,
            messages.SUCCESS,
        )

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location)
        for role in Role.objects.all():
            name = f"set_role_{role.pk}"
            # The admin formats descriptions with `%`: an operator's role name is data.
            description = f"Set role of selected members to {role.name}".replace("%", "%%")
            actions[name] = (self._set_role_action(role), name, description)
        return actions

    def _set_role_action(self, role):
        def set_role(modeladmin, request, queryset):
            count = queryset.count()  # all of them have the role now, changed or not
            services.members_update(
                members=queryset, actor=request.user, via=services.Via.ADMIN_BULK, role=role
            )
            self.message_user(
                request,
                ngettext(
                    "%(count)d member is now %(role)s.",
                    "%(count)d members are now %(role)s.",
                    count,
                )
                % {"count": count, "role": role.name},
                messages.SUCCESS,
            )

        return set_role
