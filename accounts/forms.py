"""Forms for the account flows: they validate; services act."""

import copy
import re
from functools import cache

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.core import validators
from django.forms.utils import pretty_name

from accounts import addresses, services
from accounts.addresses import plain_address, same_mailbox
from accounts.avatars import AvatarError, render_avatar
from accounts.edits import ShownValuesMixin
from accounts.emails import send_email
from accounts.models import USERNAME_TAKEN, User
from accounts.selectors import suspension_message
from accounts.username_characters import UsernameCharactersValidator

USERNAME_HELP = "Up to 150 characters: letters, digits and . + - _ only."
PASSWORD_HINT = (
    "At least 8 characters. A few unrelated words are easy to remember and hard to guess."
)
EMAIL_FORMAT = "Enter an email address in the correct format, like name@example.com."


class MailboxField(forms.EmailField):
    """An address a member's account may hold: one typed in plain characters
    at a domain name (`addresses.judged_address`), cleaned to its one stored
    spelling. Other spellings of a mailbox (`"carol"@…`, a wide or invisible
    character in the domain), letters no mail can carry (the Kelvin sign),
    domain literals (`x@[127.0.0.1]`), local names (`x@evil.localhost`) and
    domains IDNA forbids are refused."""

    default_error_messages = {
        addresses.NO_DOMAIN: "Use an address at a domain name, like name@example.com, "
        "not at an IP address in brackets or a local name (localhost, .local, .internal).",
        addresses.BAD_DOMAIN: "The part after @ is not a domain name mail can reach: "
        "check it for a typo.",
        addresses.NOT_PLAIN: "Type the email address in plain characters.",
    }

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        plain, problem = addresses.judged_address(value)
        if plain is None:
            raise forms.ValidationError(self.error_messages[problem], code=problem)
        return plain


class HumanErrorsMixin:
    """Error messages written for people, naming the field (the GOV.UK way).

    "Enter your email address" rather than "This field is required.", and a
    length limit in words. A form for someone else's account (or the admin's)
    says `whose = "the"`. Messages a form sets itself are kept. A label's
    aside, "Note (optional)", is left out of its messages.

    A field's messages are worked out once per process for what they depend
    on (the form's class, the field, its label, length, messages and
    validators as they stand after the form's own `__init__`), then copied:
    every sign-in builds a form (issue 16).
    """

    whose = "your"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")  # no label ends in a colon, the admin's too
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            messages, checks = _human_errors(self, name, field)
            field.error_messages, field.validators = dict(messages), list(checks)


# (form class, field, what it says) -> (its sources, kept alive so that their
# ids stay theirs; messages; validators). The label is read in the active
# language; the messages it is compared with are the same objects (lazy
# translations), so the words follow the language. Cleared when full: the
# admin makes form classes on the fly.
_HUMAN_ERRORS: dict[tuple, tuple] = {}
HUMAN_ERRORS_KEPT = 1024


def _human_errors(form, name: str, field) -> tuple[dict, list]:
    messages, checks = field.error_messages, field.validators
    key = (
        type(form),
        form.whose,
        name,
        type(field),
        str(field.label or pretty_name(name)),
        getattr(field, "max_length", None),
        tuple(messages),
        tuple(map(id, messages.values())),
        tuple(map(id, checks)),
    )
    kept = _HUMAN_ERRORS.get(key)
    if kept is None:
        if len(_HUMAN_ERRORS) >= HUMAN_ERRORS_KEPT:
            _HUMAN_ERRORS.clear()
        sources = (list(messages.values()), list(checks))
        kept = _HUMAN_ERRORS[key] = (sources, *_human_messages(form.whose, name, field))
    return kept[1], kept[2]


