from django.apps import AppConfig


class MfaConfig(AppConfig):
    """Second factors: passkeys, an authenticator app, recovery codes."""

    name = "accounts.mfa"
    label = "mfa"
    verbose_name = "Second factors"
    default_auto_field = "django.db.models.BigAutoField"
