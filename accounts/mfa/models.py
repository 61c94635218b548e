"""A member's second factors: passkeys, an authenticator app (TOTP), recovery codes.

Secrets that prove a factor stay here; nothing in `accounts` reads them.
"""

from django.conf import settings
from django.db import models


class Passkey(models.Model):
    """A WebAuthn credential: a passkey or a security key."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkeys"
    )
    name = models.CharField(max_length=100)
    # base64url of the credential ID the authenticator chose (at most 1023 bytes).
    credential_id = models.CharField(max_length=1400, unique=True)
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.name} ({self.user})"


class TotpDevice(models.Model):
    """An authenticator app, enabled once the member typed a correct code."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device"
    )
    # The base32 secret the app was given, sealed with a key derived from
    # SECRET_KEY (`services.totp_seal`): a copy of the database alone is not
    # enough to make codes.
    secret = models.CharField(max_length=255)
    # The 30-second step of the last accepted code: a code of that step or an
    # earlier one is refused, so each code works once.
    last_used_step = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Authenticator app ({self.user})"


class RecoveryCode(models.Model):
    """One single-use recovery code, stored as a keyed hash only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="mfa_recovery_code_unique")
        ]

    def __str__(self):
        return f"Recovery code of {self.user}"
