"""Querysets compiled once (`offbrand.prepared`): the same objects as the ORM's, each run."""

import pytest
from django.db import connection

from accounts.models import User
from offbrand.prepared import prepare, text
from social import selectors
from social.models import Post
from tests.factories import CommentFactory, FollowFactory, PostFactory, UserFactory


def card(post: Post) -> tuple:
    author = post.author
    return (
        post.pk,
        post.body_html,
        post.created_at,
        post.hidden,
        post.comment_count,
        author.pk,
        author.username,
        author.role_id,
        author.last_seen,
    )


def by_author(author_id: int):
    return Post.objects.select_related("author").filter(author_id=author_id).order_by("-id")


def _by_author(limit: int, author_id: int):
    return selectors._posts().filter(author_id=author_id).order_by("-id")[:limit]


def test_a_prepared_queryset_gives_what_the_orm_gives_for_each_value(
    roles, django_assert_num_queries
):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    for post in PostFactory.create_batch(3, author=alice):
        CommentFactory.create_batch(2, post=post)
    PostFactory.create_batch(2, author=bob)
    prepared = prepare(_by_author, 10, names=("author",))
    for member in (alice, bob, alice):
        with django_assert_num_queries(1):
            posts = prepared.run(author=member.pk)
        expected = list(_by_author(10, member.pk))
        assert [card(p) for p in posts] == [card(p) for p in expected]
        assert posts and all(p._state.adding is False for p in posts)
        with django_assert_num_queries(0):
            assert {p.author.username for p in posts} == {member.username}
    assert prepare(_by_author, 10, names=("author",)) is prepared


def _by_username(name: int):
    return User.objects.filter(username=text(name))


def test_a_text_placeholder_takes_each_value(roles):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    prepared = prepare(_by_username, names=("name",))
    assert prepared.run(name="bob") == [bob]
    assert prepared.run(name="alice") == [alice]
    assert prepared.run(name="carol") == []


def test_a_placeholder_missing_from_the_sql_is_refused(db):
    with pytest.raises(ValueError, match="author"):
        prepare(lambda author: Post.objects.all(), names=("author",))


def test_feed_profile_and_landing_pages_match_the_orm(member, roles):
    writers = UserFactory.create_batch(3)
    for writer in writers:
        FollowFactory(follower=member, followed=writer)
        for post in PostFactory.create_batch(9, author=writer):
            CommentFactory(post=post)
    PostFactory.create_batch(4, author=member)
    hidden = PostFactory(author=writers[0], hidden=True)
    feed = selectors.feed(user=member, size=10)
    authors = [w.pk for w in writers] + [member.pk]
    every = list(selectors._posts().filter(author_id__in=authors, hidden=False).order_by("-id"))
    assert [card(p) for p in feed.items] == [card(p) for p in every[:10]]
    older = selectors.feed(user=member, before=feed.before, size=10)
    assert [card(p) for p in older.items] == [card(p) for p in every[10:20]]
    profile = selectors.profile_posts(member=writers[0], viewer=writers[0], size=5)
    assert hidden.pk == profile.items[0].pk  # the author sees their hidden post
    public = selectors.profile_posts(member=writers[0], viewer=member, size=5)
    assert hidden.pk not in [p.pk for p in public.items]
    second = selectors.profile_posts(member=writers[0], viewer=member, before=public.before, size=5)
    expected = list(by_author(writers[0].pk).filter(hidden=False))
    assert [p.pk for p in public.items + second.items] == [p.pk for p in expected]
    landing = selectors.recent_public_posts(size=10)
    assert [card(p) for p in landing] == [
        card(p) for p in selectors._posts().filter(hidden=False).order_by("-id")[:10]
    ]
    assert connection.vendor in {"postgresql", "sqlite"}


def test_insert_writes_what_save_writes_and_sends_its_signals(member):
    from django.db.models.signals import post_save

    from accounts.models import UserSession
    from offbrand.prepared import insert

    saved = []
    receiver = lambda sender, instance, created, **kwargs: saved.append((instance, created))  # noqa: E731
    post_save.connect(receiver, sender=UserSession)
    try:
        row = UserSession(user=member, key_hash="a" * 64, sealed_key="s", network="10.0.0.0/24")
        insert(row)
    finally:
        post_save.disconnect(receiver, sender=UserSession)
    assert row.pk is not None and not row._state.adding
    assert saved == [(row, True)]
    stored = UserSession.objects.get(pk=row.pk)
    assert (stored.user_id, stored.key_hash, stored.created_at) == (
        member.pk,
        "a" * 64,
        row.created_at,
    )


def test_an_insert_s_values_are_what_the_orm_s_compiler_gives(member):
    """Text fields holding text are sent as they are; every other value (a number
    in a text field, a date, a key) as the ORM prepares it."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from accounts.models import UserSession
    from offbrand.prepared import _insert

    rows = [
        UserSession(user=member, key_hash="a" * 64, sealed_key="s", network="10.0.0.0/24"),
        UserSession(user=member, key_hash=12345, sealed_key="s", user_agent=""),
        Session(session_key="k" * 32, session_data="{}", expire_date=timezone.now()),
    ]
    for row in rows:
        prepared = _insert(type(row), "default")
        compiler = prepared.compiler
        expected = [
            compiler.prepare_value(field, compiler.pre_save_val(field, row))
            for field in prepared.fields
        ]
        assert prepared.params(row) == expected
    assert "12345" in _insert(UserSession, "default").params(rows[1])


def test_insert_refuses_a_model_with_its_own_save(member):
    from offbrand.prepared import insert

    with pytest.raises(TypeError):
        insert(User(username="carol"))


def test_update_changes_only_the_named_row(roles):
    from offbrand.prepared import update

    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    assert update(User, alice.pk, about_me="hello") == 1
    alice.refresh_from_db(), bob.refresh_from_db()
    assert (alice.about_me, bob.about_me) == ("hello", "")


@pytest.mark.parametrize("active", ["", "yes", "no"])
def test_the_moderation_lists_pages_and_count_match_the_orm(roles, active):
    from django.core.paginator import Paginator

    from accounts import selectors as members

    for n in range(7):
        UserFactory(username=f"member{n}", is_active=n % 3 != 0)
    prepared = members.moderation_members(active=active)
    orm = members.member_search(active=active)
    assert prepared.count() == orm.count() == len(prepared)
    ours, theirs = Paginator(prepared, 2), Paginator(orm, 2)
    assert ours.num_pages == theirs.num_pages > 1
    for number in ours.page_range:
        rows = ours.page(number).object_list
        assert [(m.pk, m.username, m.role.name) for m in rows] == [
            (m.pk, m.username, m.role.name) for m in theirs.page(number).object_list
        ]
    with pytest.raises(TypeError):
        prepared[2]


def test_a_search_goes_through_the_orm(roles):
    from accounts import selectors as members

    UserFactory(username="member1")
    found = members.moderation_members(query="mem")
    assert list(found) == list(members.member_search(query="mem"))


def test_a_profiles_member_and_follow_lookups_match_the_orm(roles):
    from accounts import selectors as members
    from accounts.usernames import username_key

    alice, bob = UserFactory(username="Alice"), UserFactory(username="bob")
    FollowFactory(follower=alice, followed=bob)
    for name in ("alice", "ALICE", "bob", "nobody"):
        orm = User.objects.select_related("role").filter(username_key=username_key(name)).first()
        found = members.member_named(username_key(name))
        assert found == orm
        if found is not None:
            assert found.role.name == orm.role.name
    assert selectors.is_following(alice, bob) is True
    assert selectors.is_following(bob, alice) is False
