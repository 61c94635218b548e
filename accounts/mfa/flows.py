"""Signing in with a second factor: the step between a correct password and a session.

After the password, the session holds only a pending step: who typed it,
when, and the state of their password. `request.user` stays anonymous, so
every signed-in page still refuses the visitor. The step ends in a real
sign-in once a factor is verified, or lapses after
`OFFBRAND_MFA_PENDING_SECONDS`.
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import logout
from django.utils.crypto import constant_time_compare

from accounts import ratelimits, selectors, services
from accounts.mfa import services as mfa_services
from accounts.models import User

PENDING_KEY = "mfa_pending"
PASSKEY_BACKEND = "accounts.backends.UsernameOrEmailBackend"


class PendingExpired(Exception):
    """The member took longer than OFFBRAND_MFA_PENDING_SECONDS: sign in again."""


@dataclass(frozen=True)
class Pending:
    user: User
    remember: bool
    next_url: str
    backend: str


def login_begin(request, user: User, *, remember: bool, next_url: str) -> None:
    """Hold a sign-in whose password was right until a second factor is verified."""
    if request.user.is_authenticated:
        logout(request)  # someone else was signed in on this browser: not any more
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "started": time.time(),
        "remember": remember,
        "next": next_url,
        "backend": getattr(user, "backend", PASSKEY_BACKEND),
        # A password changed meanwhile (a reset) voids the step.
        "hash": user.get_session_auth_hash(),
    }


def login_pending(request) -> Pending | None:
    """The pending step of this browser, if any; raises `PendingExpired` once it lapsed."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    if time.time() - data.get("started", 0) > settings.OFFBRAND_MFA_PENDING_SECONDS:
        login_abandon(request)
        raise PendingExpired
    user = User.objects.select_related("role").filter(pk=data.get("user")).first()
    if (
        user is None
        or not user.is_active
        or not constant_time_compare(user.get_session_auth_hash(), data.get("hash", ""))
    ):
        login_abandon(request)
        return None
    return Pending(
        user=user,
        remember=bool(data.get("remember")),
        next_url=data["next"],
        backend=data["backend"],
    )


def login_abandon(request) -> None:
    request.session.pop(PENDING_KEY, None)


def login_complete(request, pending: Pending) -> None:
    """The factor was verified: now, and only now, the member is signed in."""
    login_abandon(request)
    services.sign_in(request, pending.user, backend=pending.backend)
    services.login_finalize(request, pending.user, remember=pending.remember)


def passkey_login(request, user: User) -> None:
    """A passkey that verified its holder signs them in on its own."""
    services.sign_in(request, user, backend=PASSKEY_BACKEND)
    services.login_finalize(request, user, remember=False)


def factor_attempt(request, user: User) -> ratelimits.Attempt:
    """Count a guess at a factor on the member's sign-in budget, before checking it:
    a wrong code costs what a wrong password costs; a right one gives it back."""
    return ratelimits.account_attempt(request, name_key=services.member_name_key(user), user=user)


def passkey_attempt(request, credential: str) -> ratelimits.Attempt:
    """Count a sign-in with a passkey alone before its answer is checked: on the
    client network's budget, or, for an answer naming an account this browser
    signed in to before, on that browser's own (`ratelimits.passkey_attempt`)."""
    claimed = mfa_services.passkey_claimed_account(
        credential, among=ratelimits.device_accounts(request)
    )
    # The browser's trust is checked against the account's password (attack F3).
    account = selectors.user_with_role(claimed) if claimed else None
    return ratelimits.passkey_attempt(request, claimed=account)
