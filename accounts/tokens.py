"""Signed, expiring, single-use tokens for links sent by email.

Like Django's `PasswordResetTokenGenerator`, each token is bound to the
state of the account it was issued for: its password hash, address,
confirmation and active state (and, for a change of address, the pending
request). A credential change (password change or reset, change of address,
confirmation, suspension, an administrator's edit) changes that state, so
every link issued before it stops working, whether or not a row was deleted.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

CONFIRM_SALT = "offbrand.accounts.confirm-email"
EMAIL_CHANGE_SALT = "offbrand.accounts.change-email"
STATE_SALT = "offbrand.accounts.tokens.account-state"


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


def account_state(user, *extra, confirmed: bool | None = None) -> str:
    """A keyed digest of the credential state a link is issued for.

    `confirmed` overrides the member's current value, to recognise a link
    that was issued before the address was confirmed.
    """
    confirmed = user.confirmed if confirmed is None else confirmed
    facts = [user.pk, user.password, user.email, confirmed, user.is_active, *extra]
    value = "\x1f".join(str(fact) for fact in facts)
    return salted_hmac(STATE_SALT, value, algorithm="sha256").hexdigest()[:32]


def state_matches(digest, user, *extra, confirmed: bool | None = None) -> bool:
    return isinstance(digest, str) and constant_time_compare(
        digest, account_state(user, *extra, confirmed=confirmed)
    )


def make_confirmation_token(user) -> str:
    return make_token({"u": user.pk, "s": account_state(user)}, salt=CONFIRM_SALT)


def email_change_state(change) -> tuple:
    """What an email-change link is bound to besides the account: the request itself."""
    return (change.pk, change.new_email)


def make_email_change_token(change) -> str:
    state = account_state(change.user, *email_change_state(change))
    return make_token({"c": change.pk, "u": change.user_id, "s": state}, salt=EMAIL_CHANGE_SALT)


class PasswordResetTokens(PasswordResetTokenGenerator):
    """Django's reset tokens, also voided by a suspension and by a confirmation.

    Not bound to the last sign-in, as Django's are: whoever squats an address
    could otherwise void every link its owner asks for just by signing in. The
    password hash still makes a link single-use.
    """

    key_salt = "offbrand.accounts.tokens.PasswordResetTokens"

    def _make_hash_value(self, user, timestamp):
        email = getattr(user, user.get_email_field_name(), "") or ""
        return f"{user.pk}{user.password}{timestamp}{email}{user.is_active}{user.confirmed}"


password_reset_tokens = PasswordResetTokens()
