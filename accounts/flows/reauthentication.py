"""Re-authentication: sensitive changes need a password (or factor) check made
within the last `OFFBRAND_REAUTH_SECONDS`.

The time of the last check lives in the session, so it belongs to one device:
a session stolen an hour ago cannot change the password without knowing it.
Signing in counts as a check.
"""

import time
from enum import StrEnum

from django.conf import settings

from accounts import ratelimits, services
from accounts.models import User

SESSION_KEY = "_offbrand_authenticated_at"


class ReauthOutcome(StrEnum):
    CONFIRMED = "confirmed"
    WRONG_PASSWORD = "wrong_password"
    LIMITED = "limited"  # the account's sign-in budget is used up


def reauth_record(request) -> None:
    """Note that the member proved who they are just now (password or factor)."""
    request.session[SESSION_KEY] = int(time.time())


def reauth_is_recent(request) -> bool:
    checked_at = request.session.get(SESSION_KEY)
    if not isinstance(checked_at, int):
        return False
    return 0 <= time.time() - checked_at <= settings.OFFBRAND_REAUTH_SECONDS


def reauth_with_password(
    *, request, user: User, password: str
) -> tuple[ReauthOutcome, ratelimits.Verdict | None]:
    """Check the password on the same per-account budget as signing in.

    A wrong password here counts as a failed sign-in, so a stolen session
    cannot be used to guess the password faster than the sign-in form allows.
    """
    checked = services.account_password_check(request=request, user=user, password=password)
    if checked == services.PasswordCheck.LIMITED:
        return ReauthOutcome.LIMITED, ratelimits.signin_refusal(request)
    if checked == services.PasswordCheck.WRONG:
        return ReauthOutcome.WRONG_PASSWORD, None
    reauth_record(request)
    return ReauthOutcome.CONFIRMED, None
