"""Query budgets: what each page may cost the database, whatever the number of members."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.conftest import posts_and_counts
from tests.factories import CommentFactory, FollowFactory, PostFactory, UserFactory

WRITES = ("INSERT", "UPDATE", "DELETE")


def writes(captured):
    return [
        q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)
    ]


@pytest.fixture
def warm_member_client(member_client):
    member_client.get("/")  # the first request records last-seen
    return member_client


def test_anonymous_landing_page_makes_two_queries_however_many_posts(
    client, roles, django_assert_num_queries
):
    # The roles as administrators set them; the recent posts with their
    # authors and comment counts: two queries.
    with django_assert_num_queries(2):
        assert client.get("/").status_code == 200
    for post in PostFactory.create_batch(15):
        CommentFactory.create_batch(2, post=post)
    with django_assert_num_queries(2):
        assert client.get("/").status_code == 200


def test_anonymous_landing_page_served_again_makes_no_query(client, roles):
    # Remembered until something it shows changes (social/landing.py): no session,
    # no role, no post is read for the next visitor.
    for post in PostFactory.create_batch(3):
        CommentFactory(post=post)
    assert client.get("/").status_code == 200
    with CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            assert Client().get("/").status_code == 200
    assert captured.captured_queries == []


def test_signed_in_page_read_makes_at_most_two_queries(
    warm_member_client, django_assert_max_num_queries
):
    # The session row (sessions live in the database alone, so a logout sticks
    # whatever the cache does), the member with their role in one query, no write.
    with django_assert_max_num_queries(2):
        assert warm_member_client.get("/accounts/profile/").status_code == 200


def test_feed_costs_the_same_following_2_or_40_members_with_many_posts(
    warm_member_client, member, django_assert_num_queries
):
    def follow_writers(count):
        for author in UserFactory.create_batch(count):
            FollowFactory(follower=member, followed=author)
            for post in PostFactory.create_batch(3, author=author):
                CommentFactory(post=post)

    follow_writers(2)
    # The session, the member, then the page of posts with authors and comment counts.
    with django_assert_num_queries(3):
        assert warm_member_client.get("/").status_code == 200
    follow_writers(38)
    with django_assert_num_queries(3):
        page = warm_member_client.get("/")
    assert "Older posts" in page.content.decode()
    before = page.context["page"].before
    with django_assert_num_queries(3):
        assert warm_member_client.get(f"/?before={before}").status_code == 200


def test_empty_feed_with_suggestions_makes_four_queries(
    warm_member_client, roles, django_assert_num_queries
):
    PostFactory.create_batch(10)
    with django_assert_num_queries(4):
        assert "Who to follow" in warm_member_client.get("/").content.decode()


def test_profile_costs_the_same_for_2_or_40_posts_and_followers(
    warm_member_client, roles, django_assert_num_queries
):
    bob = UserFactory(username="bob")
    # session, member, profile shown, posts and both follow counts, "do I follow them"
    with django_assert_num_queries(4 + posts_and_counts()):
        assert warm_member_client.get("/users/bob/").status_code == 200
    for post in PostFactory.create_batch(40, author=bob):
        CommentFactory(post=post)
    for fan in UserFactory.create_batch(40):
        FollowFactory(follower=fan, followed=bob)
    with django_assert_num_queries(4 + posts_and_counts()):
        assert warm_member_client.get("/users/bob/").status_code == 200


def test_own_profile_reuses_the_signed_in_member(
    warm_member_client, member, django_assert_num_queries
):
    # session, member (who is also the profile shown), posts and follow counts
    with django_assert_num_queries(2 + posts_and_counts()):
        page = warm_member_client.get(f"/users/{member.username.upper()}/")
    assert page.status_code == 200
    assert page.context["member"].pk == member.pk
    for post in PostFactory.create_batch(5, author=member):
        CommentFactory(post=post)
    FollowFactory(follower=UserFactory(), followed=member)
    with django_assert_num_queries(2 + posts_and_counts()):
        page = warm_member_client.get(f"/users/{member.username}/")
    assert page.context["counts"] == {"followers": 1, "following": 0}
    assert len(page.context["page"].items) == 5


@pytest.mark.parametrize("direction", ["followers", "following"])
def test_follow_lists_cost_the_same_for_2_or_40_people(
    warm_member_client, member, roles, direction, django_assert_num_queries
):
    bob = UserFactory(username="bob")

    def add(count):
        for other in UserFactory.create_batch(count):
            pair = (other, bob) if direction == "followers" else (bob, other)
            FollowFactory(follower=pair[0], followed=pair[1])
            FollowFactory(follower=member, followed=other)

    add(2)
    # session, member, the listed member, the page with people, whom of them I follow
    with django_assert_num_queries(5):
        assert warm_member_client.get(f"/users/bob/{direction}/").status_code == 200
    add(38)
    with django_assert_num_queries(5):
        assert warm_member_client.get(f"/users/bob/{direction}/").status_code == 200


def test_post_page_costs_the_same_for_2_or_40_comments(
    warm_member_client, roles, django_assert_num_queries
):
    post = PostFactory()
    CommentFactory.create_batch(2, post=post)
    # session, member, the post with its author and count, the comments with their authors
    with django_assert_num_queries(4):
        assert warm_member_client.get(f"/posts/{post.pk}/").status_code == 200
    CommentFactory.create_batch(38, post=post)
    with django_assert_num_queries(4):
        assert warm_member_client.get(f"/posts/{post.pk}/").status_code == 200


def test_moderation_record_costs_the_same_for_2_or_40_actions(
    client, moderator, roles, django_assert_num_queries
):
    from social import services

    client.force_login(moderator)
    client.get("/")

    def hide(count):
        for comment in CommentFactory.create_batch(count):
            services.content_hide(actor=moderator, content=comment, reason="r")

    hide(2)
    client.get("/moderate/record/")
    with django_assert_num_queries(4):  # session, member, member actions, content actions
        assert client.get("/moderate/record/").status_code == 200
    hide(38)
    with django_assert_num_queries(4):
        assert client.get("/moderate/record/").status_code == 200


@pytest.mark.parametrize(
    "path", ["/", "/users/alice/", "/accounts/profile/", "/accounts/password/change/"]
)
def test_ordinary_reads_write_nothing(warm_member_client, path, django_assert_max_num_queries):
    # Seven at most: a profile with its posts and follow counts (budgeted above).
    with django_assert_max_num_queries(7) as captured:
        assert warm_member_client.get(path).status_code == 200
    assert writes(captured) == []


def test_admin_user_list_costs_the_same_for_10_and_500_members(
    client, administrator, roles, django_assert_max_num_queries
):
    client.force_login(administrator)
    UserFactory.create_batch(10)
    client.get("/admin/accounts/user/")
    with django_assert_max_num_queries(20) as small:
        few = client.get("/admin/accounts/user/")
    UserFactory.create_batch(490)
    with django_assert_max_num_queries(len(small.captured_queries)):
        many = client.get("/admin/accounts/user/")
    # The list itself both times, not a bounce to the admin's sign-in page.
    assert few.status_code == many.status_code == 200
    assert len(few.context["cl"].result_list) == 11
    assert len(many.context["cl"].result_list) == 100


CACHE_OPERATIONS = ("get", "set", "add", "incr", "decr", "delete", "get_many", "set_many")
CACHE_OPERATIONS += ("delete_many", "has_key", "touch", "count_attempts", "give_back_attempts")


@pytest.fixture
def cache_calls(monkeypatch):
    """Every operation on the shared cache (one Redis round trip each, offbrand/cache.py)."""
    from django.core.cache import caches

    backend, calls, depth = caches["default"], [], []
    for name in CACHE_OPERATIONS:
        if hasattr(backend, name):
            original = getattr(backend, name)

            def counted(*args, _name=name, _original=original, **kwargs):
                if not depth:  # `decr` calls `incr`: one operation
                    calls.append(_name)
                depth.append(_name)
                try:
                    return _original(*args, **kwargs)
                finally:
                    depth.pop()

            monkeypatch.setattr(backend, name, counted)
    return calls


def sign_in_budget_calls(counters=2):
    """The sign-in budget's cache operations: the counters (a new browser's two:
    the network's and the account's; a known browser's two: its own and the
    account's trusted browsers' together) counted
    before the check, given back after it; on Redis in one round trip each way
    (offbrand/cache.py)."""
    from django.core.cache import cache

    if hasattr(cache, "count_attempts"):
        return ["count_attempts", "give_back_attempts"]
    return ["add", "incr"] * counters + ["decr"] * counters


def one_count_calls():
    """One rate-limit count (`ratelimits.hit`): one round trip on Redis."""
    from django.core.cache import cache

    return ["count_attempts"] if hasattr(cache, "count_attempts") else ["add", "incr"]


def sign_in(client, password):
    response = client.post("/accounts/login/", {"username": "alice", "password": password})
    assert response.status_code == 302
    assert response.url == "/"


def statements(captured):
    """The statements a request sends, without the savepoints that the test's own
    transaction adds around a write (served in autocommit, there are none)."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def test_sign_in_from_a_known_browser_makes_two_queries_four_on_sqlite(
    client, member, password, cache_calls, django_assert_max_num_queries
):
    # A browser that signed in before (its device cookie), as most sign-ins are.
    sign_in(client, password)
    client.post("/accounts/logout/")
    cache_calls.clear()
    with django_assert_max_num_queries(7) as captured:
        sign_in(client, password)
    # The member with role and whether they have a second factor; last login and
    # last seen in one UPDATE and the new session's INSERT, sent with the signed-in
    # devices row's INSERT in one statement on PostgreSQL (before it elsewhere).
    sent = [sql.lstrip("(").split(" ", 1)[0] for sql in statements(captured)]
    if connection.vendor == "postgresql":
        assert sent == ["SELECT", "WITH"], statements(captured)
        written = statements(captured)[1]
        assert "UPDATE" in written and written.count("INSERT INTO") == 2, written
    else:
        assert sent == ["SELECT", "UPDATE", "INSERT", "INSERT"], statements(captured)
    assert cache_calls == sign_in_budget_calls(), cache_calls


