"""What the social app holds about a member, for their data download."""

from social.models import Comment, ContentAction, Follow, Post


def member_content(user) -> dict:
    return {
        "posts": [
            {
                "id": p.pk,
                "body": p.body,
                "created_at": p.created_at,
                "edited_at": p.edited_at,
                "hidden": p.hidden,
                "hidden_reason": p.hidden_reason,
            }
            for p in Post.objects.filter(author=user).order_by("pk")
        ],
        "comments": [
            {
                "id": c.pk,
                "post": c.post_id,
                "body": c.body,
                "created_at": c.created_at,
                "hidden": c.hidden,
                "hidden_reason": c.hidden_reason,
            }
            for c in Comment.objects.filter(author=user).order_by("pk")
        ],
        "following": list(
            Follow.objects.filter(follower=user)
            .order_by("pk")
            .values_list("followed__username", flat=True)
        ),
        "followers": list(
            Follow.objects.filter(followed=user)
            .order_by("pk")
            .values_list("follower__username", flat=True)
        ),
        "content_moderation_records": [
            {
                "what": f"{a.get_kind_display()} {a.content_label}",
                "reason": a.reason,
                "at": a.created_at,
            }
            for a in ContentAction.objects.filter(member=user).order_by("-created_at", "-pk")
        ],
    }
