"""An administrator removes a member's second factors: a member locked out of
their authenticator and their recovery codes gets back in with the password.

Recorded with a reason on the member's record, and the member is told by email.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from accounts import services
from accounts.mfa.services import member_remove_factors
from accounts.models import ModerationAction, User
from accounts.notices import SecurityEvent, send_security_notice


def member_factors_remove(*, actor: User, member: User, reason: str) -> int:
    """Remove every factor of `member`; returns how many were removed."""
    if not actor.is_administrator():
        raise PermissionDenied("Only administrators remove second factors.")
    if actor.pk == member.pk:
        raise PermissionDenied("Remove your own factors from your account settings.")
    with transaction.atomic():
        removed = member_remove_factors(user=member)
        if removed:
            services.member_record_event(
                member=member,
                kind=ModerationAction.Kind.FACTORS_REMOVED,
                actor=actor,
                via=ModerationAction.Via.MEMBER_EDIT,
                reason=reason,
                detail=f"{removed} factor{'s' if removed != 1 else ''}",
            )
    if removed:
        # No request: the notice must not describe the administrator's device.
        send_security_notice(
            member,
            SecurityEvent.FACTORS_REMOVED_BY_ADMIN,
            details=f"The reason given: {reason.strip()}",
        )
    return removed