def test_sign_in_from_a_new_browser_adds_only_the_notice(
    client, member, password, cache_calls, django_assert_max_num_queries, mailoutbox
):
    with django_assert_max_num_queries(10) as captured:
        sign_in(client, password)
    # The four, and the notice's delivery record (sent at once by the test's task backend).
    assert len(statements(captured)) <= 5, statements(captured)
    assert [m.subject for m in mailoutbox] == ["[Offbrand] New sign-in to your account"]
    # The budget's, and the notices' cap (3 an hour per account). A confirmed address's
    # notice is off the mail ceiling (attack report F6): nothing more is counted. On
    # Redis the right attempt is given back in the cap's round trip: two in all.
    from django.core.cache import cache

    if hasattr(cache, "count_attempts"):
        assert cache_calls == ["count_attempts", "count_attempts"], cache_calls
    else:
        assert cache_calls == sign_in_budget_calls() + one_count_calls(), cache_calls


@pytest.mark.parametrize("query", [{}, {"active": "no"}, {"q": "mem"}])
def test_moderation_list_costs_the_same_for_3_or_60_members(
    client, moderator, roles, query, django_assert_num_queries
):
    client.force_login(moderator)
    client.get("/")
    UserFactory.create_batch(3, is_active=False)
    # session, member, the count (PostgreSQL: the planner's figure first, for an
    # unfiltered list), the page
    budget = 4 + (connection.vendor == "postgresql" and not query)
    with django_assert_num_queries(budget):
        assert client.get("/moderate/users/", query).status_code == 200
    UserFactory.create_batch(57, is_active=False)
    with django_assert_num_queries(budget):
        assert client.get("/moderate/users/", query).status_code == 200
