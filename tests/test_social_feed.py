"""The feed selector against its plain definition: posts by the members followed and
one's own, visible, newest first, one page at a time, whatever the mix of authors.

On PostgreSQL this exercises the two-step index read (each followed member's
newest post, then more from those that reach the page); elsewhere the plain query.
"""

import random

import pytest
from django.db.models import Q

from social import selectors
from social.models import Follow, Post
from tests.factories import FollowFactory, PostFactory, UserFactory


def expected_ids(user, before, size):
    followed = Follow.objects.filter(follower=user).values("followed_id")
    posts = Post.objects.filter(Q(author_id__in=followed) | Q(author=user), hidden=False)
    if before:
        posts = posts.filter(pk__lt=before)
    return list(posts.order_by("-pk").values_list("pk", flat=True)[:size])


def walk(user, size):
    """Every page from the newest, following the cursor: the ids each page shows."""
    pages, before = [], None
    while True:
        page = selectors.feed(user=user, before=before, size=size)
        pages.append((before, [post.pk for post in page.items]))
        if page.before is None:
            return pages
        before = page.before


@pytest.mark.parametrize("size", [1, 3, 5])
def test_every_page_matches_the_plain_definition(roles, size):
    rng = random.Random(14)
    reader = UserFactory(username="reader")
    authors = UserFactory.create_batch(8)
    for author in authors[:6]:
        FollowFactory(follower=reader, followed=author)
    # One prolific author fills whole pages alone; others write one post or none;
    # some posts are hidden; the reader writes too; two authors are not followed.
    weights = [30, 1, 1, 0, 4, 2, 9, 9]
    for author, count in zip(authors, weights, strict=True):
        for _ in range(count):
            PostFactory(author=author, hidden=rng.random() < 0.2)
    for _ in range(3):
        PostFactory(author=reader)
    posts = list(Post.objects.values_list("pk", flat=True))
    rng.shuffle(posts)

    pages = walk(reader, size)
    shown = [pk for _, ids in pages for pk in ids]
    assert shown == expected_ids(reader, None, 1000)
    for before, ids in pages:
        assert ids == expected_ids(reader, before, size)
    for before in posts[:10]:  # any cursor, not only the ones the pages hand out
        page = selectors.feed(user=reader, before=before, size=size)
        assert [post.pk for post in page.items] == expected_ids(reader, before, size)


def test_fewer_followed_authors_than_a_page_still_fill_the_page(roles):
    reader = UserFactory(username="reader")
    author = UserFactory()
    FollowFactory(follower=reader, followed=author)
    PostFactory.create_batch(7, author=author)
    PostFactory(author=reader)
    page = selectors.feed(user=reader, size=5)
    assert [post.pk for post in page.items] == expected_ids(reader, None, 5)
    assert page.before is not None