def _human_messages(whose: str, name: str, field) -> tuple[dict, list]:
    """The field's messages and validators in words."""
    defaults = forms.Field.default_error_messages
    label = re.sub(r"\s*\([^)]*\)$", "", str(field.label or pretty_name(name)))
    noun = label[0].lower() + label[1:]
    # "Type your post again", "Type the reason again".
    the_noun = noun if noun.startswith(("your ", "the ")) else f"the {noun}"
    messages = dict(field.error_messages)
    if messages.get("required") == defaults["required"]:
        if isinstance(field, forms.BooleanField):
            messages["required"] = f"Tick “{label}” to go on."
        elif isinstance(field, forms.ChoiceField | forms.ModelChoiceField):
            messages["required"] = f"Choose {whose} {noun}."
        elif isinstance(field, forms.FileField):
            messages["required"] = f"Choose a file for {whose} {noun}."
        else:
            messages["required"] = f"Enter {whose} {noun}."
    if getattr(field, "max_length", None) and "max_length" not in messages:
        messages["max_length"] = (
            f"{label} can be at most {field.max_length} characters long "
            "(this one has %(show_value)d)."
        )
    if isinstance(field, forms.EmailField):
        messages["invalid"] = EMAIL_FORMAT
    if isinstance(field, MailboxField):
        messages["not_plain"] = (
            f"Type {the_noun} in plain characters: it has a quote, or a letter "
            "that mail changes or can't carry (it may have come with copied text)."
        )
    checks = [
        validators.ProhibitNullCharactersValidator(
            f"Type {the_noun} again: it has a character that can't be typed "
            "(it may have come with copied text)."
        )
        if isinstance(validator, validators.ProhibitNullCharactersValidator)
        else validator
        for validator in field.validators
    ]
    return messages, checks


class AdminModelForm(HumanErrorsMixin, forms.ModelForm):
    """The base of the admin's model forms: messages in words, no colons."""

    whose = "the"


def password_field(label: str = "Password", autocomplete: str = "new-password"):
    """One password field with one short hint; the page adds a show-password toggle."""
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
        help_text=PASSWORD_HINT if autocomplete == "new-password" else "",
    )


class RegistrationForm(HumanErrorsMixin, auth_forms.SetPasswordMixin, forms.Form):
    """Sign up. A taken email address is not an error here, by design."""

    email = MailboxField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    username = auth_forms.UsernameField(
        max_length=150,
        validators=[UsernameCharactersValidator()],
        help_text=USERNAME_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password1 = password_field()

    def clean_username(self):
        username = self.cleaned_data["username"]
        problem = User.objects.username_problem(username)
        if problem:
            code = "username_taken" if problem == USERNAME_TAKEN else "username_refused"
            raise forms.ValidationError(problem, code=code)
        return username

    def clean(self):
        candidate = User(
            username=self.cleaned_data.get("username", ""),
            email=self.cleaned_data.get("email", ""),
        )
        # The error sits under the password field, the one it is about.
        self.validate_password_for_user(candidate, password_field_name="password1")
        return self.cleaned_data


class LoginForm(HumanErrorsMixin, auth_forms.AuthenticationForm):
    """Sign in with a username or an email address."""

    username = auth_forms.UsernameField(
        label="Username or email address",
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True}),
    )
    remember = forms.BooleanField(
        label="Remember me",
        required=False,
        help_text=f"Stay signed in on this device for {settings.OFFBRAND_REMEMBER_DAYS} days.",
    )
    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": "That username or email address and password don't match an "
        "account. Check them and try again: capital letters matter in the password only.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "webauthn": the browser may offer passkeys among the field's suggestions.
        self.fields["username"].widget.attrs["autocomplete"] = "username webauthn"
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"

    def confirm_login_allowed(self, user):
        if not user.is_active:
            raise forms.ValidationError(
                suspension_message(user, "you can't sign in"), code="inactive"
            )


class FieldsCopiedFast(dict):
    """A form class's fields, copied for each form as Django's `Field.__deepcopy__`
    and `Widget.__deepcopy__` copy them (the object's attributes, the widget's
    attrs, the messages and the validators), without `copy`'s generic machinery:
    Django deep-copies the fields of every form it builds, and `copy.copy` of a
    field or widget goes through `__reduce_ex__` (about 0.15 M instructions a
    sign-in, issue 16). A field or widget whose class copies itself otherwise
    is left to `copy.deepcopy`."""

    def __deepcopy__(self, memo):
        return {name: _field_copy(field, memo) for name, field in self.items()}


