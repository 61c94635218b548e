"""What members do with content: each change of state is one function here.

Every function checks the actor's permission flag itself (`user.can`), so a
view, a command or a test reaches the same rule; a suspended member's role
grants nothing (`can()` is False for an inactive account).
"""

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Permission, User
from social import landing, markup
from social.models import (
    COMMENT_MAX_LENGTH,
    POST_MAX_LENGTH,
    REASON_MAX_LENGTH,
    Comment,
    ContentAction,
    Follow,
    Post,
)

logger = logging.getLogger(__name__)


def _require(user: User, permission: Permission, doing: str) -> None:
    if not user.can(permission):
        raise PermissionDenied(f"Your role does not allow you to {doing}.")


def _clean_body(body: str, *, limit: int, what: str) -> str:
    body = (body or "").replace("\x00", "").strip()
    if not body:
        raise ValidationError(f"Your {what} is empty.")
    if len(body) > limit:
        raise ValidationError(
            f"Your {what} is {len(body):,} characters long; the most is {limit:,}."
        )
    return body


# --- Follows -----------------------------------------------------------------


def follow_create(*, follower: User, followed: User) -> bool:
    """Follow a member; True if this made a new follow, False if already following."""
    _require(follower, Permission.FOLLOW, "follow members")
    if follower.pk == followed.pk:
        raise ValidationError("You can't follow yourself.")
    # Foreign keys are checked at commit (deferred): look first, for a clear message.
    if not User.objects.filter(pk=followed.pk).exists():
        raise ValidationError("That member no longer exists.")
    _, created = Follow.objects.get_or_create(follower=follower, followed=followed)
    return created


def follow_delete(*, follower: User, followed: User) -> bool:
    """Stop following; True if there was a follow to end."""
    _require(follower, Permission.FOLLOW, "follow members")
    return Follow.objects.filter(follower=follower, followed=followed).delete()[0] > 0


# --- Posts -------------------------------------------------------------------


def post_create(*, author: User, body: str) -> Post:
    _require(author, Permission.WRITE, "write posts")
    body = _clean_body(body, limit=POST_MAX_LENGTH, what="post")
    return Post.objects.create(author=author, body=body, body_html=markup.render(body))


def post_update(*, post: Post, editor: User, body: str) -> Post:
    """The author edits their post: body and `edited_at` only."""
    _require(editor, Permission.WRITE, "write posts")
    if editor.pk != post.author_id:
        raise PermissionDenied("Only its author can edit a post.")
    body = _clean_body(body, limit=POST_MAX_LENGTH, what="post")
    if body != post.body:
        post.body, post.body_html = body, markup.render(body)
        post.edited_at = timezone.now()
        post.save(update_fields=["body", "body_html", "edited_at"])
    return post


def post_delete(*, post: Post, actor: User) -> None:
    """The author deletes their post and its comments (no flag needed to take back
    one's own words)."""
    if not actor.is_active or actor.pk != post.author_id:
        raise PermissionDenied("Only its author can delete a post.")
    post.delete()
    landing.landing_changed()  # a delete sends no post_save


# --- Comments ----------------------------------------------------------------


def comment_create(*, post: Post, author: User, body: str) -> Comment:
    _require(author, Permission.COMMENT, "comment")
    body = _clean_body(body, limit=COMMENT_MAX_LENGTH, what="comment")
    if post.hidden and post.author_id != author.pk:
        raise ValidationError("This post has been hidden by a moderator.")
    if not Post.objects.filter(pk=post.pk).exists():
        raise ValidationError("That post no longer exists.")
    return Comment.objects.create(
        post=post, author=author, body=body, body_html=markup.render(body)
    )


def can_delete_comment(user: User, comment: Comment) -> bool:
    """Its author, or the author of the post it is on."""
    return user.is_active and user.pk in (comment.author_id, comment.post.author_id)


def comment_delete(*, comment: Comment, actor: User) -> None:
    if not can_delete_comment(actor, comment):
        raise PermissionDenied("Only its author or the post's author can delete a comment.")
    comment.delete()
    landing.landing_changed()


# --- Moderation --------------------------------------------------------------


def can_moderate_content(actor: User, content: Post | Comment) -> bool:
    """Moderators hide anyone's content except an administrator's (unless they are one)."""
    if not actor.can(Permission.MODERATE):
        return False
    author = content.author
    author_is_admin = author.role is not None and author.role.grants(Permission.ADMIN)
    return not author_is_admin or actor.can(Permission.ADMIN)


def _moderate(*, actor: User, content: Post | Comment, hide: bool, reason: str) -> ContentAction:
    if not can_moderate_content(actor, content):
        raise PermissionDenied("You can't moderate this content.")
    reason = (reason or "").replace("\x00", "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            f"The reason is {len(reason):,} characters long; the most is {REASON_MAX_LENGTH:,}."
        )
    if hide and not reason:
        raise ValidationError("Say why you are hiding it: the author will see the reason.")
    kind = ContentAction.Kind.HIDE if hide else ContentAction.Kind.RESTORE
    with transaction.atomic():
        # Conditional UPDATE: of two moderators acting at once, one records it.
        changed = (
            type(content)
            .objects.filter(pk=content.pk, hidden=not hide)
            .update(
                hidden=hide,
                hidden_reason=reason if hide else "",
                hidden_by=actor if hide else None,
            )
        )
        if not changed:
            raise ValidationError("Already hidden." if hide else "It is not hidden.")
        landing.landing_changed()  # a conditional UPDATE sends no post_save
        content.hidden, content.hidden_reason = hide, reason if hide else ""
        content.hidden_by = actor if hide else None
        target = {"comment": content} if isinstance(content, Comment) else {"post": content}
        action = ContentAction.objects.create(
            actor=actor, member_id=content.author_id, kind=kind, reason=reason, **target
        )
    logger.info("%s %s by %s (%s)", kind.label, content, actor, reason or "no reason")
    return action


def content_hide(*, actor: User, content: Post | Comment, reason: str) -> ContentAction:
    return _moderate(actor=actor, content=content, hide=True, reason=reason)


def content_restore(*, actor: User, content: Post | Comment, reason: str = "") -> ContentAction:
    return _moderate(actor=actor, content=content, hide=False, reason=reason)
