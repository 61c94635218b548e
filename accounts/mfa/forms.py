"""Forms of the second-factor pages: they validate; `accounts.mfa.services` acts.

Their messages say what to type, in words (`HumanErrorsMixin`), never Django's
defaults.
"""

from django import forms

from accounts.forms import HumanErrorsMixin

CREDENTIAL_MAX = 64 * 1024  # a WebAuthn answer is a few kilobytes at most
APP_CODE_FORMAT = "The code is 6 digits, like 123456."


class CodeForm(HumanErrorsMixin, forms.Form):
    """A code from the authenticator app (six digits), or a recovery code where
    `recovery_codes` says they are taken (the sign-in's second step)."""

    code = forms.CharField(
        label="Code",
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, recovery_codes: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        if recovery_codes:
            field.help_text = (
                "The six digits your authenticator app shows, or one of your recovery codes."
            )
            field.error_messages["required"] = (
                "Enter the 6-digit code from your authenticator app, or one of your recovery codes."
            )
            field.error_messages["max_length"] = (
                "That is too long for a code: the app shows 6 digits, "
                "and a recovery code is 11 characters, like abcde-fghjk."
            )
        else:
            field.help_text = "The six digits your authenticator app shows."
            field.error_messages["required"] = "Enter the 6-digit code from your authenticator app."
            field.error_messages["max_length"] = (
                "That is too long for a code: the app shows 6 digits, like 123456."
            )

    def clean_code(self):
        return self.cleaned_data["code"].strip()

    @property
    def is_totp(self) -> bool:
        code = "".join(self.cleaned_data["code"].split())
        return len(code) == 6 and code.isdigit()


class TotpSetupForm(HumanErrorsMixin, forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=12,
        help_text="Six digits, to show the app is set up.",
        error_messages={
            "required": "Enter the 6-digit code your authenticator app shows.",
            "max_length": APP_CODE_FORMAT,
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())  # "123 456" as some apps show it
        if len(code) != 6 or not code.isdigit():
            raise forms.ValidationError(APP_CODE_FORMAT, code="format")
        return code


class PasskeyAnswerForm(forms.Form):
    """What the browser's passkey prompt answered, put in the form by passkeys.js.
    Hidden: the page says "Your browser did not answer" instead of its errors."""

    credential = forms.CharField(widget=forms.HiddenInput, max_length=CREDENTIAL_MAX)
    token = forms.CharField(widget=forms.HiddenInput, max_length=1000)


class PasskeyNameForm(HumanErrorsMixin, forms.Form):
    """The name of a passkey being added; the browser's answer comes in `PasskeyAnswerForm`."""

    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="To tell your passkeys apart, e.g. “Laptop” or “Blue security key”.",
        error_messages={
            "required": "Enter a name for this passkey, such as “Laptop”.",
            "max_length": "A passkey’s name can be at most 100 characters long "
            "(this one has %(show_value)d).",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
