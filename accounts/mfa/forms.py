"""Forms of the second-factor pages: they validate; `accounts.mfa.services` acts."""

from django import forms

CREDENTIAL_MAX = 64 * 1024  # a WebAuthn answer is a few kilobytes at most


class CodeForm(forms.Form):
    """A code from the authenticator app (six digits) or a recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=64,
        help_text="The six digits your authenticator app shows, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )

    def clean_code(self):
        return self.cleaned_data["code"].strip()

    @property
    def is_totp(self) -> bool:
        code = "".join(self.cleaned_data["code"].split())
        return len(code) == 6 and code.isdigit()


class TotpSetupForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=12,
        help_text="Six digits, to show the app is set up.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )


class PasskeyAnswerForm(forms.Form):
    """What the browser's passkey prompt answered, put in the form by passkeys.js."""

    credential = forms.CharField(widget=forms.HiddenInput, max_length=CREDENTIAL_MAX)
    token = forms.CharField(widget=forms.HiddenInput, max_length=1000)


class PasskeyNameForm(forms.Form):
    """The name of a passkey being added; the browser's answer comes in `PasskeyAnswerForm`."""

    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="To tell your passkeys apart, e.g. “Laptop” or “Blue security key”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if "\x00" in name:
            raise forms.ValidationError("Please use printable characters only.")
        return name
