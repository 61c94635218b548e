"""The Django admin: staff manage members and roles here."""

from contextvars import ContextVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.db.models import Count
from django.utils.translation import ngettext

from accounts import services
from accounts.models import ModerationAction, Permission, Role, User
from accounts.pagination import EstimatedCountPaginator


class RoleAdminForm(forms.ModelForm):
    """Edit a role's permission bits as named checkboxes."""

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

    @admin.display(description="Permissions")
    def permission_list(self, role):
        return role.permission_summary

    @admin.display(description="Members", ordering="user_count")
    def user_count(self, role):
        return role.user_count


class AdminUserCreationForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "email"]


# The administrator at work in this request: Django's admin builds its
# password form without the request, and the change is recorded with its actor.
acting_administrator: ContextVar[User | None] = ContextVar("acting_administrator", default=None)


class AdminPasswordForm(AdminPasswordChangeForm):
    """Django's admin password form, writing the password column alone,
    voiding the member's pending links and recording who did it
    (`services.user_set_password`)."""

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


class AdminMemberChangeForm(UserChangeForm):
    reason = forms.CharField(
        label="Reason for the change",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded with a change of role, address, about me or active state; "
        "a suspended member is shown it.",
    )


class ModerationActionInline(admin.TabularInline):
    """Shown with the site's own record table (one format for dates and names)."""

    template = "admin/accounts/moderation_record_inline.html"
    model = ModerationAction
    fk_name = "member"
    fields = ["created_at", "kind", "detail", "actor", "via", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ModerationAction)
class ModerationActionAdmin(admin.ModelAdmin):
    """The moderation log: read-only, so the record stays true."""

    list_display = ["created_at", "kind", "detail", "member_name", "actor_name", "via", "reason"]
    list_filter = ["kind", "via"]
    list_select_related = ["member", "actor"]
    search_fields = ["member__username", "actor__username", "reason"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = AdminUserCreationForm
    form = AdminMemberChangeForm
    change_password_form = AdminPasswordForm
    inlines = [ModerationActionInline]
    list_display = ["username", "email", "role", "confirmed", "is_active", "last_seen"]
    list_filter = ["role", "confirmed", "is_active"]
    list_select_related = ["role"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    # Prefix search: served by an index at any number of members.
    search_fields = ["^username", "^email"]
    ordering = ["username"]
    actions = ["mark_confirmed"]
    readonly_fields = ["last_seen", "date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Profile", {"fields": ["first_name", "last_name", "email", "about_me"]}),
        (
            "Access",
            {
                "fields": ["role", "confirmed", "is_active", "reason"],
                "description": "Staff and superuser status are the role's ADMIN flag: "
                "give the Administrator role (or a role with ADMIN) to make an administrator.",
            },
        ),
        ("Dates", {"fields": ["date_joined", "last_login", "last_seen"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["username", "email", "password1", "password2"],
            },
        )
    ]

    def save_model(self, request, obj, form, change):
        """Write only the fields the administrator changed (never the whole
        row loaded before a concurrent suspension, reset or profile save)."""
        if not change:
            return super().save_model(request, obj, form, change)
        concrete = {field.name for field in User._meta.concrete_fields}
        services.member_save_fields(
            member=obj,
            fields=[name for name in form.changed_data if name in concrete],
            actor=request.user,
            via=services.Via.ADMIN,
            reason=form.cleaned_data.get("reason", ""),
        )

    def user_change_password(self, request, id, form_url=""):
        token = acting_administrator.set(request.user)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            acting_administrator.reset(token)

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