def _field_copy(field, memo):
    widget = field.widget
    plain = _copied_plainly(type(field), forms.Field)
    if not (plain and _copied_plainly(type(widget), forms.Widget)):
        return copy.deepcopy(field, memo)
    new_widget = _shallow(widget)
    new_widget.attrs = widget.attrs.copy()
    new = _shallow(field)
    new.widget = new_widget
    new.error_messages = field.error_messages.copy()
    new.validators = field.validators[:]
    memo[id(field)], memo[id(widget)] = new, new_widget
    return new


def _shallow(thing):
    """`copy.copy` of an object copied through its `__dict__`."""
    new = object.__new__(type(thing))
    new.__dict__.update(thing.__dict__)
    return new


@cache
def _copied_plainly(cls, base) -> bool:
    return (
        cls.__deepcopy__ is base.__deepcopy__
        and cls.__reduce_ex__ is object.__reduce_ex__
        and cls.__reduce__ is object.__reduce__
        and cls.__getstate__ is object.__getstate__
        and not hasattr(cls, "__copy__")
        and not hasattr(cls, "__slots__")
        and cls.__new__ is object.__new__
    )


LoginForm.base_fields = FieldsCopiedFast(LoginForm.base_fields)


class PasswordResetForm(HumanErrorsMixin, auth_forms.PasswordResetForm):
    """Django's reset form, sending through Offbrand's email pipeline."""

    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        send_email("password_reset", to=to_email, context=context, request=self.request)

    def get_users(self, email):
        """Django's choice, less any account whose stored address would not
        reach this mailbox (a Kelvin-sign `Kim@…` stored before member forms
        refused it is `kim@…` to PostgreSQL's lower(), but cannot be mailed).
        An address no account may hold now (`x@[127.0.0.1]`, stored before)
        is answered as an unknown one: no mail to a host of the asker's choosing."""
        if plain_address(email) is None:
            return iter(())
        return (user for user in super().get_users(email) if same_mailbox(user.email, email))

    def save(self, *args, request=None, **kwargs):
        self.request = request
        return super().save(*args, request=request, **kwargs)


class SetPasswordForm(HumanErrorsMixin, auth_forms.SetPasswordForm):
    """A new password in one field, its errors under it."""

    new_password1 = password_field("New password")
    new_password2 = None

    def clean(self):
        self.validate_password_for_user(self.user, "new_password1")
        return self.cleaned_data


class PasswordChangeForm(SetPasswordForm, auth_forms.PasswordChangeForm):
    """The current password (on the sign-in budget), then the new one in one field."""

    error_messages = {
        **auth_forms.PasswordChangeForm.error_messages,
        "password_incorrect": "That isn't your current password. Check it and try again.",
    }
    old_password = password_field("Current password", autocomplete="current-password")
    field_order = ["old_password", "new_password1"]

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        if not current_password_is_right(self.request, self.user, old_password):
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class EmailChangeForm(HumanErrorsMixin, forms.Form):
    new_email = MailboxField(
        label="New email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        label="Current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="To make sure it's you.",
    )

    def __init__(self, user, *args, request=None, **kwargs):
        self.user = user
        self.request = request
        super().__init__(*args, **kwargs)

    def clean_new_email(self):
        new_email = self.cleaned_data["new_email"]
        if new_email.strip().casefold() == self.user.email.casefold():
            raise forms.ValidationError("That is already your address.", code="same_email")
        # A taken address is not an error here, as at registration: the
        # service mails its owner instead, so the answer reveals nothing.
        return new_email

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not current_password_is_right(self.request, self.user, password):
            raise forms.ValidationError(
                "That isn't your current password. Check it and try again.",
                code="password_incorrect",
            )
        return password


