"""Members' content: who follows whom, posts, comments, and moderation of them.

Lists are read newest first by primary key (a keyset: `id < last seen id`),
so every index below leads with the column a list is filtered by and ends
with `id`, and no page ever counts or skips rows.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from accounts.models import Permission
from offbrand.urlcache import cached_reverse

POST_MAX_LENGTH = 2000
COMMENT_MAX_LENGTH = 1000
REASON_MAX_LENGTH = 500


class Follow(models.Model):
    """`follower` sees `followed`'s posts in their feed. Following is public."""

    # No single-column indexes: the unique constraint and the list indexes below
    # lead with these columns, and a planner offered a bare (follower) index
    # would take it and sort, instead of reading the list in order.
    follower = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="following_set",
        db_index=False,
    )
    followed = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="follower_set",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # Also the index of "whom does X follow", newest first via id.
            models.UniqueConstraint(fields=["follower", "followed"], name="social_follow_unique"),
            models.CheckConstraint(
                condition=~Q(follower=F("followed")), name="social_follow_not_self"
            ),
        ]
        indexes = [
            models.Index(fields=["follower", "-id"], name="social_follow_following_list"),
            models.Index(fields=["followed", "-id"], name="social_follow_follower_list"),
        ]

    def __str__(self):
        return f"{self.follower_id} follows {self.followed_id}"


class Hideable(models.Model):
    """Content a moderator can hide: its author still sees it, with the reason."""

    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=REASON_MAX_LENGTH, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def html(self) -> SafeString:
        """The body as rendered and sanitised by `social.markup` when it was written."""
        # Safe: only services store body_html, always from markup.render (nh3).
        return mark_safe(self.body_html)  # noqa: S308  # nosec B308 B703

    def visible_to(self, user) -> bool:
        """Hidden content is seen by its author and by moderators only; a suspended
        member's, by moderators only (to review the suspension)."""
        active = self.author.is_active
        if active and not self.hidden:
            return True
        return user.is_authenticated and (
            (active and user.pk == self.author_id) or user.can(Permission.MODERATE)
        )


class Post(Hideable):
    # Indexed by (author, -id) below: a bare (author) index would tempt the
    # planner into reading all of an author's posts and sorting them.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts", db_index=False
    )
    body = models.TextField(max_length=POST_MAX_LENGTH)
    # Rendered once on write: a feed page shows twenty posts and never parses one.
    body_html = models.TextField(editable=False, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Profile pages and the feed's per-author newest-first reads.
            models.Index(fields=["author", "-id"], name="social_post_author_recent"),
            # The feed: each followed author's newest visible post ids, read from
            # the index alone (no table access), whoever wrote how much.
            models.Index(
                fields=["author", "-id"],
                condition=Q(hidden=False),
                name="social_post_author_public",
            ),
            # The landing page's recent public posts.
            models.Index(fields=["-id"], condition=Q(hidden=False), name="social_post_public"),
            # The admin's "hidden" filter: a few rows among millions, newest first.
            models.Index(fields=["-id"], condition=Q(hidden=True), name="social_post_hidden"),
        ]

    def __str__(self):
        return f"Post {self.pk} by {self.author_id}"

    def get_absolute_url(self):
        return cached_reverse("social:post", args=[self.pk])


class Comment(Hideable):
    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, related_name="comments", db_index=False
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments", db_index=False
    )
    body = models.TextField(max_length=COMMENT_MAX_LENGTH)
    body_html = models.TextField(editable=False, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # A post's comments, oldest first, and their count.
            models.Index(fields=["post", "id"], name="social_comment_post"),
            models.Index(fields=["author", "-id"], name="social_comment_author"),
            models.Index(fields=["-id"], condition=Q(hidden=True), name="social_comment_hidden"),
        ]

    def __str__(self):
        return f"Comment {self.pk} on {self.post_id}"

    def get_absolute_url(self):
        return f"{self.post.get_absolute_url()}#comment-{self.pk}"


class ContentAction(models.Model):
    """What a moderator did to a post or comment, and why: beside accounts' member actions."""

    class Kind(models.TextChoices):
        HIDE = "hide", "Hid"
        RESTORE = "restore", "Restored"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="content_actions_taken",
    )
    # A member who deletes their account leaves the record behind, shown as deleted.
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="content_actions",
        db_index=False,  # (member, -id) below
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    post = models.ForeignKey(Post, on_delete=models.SET_NULL, null=True, blank=True)
    comment = models.ForeignKey(Comment, on_delete=models.SET_NULL, null=True, blank=True)
    reason = models.CharField(max_length=REASON_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["member", "-id"], name="social_contentaction_member")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.content_label} by {self.actor_id}"

    @property
    def content_label(self) -> str:
        if self.comment_id:
            return "a comment"
        return "a post" if self.post_id else "deleted content"
