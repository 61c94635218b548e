"""Signed, expiring, single-use tokens for links sent by email.

Like Django's `PasswordResetTokenGenerator`, each token is bound to the state
its action changes, so using it once makes it worthless: an email
confirmation token is bound to the address and to "not yet confirmed"; an
email-change token to the pending request, which confirming deletes.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core import signing

CONFIRM_SALT = "offbrand.accounts.confirm-email"
EMAIL_CHANGE_SALT = "offbrand.accounts.change-email"


class TokenError(StrEnum):
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass(frozen=True)
class TokenPayload:
    data: dict | None = None
    error: TokenError | None = None


def make_token(data: dict, *, salt: str) -> str:
    return signing.dumps(data, salt=salt, compress=True)


def read_token(token: str, *, salt: str) -> TokenPayload:
    """The signed data, or why the token is refused (expired or invalid)."""
    try:
        data = signing.loads(token, salt=salt, max_age=settings.OFFBRAND_CONFIRM_MAX_AGE)
    except signing.SignatureExpired:
        return TokenPayload(error=TokenError.EXPIRED)
    except (signing.BadSignature, ValueError, TypeError):
        return TokenPayload(error=TokenError.INVALID)
    if not isinstance(data, dict):
        return TokenPayload(error=TokenError.INVALID)
    return TokenPayload(data=data)


def make_confirmation_token(user) -> str:
    return make_token({"u": user.pk, "e": user.email}, salt=CONFIRM_SALT)


def make_email_change_token(change) -> str:
    return make_token({"c": change.pk, "u": change.user_id}, salt=EMAIL_CHANGE_SALT)