def current_password_is_right(request, user, password: str) -> bool:
    """A "current password" field, checked on the account's sign-in budget
    (a refusal becomes the sign-in 429 through `SignInBudgetMiddleware`)."""
    checked = services.account_password_check(request=request, user=user, password=password)
    return checked == services.PasswordCheck.RIGHT


class ProfileForm(HumanErrorsMixin, ShownValuesMixin, forms.ModelForm):
    """What a member may change about themselves: name, about me, avatar. Nothing else."""

    avatar_upload = forms.FileField(
        label="Upload a photo",
        required=False,
        help_text="A PNG, JPEG, GIF or WebP picture up to 2 MB; it is cropped to a square.",
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
    )
    remove_avatar = forms.BooleanField(
        label="Remove my photo",
        required=False,
        help_text="You get a generated picture instead.",
    )

    class Meta:
        model = User
        fields = ["first_name", "last_name", "about_me"]
        widgets = {"about_me": forms.Textarea(attrs={"rows": 6})}
        help_texts = {"about_me": "Up to 2,000 characters. Line breaks are kept."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.avatar:  # nothing uploaded, nothing to remove
            del self.fields["remove_avatar"]
        size_mb = settings.OFFBRAND_AVATAR_MAX_BYTES / (1024 * 1024)
        self.fields[
            "avatar_upload"
        ].help_text = (
            f"A PNG, JPEG, GIF or WebP picture up to {size_mb:g} MB; it is cropped to a square."
        )

    def clean_avatar_upload(self):
        upload = self.cleaned_data.get("avatar_upload")
        if not upload:
            return None
        try:
            return render_avatar(upload, max_bytes=settings.OFFBRAND_AVATAR_MAX_BYTES)
        except AvatarError as error:
            raise forms.ValidationError(str(error), code="bad_avatar") from error


class MemberAdminForm(HumanErrorsMixin, ShownValuesMixin, forms.ModelForm):
    """An administrator's edit of a member, validated like every other form."""

    whose = "the"

    class Meta:
        model = User
        fields = [
            "username",
            "email",
            "first_name",
            "last_name",
            "about_me",
            "role",
            "confirmed",
            "is_active",
        ]
        labels = {"is_active": "Active (not suspended)"}
        help_texts = {
            "role": "Staff and superuser status are the role's ADMIN flag: give the "
            "Administrator role (or a role with ADMIN) to make an administrator.",
        }
        # Normalised (NFKC) before validation, as at registration: "¼" becomes
        # "1⁄4" and is refused, rather than saved and normalised afterwards.
        field_classes = {"username": auth_forms.UsernameField, "email": MailboxField}
        widgets = {"about_me": forms.Textarea(attrs={"rows": 4})}

    reason = forms.CharField(
        label="Reason for the change (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded with a change of role, address, about me or active state; "
        "a suspended member is shown it.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].required = True
        self.fields["role"].empty_label = None

    # Taken, look-alike and `@` usernames: `User.clean`, as in the Django admin.


class ModerationForm(HumanErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="Reason (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded with the action; a suspended member is shown it.",
    )


class ReauthenticateForm(HumanErrorsMixin, forms.Form):
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class AccountDeleteForm(HumanErrorsMixin, forms.Form):
    username = forms.CharField(
        label="Type your username to confirm",
        help_text="Deleting cannot be undone.",
        error_messages={"required": "Type your username to confirm."},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_username(self):
        username = self.cleaned_data["username"]
        if username.strip().casefold() != self.user.username.casefold():
            raise forms.ValidationError("That isn't your username.", code="username_mismatch")
        return username


class FactorRemovalForm(HumanErrorsMixin, forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded on the member's record and sent to them by email.",
        error_messages={
            "max_length": "The reason can be at most 1000 characters long "
            "(this one has %(show_value)d)."
        },
    )

    def __init__(self, *args, member: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].error_messages["required"] = (
            f"Say why you are removing {member.username}’s second factors: "
            "they are sent the reason."
        )
