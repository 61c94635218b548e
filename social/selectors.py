"""Reads of members' content for pages: every list is a keyset page, newest first.

A page asks for one row more than it shows: that row says whether an "older"
link is needed, and the last shown id is the cursor (`?before=<id>`). No list
counts its rows or skips with OFFSET, so a page costs the same on the first
screen and the thousandth, at a thousand members or a million.
"""

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from accounts.models import Permission, User
from accounts.sessions import ReadAlong
from offbrand.prepared import PreparedQuerySet, prepare
from social.models import Comment, ContentAction, Follow, Post
from social.rows import card_columns, post_rows

PAGE_SIZE = 20
# Follower and following counts are exact up to here, then shown as "10,000+".
COUNT_CAP = 10_000
SUGGESTIONS = 5


@dataclass
class Page:
    items: list
    before: int | None = None  # the cursor for the next (older) page, if any
    extra: dict = field(default_factory=dict)


def parse_cursor(value) -> int | None:
    """`?before=` from the query string: a positive id, or None for the first page."""
    try:
        cursor = int(value)
    except (TypeError, ValueError):
        return None
    return cursor if 0 < cursor < 2**63 else None


def _page(queryset: QuerySet, *, before: int | None, size: int, key: str = "id") -> Page:
    if before is not None:
        queryset = queryset.filter(**{f"{key}__lt": before})
    return _cut(list(queryset.order_by(f"-{key}")[: size + 1]), size=size, key=key)


def _cut(rows: list, *, size: int, key: str = "id") -> Page:
    """A page from `size + 1` rows: the extra one says an older page exists."""
    more = len(rows) > size
    rows = rows[:size]
    return Page(items=rows, before=getattr(rows[-1], key) if more else None)


