"""The signed-in feed page kept per process (`social/kept_pages.py`): never stale,
never another member's, and each response with its own CSRF token."""

import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from accounts.models import User, identicon_key
from offbrand import csrf as offbrand_csrf
from social import kept_pages
from social.models import Post
from social.templatetags import posts as cards
from tests.factories import CommentFactory, FollowFactory, PostFactory, UserFactory

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def no_pages_from_other_tests():
    kept_pages._pages.clear()
    cards._cards.clear()
    offbrand_csrf._renewed.clear()


@pytest.fixture
def bob(member, roles):
    bob = UserFactory(username="bob")
    FollowFactory(follower=member, followed=bob)
    PostFactory.create_batch(3, author=bob)
    return bob


def test_the_page_is_rendered_once_then_kept(member_client, bob):
    first = member_client.get("/")
    assert first.templates and len(kept_pages._pages) == 1
    second = member_client.get("/")
    assert second.templates == []  # served from memory
    assert TOKEN.sub("", second.content.decode()) == TOKEN.sub("", first.content.decode())


def test_each_kept_response_has_its_own_token_that_django_accepts(member, bob):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    client.get("/")
    replies = [client.get("/") for _ in range(2)]
    assert all(reply.templates == [] for reply in replies)
    tokens = [TOKEN.findall(reply.content.decode()) for reply in replies]
    assert len(tokens[0]) == 2 and len(set(tokens[0])) == 1  # the menu's and the compose box's
    assert tokens[0][0] != tokens[1][0]  # masked anew for each response (BREACH)
    # The cookie renewed once (offbrand.csrf.page_token), not re-sent with every page.
    assert replies[0].cookies["csrftoken"].value and "csrftoken" not in replies[1].cookies
    post = client.post("/posts/new/", {"body": "hello", "csrfmiddlewaretoken": tokens[0][0]})
    assert post.status_code == 302


def test_a_message_is_shown_not_kept(member_client, bob):
    member_client.get("/")
    reply = member_client.post("/posts/new/", {"body": "hello"}, follow=True)
    assert "Your post is published." in reply.content.decode()
    assert "Your post is published." not in member_client.get("/").content.decode()


def test_each_page_of_the_feed_is_its_own(member_client, bob):
    PostFactory.create_batch(20, author=bob)
    first = member_client.get("/").content.decode()
    before = re.search(r'href="\?before=(\d+)"', first)[1]
    older = member_client.get(f"/?before={before}").content.decode()
    assert older != first and f'value="/?before={before}"' in older
    assert member_client.get("/").content.decode().count("?before=") == first.count("?before=")
    # The same posts under another address: the compose box returns there.
    assert 'value="/?from=mail"' in member_client.get("/?from=mail").content.decode()


def test_two_members_never_share_a_page(member_client, member, bob, roles):
    carol = UserFactory(username="carol")
    FollowFactory(follower=carol, followed=bob)
    other = Client()
    other.force_login(carol)
    assert "carol" not in member_client.get("/").content.decode()
    theirs = other.get("/")
    assert theirs.templates and "/users/carol/" in theirs.content.decode()
    assert "/users/carol/" not in member_client.get("/").content.decode()


def test_a_new_post_an_edit_or_a_rename_shows_at_once(member_client, bob):
    from social import services

    member_client.get("/")
    post = services.post_create(author=bob, body="fresh words")
    assert "fresh words" in member_client.get("/").content.decode()
    services.post_update(post=post, editor=bob, body="edited words")
    page = member_client.get("/").content.decode()
    assert "edited words" in page and "fresh words" not in page
    bob.username = "robert"
    bob.save(update_fields=["username", "username_key"])
    assert "/users/robert/" in member_client.get("/").content.decode()


def _edit_post(**values):
    def change(post, bob):
        Post.objects.filter(pk=post.pk).update(**values)

    return change


def _edit_author(**values):
    def change(post, bob):
        User.objects.filter(pk=bob.pk).update(**values)

    return change


