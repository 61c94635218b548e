"""The benchmark's own accounts: a member and a moderator, made idempotently.

Imported by `bench/run.py` once Django is set up with the benchmark's settings.
"""

from dataclasses import dataclass

PASSWORD = "bench-password-4711"


@dataclass(frozen=True)
class BenchUser:
    username: str
    role: str

    @property
    def email(self) -> str:
        return f"{self.username}@bench.test"


MEMBER = BenchUser("bench-member", "User")
MODERATOR = BenchUser("bench-moderator", "Moderator")


def ensure_bench_users() -> None:
    """Create or reset both accounts: confirmed, active, known password and role."""
    from accounts.models import Role, User

    for spec in (MEMBER, MODERATOR):
        user = User.objects.filter(username=spec.username).first() or User(
            username=spec.username, email=spec.email
        )
        user.role = Role.objects.get(name=spec.role)
        user.confirmed = user.is_active = True
        user.set_password(PASSWORD)
        user.save()
    ensure_feed()


FEED_POSTS = 10


def ensure_feed() -> None:
    """The member follows the moderator, who has written a page of posts: the
    signed-in home (the feed) shows real posts, not the empty-feed message."""
    from accounts.models import User
    from social import services
    from social.models import Post

    member = User.objects.get(username=MEMBER.username)
    moderator = User.objects.get(username=MODERATOR.username)
    services.follow_create(follower=member, followed=moderator)
    for number in range(Post.objects.filter(author=moderator).count(), FEED_POSTS):
        services.post_create(
            author=moderator, body=f"Bench post {number}: *some* Markdown and a [link](/)."
        )


def synthetic_count() -> int:
    """How many `manage.py members fill` members the database holds."""
    from bench.management.commands.members import synthetic_members

    return synthetic_members().count()