def with_comment_counts(posts: QuerySet) -> QuerySet:
    """Each post's visible comment count (not hidden, not by a suspended member), in the
    same query (a correlated subquery)."""
    counts = (
        Comment.objects.filter(post=OuterRef("pk"), hidden=False, author__is_active=True)
        .order_by()
        .values("post")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return posts.annotate(comment_count=Coalesce(Subquery(counts), 0))


def _posts() -> QuerySet:
    return with_comment_counts(Post.objects.select_related("author"))


def _cards() -> QuerySet:
    """`_posts()` for a list of cards: only the columns a card shows (`social/rows.py`)."""
    return card_columns(_posts())


# --- The home feed -----------------------------------------------------------

# Two steps, both read from the (author, id) index alone. First each followed
# member's newest visible post id: one index probe apiece. If at least a page
# (`limit`) of them exist, the page's oldest post can be no older than the
# limit-th newest of those ids (`threshold`): those posts alone fill a page.
# So only the members whose newest post reaches the threshold (`limit` of
# them at most) are then read for more, down to the threshold. At 500
# followed that is 501 one-row probes and 21 short reads, instead of 501
# reads of a page each (4,375 index pages touched at a million members, now 1,892).
# A suspended member's posts are left out for everyone, and only the authors who
# could be on the page are checked (a primary-key probe each, newest first, until
# a page of active ones is found): checking all 500 followed would double the
# work, and a join on the member table let the planner read all of it.
FEED_IDS_POSTGRESQL = """
WITH newest AS MATERIALIZED (
    SELECT authors.author_id, newest.id
    FROM (
        SELECT followed_id AS author_id FROM {follow} WHERE follower_id = %s
        UNION ALL SELECT %s
    ) AS authors
    CROSS JOIN LATERAL (
        SELECT id FROM {post}
        WHERE author_id = authors.author_id AND NOT hidden AND id < %s
        ORDER BY id DESC
        LIMIT 1
    ) AS newest
), threshold AS (
    SELECT CASE WHEN count(*) < %s THEN 0 ELSE min(id) END AS id
    FROM (
        SELECT newest.id
        FROM (SELECT author_id, id FROM newest ORDER BY id DESC OFFSET 0) AS newest
        CROSS JOIN LATERAL (
            SELECT 1 FROM {user} WHERE id = newest.author_id AND is_active LIMIT 1
        ) AS active
        ORDER BY newest.id DESC
        LIMIT %s
    ) AS page
)
SELECT recent.id
FROM newest
CROSS JOIN threshold
CROSS JOIN LATERAL (
    SELECT 1 FROM {user} WHERE id = newest.author_id AND is_active LIMIT 1
) AS active
CROSS JOIN LATERAL (
    SELECT id FROM {post}
    WHERE author_id = newest.author_id AND NOT hidden AND id < %s AND id >= threshold.id
    ORDER BY id DESC
    LIMIT %s
) AS recent
WHERE newest.id >= threshold.id
ORDER BY recent.id DESC
LIMIT %s
"""


def feed(
    *, user: User, before: int | None = None, size: int = PAGE_SIZE, rows: list | None = None
) -> Page:
    """Posts by the members `user` follows and their own, newest first; hidden posts
    and suspended members' left out. `rows`: the page's rows, already read with the
    session (`feed_read_along`), else read here.

    Fan-out on read (see bench/README.md for the measurements behind it). On
    PostgreSQL each followed member contributes at most one page of their
    newest posts, read from the (author, id) index, and the page is the newest
    of those: the cost grows with the number followed, never with how much
    they or anyone else has written.
    """
    prepared = _feed_prepared(size)
    # Rows, not objects: most requests render every card from memory (social/rows.py).
    page = post_rows(prepared, rows, user=user.pk, before=before or 2**63 - 1)
    return _cut(page, size=size)


def feed_read_along(*, before: int | None, size: int = PAGE_SIZE) -> ReadAlong:
    """`feed`'s query for whichever member the session names, to send in the session's
    round trip; the view takes its rows (by this key) only for that member."""
    prepared = _feed_prepared(size)
    cursor = before or 2**63 - 1
    return ReadAlong(
        key=feed_key(before=before, size=size),
        statement=lambda member_id: prepared.statement(user=member_id, before=cursor),
        converted=prepared.converted,
    )


def feed_key(*, before: int | None, size: int = PAGE_SIZE) -> tuple:
    """What `feed_read_along` reads: the feed's page at this cursor."""
    return ("feed", size, before or 2**63 - 1)


def _feed_prepared(size: int) -> PreparedQuerySet:
    build = _feed_postgresql if connection.vendor == "postgresql" else _feed_sqlite
    return prepare(build, size, names=("user", "before"))


def _feed_sqlite(size: int, user_id: int, before: int) -> QuerySet:
    """The feed's page elsewhere: the plain definition (compiled once)."""
    followed = Follow.objects.filter(follower=user_id).values("followed_id")
    posts = _cards().filter(
        Q(author_id__in=followed) | Q(author=user_id), hidden=False, author__is_active=True
    )
    return posts.filter(id__lt=before).order_by("-id")[: size + 1]


def _feed_postgresql(size: int, user_id: int, before: int) -> QuerySet:
    """The feed's page on PostgreSQL (compiled once: `offbrand.prepared`)."""
    sql = FEED_IDS_POSTGRESQL.format(
        follow=Follow._meta.db_table, post=Post._meta.db_table, user=User._meta.db_table
    )
    limit = size + 1
    # Only table names are formatted in; every value is a bound parameter.
    params = [user_id, user_id, before, limit, limit, before, limit, limit]
    ids = RawSQL(sql, params)  # noqa: S611  # nosec B611
    return _cards().filter(hidden=False, pk__in=ids).order_by("-id")[:limit]


def who_to_follow(*, user: User, size: int = SUGGESTIONS) -> list[User]:
    """The members who posted most recently, besides `user` and whom they follow.

    Read from the newest posts (an index scan of a few hundred rows), never a
    count over the whole follow table.
    """
    recent_authors = Post.objects.filter(hidden=False).order_by("-id").values("author_id")[:200]
    followed = Follow.objects.filter(follower=user).values("followed_id")
    return list(
        User.objects.filter(pk__in=recent_authors, is_active=True)
        .exclude(pk=user.pk)
        .exclude(pk__in=followed)
        .order_by("-pk")[:size]
    )


def recent_public_posts(*, size: int = 10) -> list[Post]:
    """The newest posts for the landing page (hidden ones and suspended authors' left out)."""
    return prepare(_recent_public_posts, size).run()


def _recent_public_posts(size: int) -> QuerySet:
    return _posts().filter(hidden=False, author__is_active=True).order_by("-id")[:size]


# --- Profiles and posts ------------------------------------------------------


def sees_hidden(viewer, member: User | None = None) -> bool:
    """Moderators see hidden content; so does its author."""
    return viewer.is_authenticated and (
        viewer.can(Permission.MODERATE) or (member is not None and viewer.pk == member.pk)
    )


def profile_posts(
    *, member: User, viewer, before: int | None = None, size: int = PAGE_SIZE
) -> Page:
    prepared = prepare(
        _profile_posts, size, sees_hidden(viewer, member), names=("member", "before")
    )
    # Rows, not objects, as the feed's: most cards come from memory (social/rows.py).
    return _cut(post_rows(prepared, member=member.pk, before=before or 2**63 - 1), size=size)


def _profile_posts(size: int, with_hidden: bool, member_id: int, before: int) -> QuerySet:
    """A member's page of posts (compiled once per shape: `offbrand.prepared`)."""
    posts = _cards().filter(author_id=member_id)
    if not with_hidden:
        posts = posts.filter(hidden=False)
    # The cursor is a value of the compiled query: the first page passes the largest id.
    return posts.filter(id__lt=before).order_by("-id")[: size + 1]


def capped_count(queryset: QuerySet, cap: int = COUNT_CAP) -> int:
    """An exact count up to `cap` (then `cap + 1`): bounded work however large the list."""
    return queryset.order_by().values("pk")[: cap + 1].count()


FOLLOW_COUNTS = """
SELECT
    (SELECT COUNT(*) FROM (SELECT 1 FROM {follow} WHERE {followed} = %s LIMIT %s) AS followers),
    (SELECT COUNT(*) FROM (SELECT 1 FROM {follow} WHERE {follower} = %s LIMIT %s) AS following)
"""


def _follow_counts_sql(member: User) -> tuple[str, list]:
    meta = Follow._meta
    sql = FOLLOW_COUNTS.format(
        follow=connection.ops.quote_name(meta.db_table),
        followed=connection.ops.quote_name(meta.get_field("followed").column),
        follower=connection.ops.quote_name(meta.get_field("follower").column),
    )
    # Only table and column names are formatted in; the values are bound parameters.
    return sql, [member.pk, COUNT_CAP + 1, member.pk, COUNT_CAP + 1]


def follow_counts(member: User) -> dict[str, int]:
    """Both counts, each capped like `capped_count`, in one round trip."""
    with connection.cursor() as cursor:
        cursor.execute(*_follow_counts_sql(member))
        followers, following = cursor.fetchone()
    return {"followers": followers, "following": following}


def profile_page(
    *, member: User, viewer, before: int | None = None, size: int = PAGE_SIZE
) -> tuple[Page, dict[str, int]]:
    """`profile_posts` and `follow_counts` together: one round trip on PostgreSQL
    (`PreparedQuerySet.rows_with`), each a query of its own elsewhere."""
    prepared = prepare(
        _profile_posts, size, sees_hidden(viewer, member), names=("member", "before")
    )
    rows, (followers, following) = prepared.rows_with(
        *_follow_counts_sql(member), member=member.pk, before=before or 2**63 - 1
    )
    page = _cut(post_rows(prepared, rows), size=size)
    return page, {"followers": followers, "following": following}


def is_following(viewer, member: User) -> bool:
    if not viewer.is_authenticated or viewer.pk == member.pk:
        return False
    found = prepare(_follow_of, names=("follower", "followed"))
    return bool(found.run(follower=viewer.pk, followed=member.pk))


def _follow_of(follower_id: int, followed_id: int) -> QuerySet:
    """Whether one member follows another (compiled once: `offbrand.prepared`)."""
    return Follow.objects.filter(follower_id=follower_id, followed_id=followed_id).only("pk")[:1]


def followed_among(viewer, members: list[User]) -> set[int]:
    """Which of `members` `viewer` follows, in one query."""
    if not viewer.is_authenticated or not members:
        return set()
    return set(
        Follow.objects.filter(follower=viewer, followed__in=members).values_list(
            "followed_id", flat=True
        )
    )


def followers(*, member: User, viewer, before: int | None = None, size: int = PAGE_SIZE) -> Page:
    """Who follows `member`, most recent first; items are Follow rows with `.follower`.
    Suspended members only for moderators (a filter on the join already made)."""
    rows = Follow.objects.filter(followed=member).select_related("follower")
    if not _sees_suspended(viewer):
        rows = rows.filter(follower__is_active=True)
    return _page(rows, before=before, size=size)


def following(*, member: User, viewer, before: int | None = None, size: int = PAGE_SIZE) -> Page:
    rows = Follow.objects.filter(follower=member).select_related("followed")
    if not _sees_suspended(viewer):
        rows = rows.filter(followed__is_active=True)
    return _page(rows, before=before, size=size)


def _sees_suspended(viewer) -> bool:
    """Suspended members' names lead to a profile only moderators see (`shown_member`)."""
    return viewer.is_authenticated and viewer.can(Permission.MODERATE)


def post_with_counts(pk: int) -> Post | None:
    return _posts().filter(pk=pk).first()


def post_comments(*, post: Post, viewer) -> list[Comment]:
    """A post's comments, oldest first; hidden ones only for their author and moderators,
    suspended members' only for moderators."""
    comments = post.comments.select_related("author").order_by("id")
    if not sees_hidden(viewer):
        comments = comments.filter(author__is_active=True)
        if viewer.is_authenticated:
            comments = comments.filter(Q(hidden=False) | Q(author=viewer))
        else:
            comments = comments.filter(hidden=False)
    return list(comments)


def content_record(*, member: User | None = None, size: int = 50) -> list[ContentAction]:
    actions = ContentAction.objects.select_related("actor", "member", "comment")
    if member is not None:
        actions = actions.filter(member=member)
    return list(actions[:size])
