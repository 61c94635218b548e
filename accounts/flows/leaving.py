"""Leaving: a member takes their data with them, and deletes their account.

Moderation records about a deleted member stay (the member shown as deleted);
everything else that was theirs goes with the account.
"""

import base64
import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone

from accounts import services
from accounts.flows import usersessions
from accounts.models import ModerationAction, Permission, Role, User
from accounts.notices import SecurityEvent, send_security_notice

logger = logging.getLogger(__name__)


# What other apps hold about a member, added to the export by those apps
# (`register_export_section` in their AppConfig.ready): accounts never imports them.
EXPORT_SECTIONS: dict[str, Callable[[User], object]] = {}


def register_export_section(name: str, collect: Callable[[User], object]) -> None:
    EXPORT_SECTIONS[name] = collect


class LastAdministrator(Exception):
    """The account is the site's last administrator: deleting it would leave nobody."""


def _factors(user: User) -> dict | None:
    """The member's second factors, without secrets (None before accounts.mfa exists)."""
    try:
        from accounts.mfa.services import factor_summary
    except ImportError:
        return None
    return factor_summary(user)


def _avatar(user: User) -> dict | None:
    if not user.avatar:
        return None
    with user.avatar.open("rb") as image:
        content = image.read()
    return {"content_type": "image/webp", "base64": base64.b64encode(content).decode()}


def user_data_export(*, user: User, request=None) -> dict:
    """Everything Offbrand holds about `user`, as JSON-ready data (no secrets)."""
    current = usersessions.current_key_hash(request) if request is not None else ""
    pending = getattr(user, "email_change_request", None)
    return {
        "exported_at": timezone.now(),
        "profile": {
            "username": user.username,
            "email": user.email,
            "email_confirmed": user.confirmed,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "about_me": user.about_me,
            "role": user.role.name if user.role else None,
            "active": user.is_active,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "last_seen": user.last_seen,
            "pending_email_change": (
                {"new_email": pending.new_email, "requested_at": pending.created_at}
                if pending
                else None
            ),
        },
        "avatar": _avatar(user),
        "sessions": [
            {
                "device": session.device,
                "user_agent": session.user_agent,
                "network": session.network,
                "signed_in_at": session.created_at,
                "last_activity": session.last_activity,
                "this_device": session.key_hash == current,
            }
            for session in user.user_sessions.filter(suspended_at=None)
        ],
        "second_factors": _factors(user),
        "moderation_records": [
            {
                "what": action.get_kind_display(),
                "detail": action.detail,
                "by": "you" if action.actor_id == user.pk else "the site's staff or system",
                "through": action.get_via_display(),
                "reason": action.reason,
                "at": action.created_at,
            }
            for action in ModerationAction.objects.filter(member=user)
        ],
        **{name: collect(user) for name, collect in EXPORT_SECTIONS.items()},
    }


def _administrator_role_ids() -> list[int]:
    return [role.pk for role in Role.objects.all() if role.grants(Permission.ADMIN)]


def user_delete(*, user: User, request=None) -> None:
    """Delete the account: every session ended, the avatar files removed, a last
    notice to its address. Refused for the last active administrator.

    The administrators' rows are locked while counting, so two administrators
    deleting themselves at once cannot both leave the other as "the last".
    """
    email, username, confirmed = user.email, user.username, user.confirmed
    with transaction.atomic():
        if user.is_administrator():
            administrators = (
                User.objects.select_for_update()
                .filter(role__in=_administrator_role_ids(), is_active=True)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            if not any(pk != user.pk for pk in administrators):
                raise LastAdministrator(username)
        services.member_record_event(
            member=user,
            kind=ModerationAction.Kind.DELETED,
            actor=user,
            via=ModerationAction.Via.OWN_PAGES,
        )
        files = [(f.storage, f.name) for f in (user.avatar, user.avatar_small) if f]
        transaction.on_commit(lambda: [storage.delete(name) for storage, name in files])
        usersessions.user_sessions_end_all(user=user)
        user.delete()
    logger.info("Account %s deleted by its owner", username)
    send_security_notice(
        User(username=username, email=email, confirmed=confirmed),
        SecurityEvent.ACCOUNT_DELETED,
        request,
    )
