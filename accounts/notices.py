"""Security notices: a short email to the account's address whenever something
about its security changes, saying what, when, from which device, and what to
do if it was not the member.

Every notice shares one pair of templates (`emails/security_notice.*`); an
event only brings its subject and its sentence, from `NOTICES`.

A change to the account (password, address, factors) is mailed every time:
it happens once per event, and each must be heard of. Only a kind that
repeats without changing anything -- a new sign-in, which whoever holds the
password can cause at will -- is capped per account (`Notice.limit`). No notice
to an address its holder confirmed draws on the per-address mail ceiling
(`emails.send_email`, which alone counts it): a thief who fills the mailbox's
hour with reset requests first must not silence "new sign-in" (attack F6).
A notice left out, by its cap or the ceiling, is logged.
"""

import logging
from dataclasses import dataclass
from enum import StrEnum

from django.utils import timezone

from accounts import ratelimits
from accounts.devices import describe_user_agent, network_of, user_agent_of
from accounts.emails import send_email

logger = logging.getLogger(__name__)


class SecurityEvent(StrEnum):
    NEW_DEVICE = "new_device"
    PASSWORD_CHANGED = "password_changed"
    EMAIL_CHANGED = "email_changed"
    PASSKEY_ADDED = "passkey_added"
    PASSKEY_REMOVED = "passkey_removed"
    TOTP_ENABLED = "totp_enabled"
    TOTP_DISABLED = "totp_disabled"
    FACTORS_REMOVED_BY_ADMIN = "factors_removed_by_admin"
    RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated"
    RECOVERY_CODE_USED = "recovery_code_used"
    ACCOUNT_DELETED = "account_deleted"


class Advice(StrEnum):
    """What to do if it was not the member."""

    RESET_PASSWORD = "reset_password"  # they still hold the mailbox: take the account back
    CONTACT_ADMIN = "contact_admin"  # the mailbox is no longer the account's


@dataclass(frozen=True)
class Notice:
    subject: str
    happened: str
    advice: Advice = Advice.RESET_PASSWORD
    limit: str = ""  # a repetitive kind: at most `ratelimits.LIMITS[limit]` per account


# Said in the last notice of a capped kind before the cap holds.
CAPPED = {
    "new_device_notice_user": "More sign-ins from new devices within the hour are not mailed "
    "one by one: the list of devices signed in to your account shows them all."
}

NOTICES = {
    SecurityEvent.NEW_DEVICE: Notice(
        "New sign-in to your account",
        "Your account was signed in to from a new device.",
        limit="new_device_notice_user",
    ),
    SecurityEvent.PASSWORD_CHANGED: Notice(
        "Your password was changed",
        "The password of your account was changed. "
        "Other devices signed in to your account have been signed out.",
    ),
    SecurityEvent.EMAIL_CHANGED: Notice(
        "Your email address was changed",
        "The email address of your account was changed. This address no longer receives its email.",
        Advice.CONTACT_ADMIN,
    ),
    SecurityEvent.PASSKEY_ADDED: Notice(
        "A passkey was added to your account", "A passkey was added to your account."
    ),
    SecurityEvent.PASSKEY_REMOVED: Notice(
        "A passkey was removed from your account", "A passkey was removed from your account."
    ),
    SecurityEvent.TOTP_ENABLED: Notice(
        "An authenticator app was set up",
        "An authenticator app was set up as a second factor for your account.",
    ),
    SecurityEvent.TOTP_DISABLED: Notice(
        "The authenticator app was removed",
        "The authenticator app was removed from your account.",
    ),
    SecurityEvent.FACTORS_REMOVED_BY_ADMIN: Notice(
        "An administrator removed your second factors",
        "An administrator removed the passkeys, authenticator app and recovery codes "
        "of your account; you now sign in with your password alone.",
    ),
    SecurityEvent.RECOVERY_CODES_REGENERATED: Notice(
        "New recovery codes were made",
        "New recovery codes were made for your account; the old ones no longer work.",
    ),
    SecurityEvent.RECOVERY_CODE_USED: Notice(
        "A recovery code was used", "A recovery code was used to sign in to your account."
    ),
    SecurityEvent.ACCOUNT_DELETED: Notice(
        "Your account was deleted",
        "Your account and its data were deleted.",
        Advice.CONTACT_ADMIN,
    ),
}


def device_of(request) -> str:
    """The device a request came from, as a notice or the device list shows it."""
    if request is None:
        return ""
    network = network_of(ratelimits.client_ip(request))
    device = describe_user_agent(user_agent_of(request))
    return f"{device}, network {network}" if network else device


def send_security_notice(
    user,
    event: SecurityEvent,
    request=None,
    *,
    to: str = "",
    details: str = "",
    address_confirmed: bool | None = None,
) -> bool:
    """Mail `user` (or `to`, e.g. the old address) that `event` just happened.

    `details` adds a sentence (e.g. the new address, or the administrator's
    reason). Returns False when the mail could not be handed over, or was
    left out because its kind is capped and the account heard of it enough.

    `address_confirmed` (by default `user.confirmed`): whether the holder had
    confirmed the address mailed. Only then does a notice skip the per-address
    mail ceiling (`emails.send_email`): on an account registered with someone
    else's address, a stranger causes the notice.
    """
    notice = NOTICES[SecurityEvent(event)]  # a plain string of a known event works too
    if address_confirmed is None:
        address_confirmed = bool(getattr(user, "confirmed", False))
    if notice.limit:
        # With the sign-in's attempt given back in the same round trip.
        verdict = ratelimits.hit(notice.limit, str(user.pk), request)
        if not verdict.allowed and not verdict.unavailable:  # without the cache: mail
            logger.warning(
                "Not sending the %s notice to account %s: its kind's cap (%s) is used up",
                event,
                user.pk,
                notice.limit,
            )
            return False
        if verdict.remaining == 0:
            details = f"{details} {CAPPED[notice.limit]}".strip()
    return send_email(
        "security_notice",
        to=to or user.email,
        context={
            "user": user,
            "event": str(event),
            "subject": notice.subject,
            "happened": notice.happened,
            "details": details,
            "when": timezone.now(),
            "device": device_of(request),
            "advice": str(notice.advice),
        },
        request=request,
        ceiling=not address_confirmed,
    )
