"""Forms for posts, comments and moderation: messages in words (`HumanErrorsMixin`)."""

from types import MappingProxyType

from django import forms
from django.utils.functional import cached_property

from accounts.forms import HumanErrorsMixin
from social.models import COMMENT_MAX_LENGTH, POST_MAX_LENGTH, REASON_MAX_LENGTH


class BlankForm:
    """An empty `form_class()` for a page, made only when its HTML is not already kept.

    Making a form (its fields copied, their messages written) cost more than
    rendering the kept compose box; `{% blank_form_fields %}` makes it only for a
    class not yet rendered. It stands in for an unbound form with no errors.
    """

    is_bound = False
    errors = MappingProxyType({})  # read by base.html's title

    def __init__(self, form_class):
        self.form_class = form_class
        self.renders_alike_when_blank = getattr(form_class, "renders_alike_when_blank", False)

    @cached_property
    def form(self):
        return self.form_class()


class PostForm(HumanErrorsMixin, forms.Form):
    # Empty, it renders the same for everyone: the compose box keeps its HTML
    # (`{% blank_form_fields %}`, social/templatetags/posts.py).
    renders_alike_when_blank = True

    body = forms.CharField(
        label="Your post",
        max_length=POST_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=(
            f"Up to {POST_MAX_LENGTH:,} characters. Links become clickable; "
            "*italic*, **bold**, `code`, lists and > quotes work."
        ),
        error_messages={
            "required": "Your post is empty.",
            "max_length": "Your post is %(show_value)s characters long; "
            "the most is %(limit_value)s.",
        },
    )


class CommentForm(HumanErrorsMixin, forms.Form):
    body = forms.CharField(
        label="Your comment",
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"Up to {COMMENT_MAX_LENGTH:,} characters.",
        error_messages={
            "required": "Your comment is empty.",
            "max_length": "Your comment is %(show_value)s characters long; "
            "the most is %(limit_value)s.",
        },
    )


class HideForm(HumanErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=REASON_MAX_LENGTH,
        help_text="The author sees this reason.",
        error_messages={
            "required": "Say why you are hiding it: the author will see the reason.",
            "max_length": f"The reason can be at most {REASON_MAX_LENGTH} characters long "
            "(this one has %(show_value)d).",
        },
    )


class RestoreForm(HumanErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="Note (optional)",
        max_length=REASON_MAX_LENGTH,
        required=False,
        error_messages={
            "max_length": f"The note can be at most {REASON_MAX_LENGTH} characters long "
            "(this one has %(show_value)d).",
        },
    )