def _comment(post, bob):
    CommentFactory(post=post)


CARD_FACTS = {
    "body": (_edit_post(body_html="<p>words typed anew</p>"), "words typed anew"),
    "written": (
        _edit_post(created_at=datetime(2001, 2, 3, 4, 5, tzinfo=UTC)),
        'datetime="2001-02-03T04:05:00',
    ),
    "edited": (_edit_post(edited_at=datetime(2002, 3, 4, 5, 6, tzinfo=UTC)), "edited</span>"),
    "comments": (_comment, "1 comment<"),
    "name": (_edit_author(username="bobby"), "/users/bobby/"),
    "picture": (_edit_author(avatar="avatars/b.webp", avatar_small="avatars/b-s.webp"), "b-s.webp"),
    "identicon": (_edit_author(avatar_hash="f" * 32), identicon_key("f" * 32)),
}


@pytest.mark.parametrize("fact", CARD_FACTS)
def test_each_fact_a_card_shows_changes_the_kept_feed_at_once(member_client, bob, fact):
    """The kept page's key holds each card's facts (`PostRow.facts`): a change of
    any one column a card shows is a new page, never the kept one."""
    change, shown = CARD_FACTS[fact]
    post = Post.objects.filter(author=bob).latest("id")
    member_client.get("/")
    assert shown not in member_client.get("/").content.decode()  # kept, before
    change(post, bob)
    assert shown in member_client.get("/").content.decode()


def test_hiding_or_a_new_reason_changes_the_authors_kept_profile_at_once(client, bob, moderator):
    from social import services

    client.force_login(bob)
    post = Post.objects.filter(author=bob).latest("id")
    client.get(f"/users/{bob.username}/")
    assert "off topic" not in client.get(f"/users/{bob.username}/").content.decode()
    services.content_hide(actor=moderator, content=post, reason="off topic")
    assert "Reason: off topic" in client.get(f"/users/{bob.username}/").content.decode()
    Post.objects.filter(pk=post.pk).update(hidden_reason="spam")
    assert "Reason: spam" in client.get(f"/users/{bob.username}/").content.decode()


def test_a_kept_page_renews_the_csrf_cookie_once_a_day_not_with_every_page(
    member, bob, monkeypatch
):
    """Django re-sends the CSRF cookie with every page that hands out a token, to
    renew its expiry; a kept page renews it at most once a day, and every page still
    varies by cookie and carries a token the cookie's secret accepts."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    client.get("/")  # rendered: Django sets the cookie
    renewed = client.get("/")  # kept: the first time this process sees the secret
    assert renewed.templates == [] and renewed.cookies["csrftoken"]["max-age"]
    later = [client.get("/") for _ in range(3)]
    assert all("csrftoken" not in reply.cookies for reply in later)
    assert all("Cookie" in reply["Vary"] for reply in later)
    now = offbrand_csrf.time.monotonic()
    monkeypatch.setattr(
        offbrand_csrf.time, "monotonic", lambda: now + offbrand_csrf.RENEW_EVERY + 1
    )
    a_day_later = client.get("/")
    assert a_day_later.cookies["csrftoken"].value == renewed.cookies["csrftoken"].value
    assert "csrftoken" not in client.get("/").cookies
    token = TOKEN.findall(later[-1].content.decode())[0]
    assert (
        client.post("/posts/new/", {"body": "hi", "csrfmiddlewaretoken": token}).status_code == 302
    )


def test_a_kept_page_sets_a_new_csrf_cookie_for_a_browser_without_one(member, bob):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    client.get("/")
    client.get("/")  # kept
    client.cookies.pop("csrftoken")
    reply = client.get("/")
    assert reply.templates == [] and reply.cookies["csrftoken"].value
    token = TOKEN.findall(reply.content.decode())[0]
    assert (
        client.post("/posts/new/", {"body": "hi", "csrfmiddlewaretoken": token}).status_code == 302
    )
