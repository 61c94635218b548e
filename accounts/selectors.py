"""Reads about accounts that more than one page needs."""

from django.conf import settings
from django.db.models import Q, QuerySet

from accounts.models import ModerationAction, User


def suspension_message(user: User, consequence: str) -> str:
    """Why a suspended member cannot use the site, the moderator's reason if given,
    and how to appeal."""
    action = user.moderation_actions.filter(kind=ModerationAction.Kind.SUSPEND).first()
    message = f"Your account has been suspended, so {consequence}."
    if action is not None and action.reason:
        message += f" Reason: {action.reason.rstrip('.')}."
    if settings.OFFBRAND_APPEALS_EMAIL:
        message += (
            f" If you think this is a mistake, write to {settings.OFFBRAND_APPEALS_EMAIL} "
            "to appeal."
        )
    return message


def member_search(*, query: str = "", active: str = "") -> QuerySet[User]:
    """Members for the moderation list: by username or email prefix, and by status."""
    members = User.objects.select_related("role").order_by("username")
    query = query.replace("\x00", "").strip()
    if query:
        members = members.filter(Q(username__istartswith=query) | Q(email__istartswith=query))
    if active in {"yes", "no"}:
        members = members.filter(is_active=active == "yes")
    return members
