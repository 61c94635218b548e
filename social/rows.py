"""A page's posts as their rows: the `Post` objects made only when a card needs them.

The feed shows its posts through `{% post_cards %}`, which keeps each card's
HTML under `card_key` and, on most requests, renders none. Making the twenty
model objects of a page (each post and its author, every column through
`Model.__init__` and its signals) then cost more than looking all the cards up.
A `PostRow` holds what `card_key` reads, taken straight from the row, and makes
the post (with its author and comment count, exactly as the prepared queryset
would) the first time anything else is read from it.

The query selects only those columns (`card_columns`): the post and author are
made with the rest deferred. The card's template reads nothing else (`card_key`
lists all it reads), so a card rendered from them makes no query; turning about
forty columns into Python values cost a third more than these thirteen
(bench/README.md, sixth pass).
"""

from functools import cache
from operator import itemgetter

from django.db.models import QuerySet

from accounts.models import User
from offbrand.prepared import PreparedQuerySet
from social.models import Post


def _fact(index: int) -> property:
    return property(lambda row: row.facts[index])


def _author_fact(index: int) -> property:
    return property(lambda author: author._post.facts[index])


class AuthorRow:
    """The author of a `PostRow`: id, name and pictures from the row; anything
    else from the `User` the row makes."""

    __slots__ = ("_post",)

    def __init__(self, post):
        self._post = post

    pk = id = _author_fact(8)
    username = _author_fact(9)

    def avatar_key(self) -> tuple:
        """`User.avatar_key()` of the stored row (the same names and hash)."""
        return self._post.facts[10:13]

    def __getattr__(self, name):
        return getattr(self._post.post.author, name)


class PostRow:
    """One post of a page, from its row (see the module's docstring). `facts`: every
    column its card shows (`POST_COLUMNS`, the comment count, `AUTHOR_COLUMNS`), what
    a kept page's key holds for it (social/kept_pages.py); the fields read from it."""

    __slots__ = ("facts", "_row", "_prepared", "_post")

    def __init__(self, prepared: PreparedQuerySet, row, getter):
        self.facts = getter(row)
        self._row, self._prepared, self._post = row, prepared, None

    pk = id = _fact(0)
    author_id = _fact(1)
    body_html = _fact(2)
    created_at = _fact(3)
    edited_at = _fact(4)
    hidden = _fact(5)
    hidden_reason = _fact(6)
    comment_count = _fact(7)

    @property
    def author(self) -> AuthorRow:
        return AuthorRow(self)

    @property
    def post(self) -> Post:
        """The `Post` of this row (with its author and comment count), made once."""
        if self._post is None:
            self._post = self._prepared.make(self._row)
        return self._post

    def __getattr__(self, name):
        return getattr(self.post, name)


POST_COLUMNS = (
    "id",
    "author_id",
    "body_html",
    "created_at",
    "edited_at",
    "hidden",
    "hidden_reason",
)
AUTHOR_COLUMNS = ("id", "username", "avatar", "avatar_small", "avatar_hash")


def card_columns(posts: QuerySet) -> QuerySet:
    """`posts` (with `select_related("author")`) reading only the columns a card shows."""
    fields = [name.removesuffix("_id") for name in POST_COLUMNS]  # `author_id`: the relation
    return posts.only(*fields, *(f"author__{name}" for name in AUTHOR_COLUMNS))


@cache
def _getter(prepared: PreparedQuerySet):
    """What `PostRow` takes from a row of `prepared` (posts with their authors and
    comment counts), in its order."""
    positions = [prepared.position(name, Post) for name in POST_COLUMNS]
    positions.append(prepared.position("comment_count"))
    positions += [prepared.position(name, User) for name in AUTHOR_COLUMNS]
    return itemgetter(*positions)


def post_rows(prepared: PreparedQuerySet, rows: list | None = None, **values) -> list[PostRow]:
    """`prepared.run(**values)`, each post made only when needed; `rows`: already read."""
    getter = _getter(prepared)
    if rows is None:
        rows = prepared.rows(**values)
    return [PostRow(prepared, row, getter) for row in rows]
