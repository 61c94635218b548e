"""The Django admin for members' content: read, search, hide and restore.

Posts and comments are read-only here: their HTML is rendered on write by
`social.services`, so an edit in a form would store a body that disagrees
with its HTML. Hiding and restoring go through the same service as the
site's moderation pages (a reason, a `ContentAction`, the rule about
administrators' content), never through a field save.

The lists are built for ten million rows: newest first by id (an index),
no date drill-down, no exact count of the whole table, sortable by id alone.
"""

from django import forms
from django.contrib import admin, messages
from django.core import validators
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.defaultfilters import truncatechars
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import ngettext

from accounts.forms import AdminModelForm
from accounts.models import Permission
from accounts.pagination import EstimatedCountPaginator
from accounts.sites import ActionForm, ReadOnlyAdmin
from social import services
from social.models import Comment, ContentAction, Post


class ReasonActionForm(ActionForm):
    """The changelist's action bar, with the reason a hide or restore records."""

    # No max_length here: an invalid action form makes Django say "No action
    # selected"; the service answers a long reason with a message that says why.
    reason = forms.CharField(
        label="Reason (the author sees it)",
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Nor a refusal of null characters, for the same reason: the service drops them.
        self.fields["reason"].validators = [
            validator
            for validator in self.fields["reason"].validators
            if not isinstance(validator, validators.ProhibitNullCharactersValidator)
        ]


class ContentAdmin(ReadOnlyAdmin):
    """What the post and comment pages share."""

    form = AdminModelForm
    action_form = ReasonActionForm
    actions = ["hide_selected", "restore_selected"]
    list_filter = ["hidden"]
    list_select_related = ["author"]
    list_per_page = 50
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    # A prefix search on the author's name, served by the username index. (No
    # search_help_text: axe reads its aria-describedby as the search box's only label.)
    search_fields = ["^author__username"]
    ordering = ["-id"]
    sortable_by = ["id"]

    @admin.display(description="Author", ordering="author__username")
    def author_name(self, content):
        return content.author.username

    @admin.display(description="Text")
    def excerpt(self, content):
        return truncatechars(content.body, 80)

    @admin.display(description="Moderate")
    def moderate_link(self, content):
        """One post or comment at a time: the site's own page, which asks for the reason."""
        action = "restore" if content.hidden else "hide"
        url = reverse(f"social:moderate_{self.model._meta.model_name}", args=[content.pk, action])
        return format_html('<a href="{}">{} it on the site…</a>', url, action.title())

    def has_moderate_permission(self, request):
        return request.user.can(Permission.MODERATE)

    @admin.action(description="Hide selected, with the reason above", permissions=["moderate"])
    def hide_selected(self, request, queryset):
        self._moderate(request, queryset, services.content_hide, "hidden")

    @admin.action(description="Restore selected", permissions=["moderate"])
    def restore_selected(self, request, queryset):
        self._moderate(request, queryset, services.content_restore, "restored")

    def _moderate(self, request, queryset, service, done: str) -> None:
        reason = request.POST.get("reason", "")
        changed, refused = 0, {}
        for content in queryset.select_related("author__role").order_by("-id"):
            try:
                service(actor=request.user, content=content, reason=reason)
            except (ValidationError, PermissionDenied) as error:
                message = error.messages[0] if isinstance(error, ValidationError) else str(error)
                refused[message] = refused.get(message, 0) + 1
            else:
                changed += 1
        if changed:
            what = self.model._meta
            self.message_user(
                request,
                ngettext("%(count)d %(one)s %(done)s.", "%(count)d %(many)s %(done)s.", changed)
                % {
                    "count": changed,
                    "one": what.verbose_name,
                    "many": what.verbose_name_plural,
                    "done": done,
                },
                messages.SUCCESS,
            )
        for message, count in refused.items():
            self.message_user(request, f"{message} ({count} left as they were)", messages.ERROR)


@admin.register(Post)
class PostAdmin(ContentAdmin):
    list_display = ["id", "author_name", "excerpt", "created_at", "edited_at", "hidden"]
    fields = [
        "author",
        "body",
        "created_at",
        "edited_at",
        "hidden",
        "hidden_reason",
        "hidden_by",
        "moderate_link",
    ]
    readonly_fields = ["moderate_link"]


@admin.register(Comment)
class CommentAdmin(ContentAdmin):
    list_display = ["id", "author_name", "excerpt", "post_id", "created_at", "hidden"]
    fields = [
        "author",
        "post",
        "body",
        "created_at",
        "hidden",
        "hidden_reason",
        "hidden_by",
        "moderate_link",
    ]
    readonly_fields = ["moderate_link"]


@admin.register(ContentAction)
class ContentActionAdmin(ReadOnlyAdmin):
    """The record of hides and restores: read-only, so the record stays true."""

    form = AdminModelForm

    list_display = ["created_at", "kind", "content_label", "member", "actor", "reason"]
    list_filter = ["kind"]
    list_select_related = ["member", "actor"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    ordering = ["-id"]
    sortable_by = ["created_at"]
