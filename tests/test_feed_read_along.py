"""The feed's posts read in the session's round trip (`accounts.sessions.ReadAlong`,
`IndexView.read_with_session`): on PostgreSQL a signed-in home is one query, the
page is the one the feed's own query reads, for the session's member only, and
never stale. Elsewhere (SQLite) the same stories run through the feed's own query."""

import pytest
from django.db import connection
from django.test import Client

from accounts import sessions
from accounts.models import User, UserSession
from social import kept_pages, selectors
from tests.factories import FollowFactory, PostFactory, UserFactory

one_round_trip = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="several statements in one query: PostgreSQL"
)


@pytest.fixture(autouse=True)
def fresh_process():
    kept_pages._pages.clear()
    sessions._members.clear()


@pytest.fixture
def bob(member):
    bob = UserFactory(username="bob")
    FollowFactory(follower=member, followed=bob)
    PostFactory.create_batch(3, author=bob, body="bob writes")
    return bob


def signed_in(username: str, password: str) -> Client:
    """A browser that signed in with its password (so a devices row names the member),
    after one home page: this process now knows whom its session names."""
    browser = Client()
    reply = browser.post("/accounts/login/", {"username": username, "password": password})
    assert reply.status_code == 302
    assert browser.get("/").status_code == 200
    return browser


def rendered_page(browser: Client, path: str = "/"):
    """The page object the feed view showed (rendered again, not the kept HTML)."""
    kept_pages._pages.clear()
    reply = browser.get(path)
    assert reply.status_code == 200
    return reply.context["page"]


def facts(page) -> tuple:
    return [post.facts for post in page.items], page.before


@one_round_trip
def test_the_home_page_just_after_signing_in_is_one_query(
    member, bob, password, django_assert_num_queries
):
    """The sign-in tells this process whom its new session names: the page it lands on
    is read along too, not only the pages after it."""
    browser = Client()
    reply = browser.post("/accounts/login/", {"username": "alice", "password": password})
    assert reply.status_code == 302
    with django_assert_num_queries(1):
        assert "bob writes" in browser.get("/").content.decode()


@one_round_trip
def test_a_signed_in_home_is_one_query(member, bob, password, django_assert_num_queries):
    browser = signed_in("alice", password)
    with django_assert_num_queries(1):  # the session, the member, their role, the posts
        reply = browser.get("/")
    assert reply.content.decode().count("bob writes") == 3


def test_the_page_is_the_one_the_feeds_own_query_reads(member, bob, password):
    PostFactory.create_batch(25, author=bob)
    browser = signed_in("alice", password)
    first = rendered_page(browser)
    assert facts(first) == facts(selectors.feed(user=member))
    older = rendered_page(browser, f"/?before={first.before}")
    assert older.items and facts(older) == facts(selectors.feed(user=member, before=first.before))


def test_new_hidden_and_suspended_authors_posts_show_on_the_next_request(member, bob, password):
    carol = UserFactory(username="carol")
    FollowFactory(follower=member, followed=carol)
    browser = signed_in("alice", password)
    PostFactory(author=carol, body="carol just wrote")
    assert "carol just wrote" in browser.get("/").content.decode()
    # A suspended member's posts are hidden from everyone (attack report F7).
    User.objects.filter(pk=carol.pk).update(is_active=False)
    page = browser.get("/").content.decode()
    assert "carol just wrote" not in page and "bob writes" in page
    bob.posts.update(hidden=True)
    assert "bob writes" not in browser.get("/").content.decode()


@one_round_trip
def test_posts_read_for_another_member_are_never_shown(
    member, bob, moderator, password, django_assert_num_queries
):
    dave = UserFactory(username="dave")
    FollowFactory(follower=moderator, followed=dave)
    PostFactory(author=dave, body="only the moderator follows dave")
    browser = signed_in("alice", password)
    # The devices row now names the moderator: the next read is for them, the session
    # still names alice, and she is read on her own.
    UserSession.objects.filter(user=member).update(user=moderator)
    browser.get("/")
    assert sessions._members  # the process now guesses the moderator for this session
    with django_assert_num_queries(3):  # session (+ the moderator's posts), alice, her posts
        reply = browser.get("/")
    page = reply.content.decode()
    assert reply.wsgi_request.user == member
    assert "bob writes" in page and "only the moderator follows dave" not in page


def test_a_visitor_and_a_post_request_read_nothing_along(client, member, bob, password):
    assert client.get("/").status_code == 200
    browser = signed_in("alice", password)
    assert browser.post("/").status_code == 405
    assert browser.get("/").status_code == 200
