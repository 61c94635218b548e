"""Forms for the account flows: they validate; services act."""

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.validators import UnicodeUsernameValidator

from accounts.emails import send_email
from accounts.models import User, iexact

USERNAME_HELP = "Up to 150 characters: letters, digits and @ . + - _ only."


class RegistrationForm(auth_forms.SetPasswordMixin, forms.Form):
    """Sign up. A taken email address is not an error here, by design."""

    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    username = auth_forms.UsernameField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=USERNAME_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password1, password2 = auth_forms.SetPasswordMixin.create_password_fields()

    def clean_username(self):
        username = self.cleaned_data["username"]
        if User.objects.filter(iexact("username", username)).exists():
            raise forms.ValidationError(
                "A user with that username already exists.", code="username_taken"
            )
        return username

    def clean(self):
        self.validate_passwords()
        candidate = User(
            username=self.cleaned_data.get("username", ""),
            email=self.cleaned_data.get("email", ""),
        )
        self.validate_password_for_user(candidate)
        return self.cleaned_data


class LoginForm(auth_forms.AuthenticationForm):
    """Sign in with a username or an email address."""

    username = auth_forms.UsernameField(
        label="Username or email",
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    remember = forms.BooleanField(
        label="Remember me",
        required=False,
        help_text=f"Stay signed in on this device for {settings.OFFBRAND_REMEMBER_DAYS} days.",
    )
    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": "That username or email and password don't match an account. "
        "Both are case-insensitive except the password.",
        "inactive": "This account is suspended, so it can't sign in.",
    }


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, sending through Offbrand's email pipeline."""

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

    def save(self, *args, request=None, **kwargs):
        self.request = request
        return super().save(*args, request=request, **kwargs)


class EmailChangeForm(forms.Form):
    new_email = forms.EmailField(
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

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_new_email(self):
        new_email = self.cleaned_data["new_email"]
        if new_email.strip().casefold() == self.user.email.casefold():
            raise forms.ValidationError("That is already your address.", code="same_email")
        if User.objects.filter(iexact("email", new_email)).exclude(pk=self.user.pk).exists():
            raise forms.ValidationError(
                "That address belongs to another account.", code="email_taken"
            )
        return new_email

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(
                "Your password was entered incorrectly.", code="password_incorrect"
            )
        return password
