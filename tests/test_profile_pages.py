"""The signed-in profile page kept whole per process (`social/kept_pages.py`): never
stale after a change to anything it shows, never another viewer's, each response with
its own CSRF token and "last seen … ago" as the clock says."""

import re
from datetime import datetime, timedelta

import pytest
from django.contrib.humanize.templatetags import humanize
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.autoreload import reset_loaders
from django.test import Client
from django.utils import timezone

from accounts.models import Permission, User
from accounts.templatetags import accounts as menus
from offbrand.templatetags import kept
from social import kept_pages, services
from social.models import Follow, Post
from social.selectors import PAGE_SIZE
from social.templatetags import posts as cards
from tests.conftest import image_bytes
from tests.factories import FollowFactory, PostFactory, UserFactory

OWN, BOB = "/users/alice/", "/users/bob/"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def forget_all():
    kept_pages._pages.clear()
    kept._fragments.clear()
    cards._cards.clear()
    menus._navs.clear()


@pytest.fixture(autouse=True)
def nothing_kept_from_other_tests():
    forget_all()


@pytest.fixture
def bob(roles):
    bob = UserFactory(username="bob", email="bob@example.com")
    PostFactory.create_batch(2, author=bob)
    return bob


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client, path=OWN, kept_page=None) -> str:
    """The page's HTML, the response's CSRF tokens taken out; `kept_page`: whether it
    must have come from memory (True) or been rendered (False)."""
    response = client.get(path)
    assert response.status_code == 200
    if kept_page is not None:
        assert (response.templates == []) is kept_page
    return TOKEN.sub('value=""', response.content.decode())


def fresh_page(client, path=OWN) -> str:
    """The same page rendered anew, from nothing kept."""
    forget_all()
    return page(client, path, kept_page=False)


def test_the_page_is_rendered_once_then_kept(member_client, bob):
    first = page(member_client, kept_page=False)
    assert len(kept_pages._pages) == 1
    assert page(member_client, kept_page=True) == first
    assert page(member_client, BOB, kept_page=False) != first


def test_each_kept_response_has_its_own_token_that_django_accepts(member, bob):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    opened = [client.get(OWN), client.get(BOB)]
    own = [client.get(OWN) for _ in range(2)]
    other = client.get(BOB)
    assert all(reply.templates == [] for reply in [*own, other])
    tokens = [TOKEN.findall(reply.content.decode()) for reply in own]
    assert len(tokens[0]) == 2 and len(set(tokens[0])) == 1  # the menu's and the compose box's
    assert tokens[0][0] != tokens[1][0]  # masked anew for each response (BREACH)
    # Set for the new browser, then renewed once (offbrand.csrf.page_token), not re-sent
    # with every page.
    assert opened[0].cookies["csrftoken"].value
    assert len([r for r in [opened[1], *own] if "csrftoken" in r.cookies]) == 1
    kept_text = "".join(str(p) for pieces, _ in kept_pages._pages.values() for p in pieces)
    assert not any(token in kept_text for token in tokens[0] + tokens[1])
    post = client.post("/posts/new/", {"body": "hello", "csrfmiddlewaretoken": tokens[0][0]})
    assert post.status_code == 302
    follow_token = TOKEN.findall(other.content.decode())[-1]
    reply = client.post(f"{BOB}follow/", {"csrfmiddlewaretoken": follow_token})
    assert reply.status_code == 302
    assert Follow.objects.filter(follower=member, followed=bob).exists()
    assert client.post(f"{BOB}unfollow/").status_code == 403  # CSRF still checked


class _Later(datetime):
    """The clock two hours on, for `naturaltime`."""

    @classmethod
    def now(cls, tz=None):
        return datetime.now(tz) + timedelta(hours=2)


@pytest.mark.parametrize("path", [OWN, BOB])
def test_last_seen_follows_the_clock_though_the_page_is_kept(
    member_client, member, bob, monkeypatch, path
):
    # Within the interval, so the own page's visit does not move it (LastSeenMiddleware).
    seen = timezone.now() - timedelta(seconds=20)
    User.objects.filter(pk__in=[member.pk, bob.pk]).update(last_seen=seen)
    first = page(member_client, path)
    assert "20\xa0seconds ago" in first
    assert page(member_client, path, kept_page=True) == first
    monkeypatch.setattr(humanize, "datetime", _Later)
    later = page(member_client, path, kept_page=True)
    assert "2\xa0hours ago" in later and "seconds ago" not in later
    assert later == fresh_page(member_client, path)


def test_a_message_is_shown_not_kept(member_client, bob):
    page(member_client)
    reply = member_client.post("/posts/new/", {"body": "hello", "next": OWN}, follow=True)
    assert "Your post is published." in reply.content.decode()
    assert "Your post is published." not in page(member_client)
    assert "hello" in page(member_client, kept_page=True)


def test_a_visitor_or_a_member_not_confirmed_gets_the_page_rendered(client, unconfirmed, bob):
    assert page(client, BOB) == page(client, BOB, kept_page=False)
    newbie = signed_in(unconfirmed)
    assert page(newbie, "/users/newbie/") == page(newbie, "/users/newbie/", kept_page=False)
    assert kept_pages._pages == {}


def test_a_page_that_used_the_csp_nonce_is_not_kept(member_client, monkeypatch):
    monkeypatch.setattr(kept_pages, "_used_nonce", lambda request: True)
    page(member_client)
    assert kept_pages._pages == {}


def test_each_page_of_posts_is_its_own(member_client, member):
    PostFactory.create_batch(25, author=member)
    first = page(member_client)
    before = re.search(r'href="\?before=(\d+)"', first)[1]
    older = page(member_client, f"{OWN}?before={before}")
    assert older != first and f'value="{OWN}?before={before}"' in older
    assert page(member_client, kept_page=True) == first
    assert older == fresh_page(member_client, f"{OWN}?before={before}")


def test_two_viewers_never_get_each_others_page(member, moderator, administrator, bob):
    """Each viewer's page equals the one rendered for them alone, whoever came first."""
    carol = UserFactory(username="carol")
    Follow.objects.create(follower=member, followed=bob)
    viewers = [signed_in(v) for v in (member, carol, moderator, administrator)]
    for path in (BOB, OWN):
        seen = [page(viewer, path) for viewer in viewers]
        for viewer, shown in zip(viewers, seen, strict=True):
            assert page(viewer, path, kept_page=True) == shown
        for viewer, shown in zip(viewers, seen, strict=True):
            assert fresh_page(viewer, path) == shown
        assert len(set(seen)) == len(seen)
    assert (
        len(
            set(
                page(viewer, f"/users/{name}/")
                for viewer, name in zip(viewers, ("alice", "carol", "mod", "boss"), strict=True)
            )
        )
        == 4
    )


def profile_edited(member_client, member, bob, roles):
    member_client.post(
        "/accounts/profile/", {"first_name": "Alice", "last_name": "Doe", "about_me": "Bio here"}
    )


def avatar_uploaded(member_client, member, bob, roles):
    upload = SimpleUploadedFile("me.png", image_bytes(), content_type="image/png")
    member_client.post(
        "/accounts/profile/",
        {"first_name": "", "last_name": "", "about_me": "", "avatar_upload": upload},
    )


def renamed_in_capitals(member_client, member, bob, roles):  # the same address finds them
    User.objects.filter(pk=member.pk).update(username="ALICE")


def follows_bob(member_client, member, bob, roles):
    member_client.post(f"{BOB}follow/")


def unfollows_bob(member_client, member, bob, roles):
    Follow.objects.filter(follower=member, followed=bob).delete()


def followed_by_bob(member_client, member, bob, roles):
    Follow.objects.create(follower=bob, followed=member)


def post_added(member_client, member, bob, roles):
    services.post_create(author=member, body="Brand new words")


def post_removed(member_client, member, bob, roles):
    Post.objects.filter(author=member).order_by("-id")[:1].get().delete()


def post_hidden(member_client, member, bob, roles):
    Post.objects.filter(author=member).update(hidden=True, hidden_reason="spam")


def post_edited(member_client, member, bob, roles):
    post = Post.objects.filter(author=member).latest("id")
    services.post_update(post=post, editor=member, body="Second thoughts")


def made_moderator(member_client, member, bob, roles):
    User.objects.filter(pk=member.pk).update(role=roles["Moderator"])


def made_administrator(member_client, member, bob, roles):
    User.objects.filter(pk=member.pk).update(role=roles["Administrator"])


def role_may_no_longer_write(member_client, member, bob, roles):
    role = member.role
    role.permissions &= ~Permission.WRITE
    role.save(update_fields=["permissions"])


def role_granted_moderation(member_client, member, bob, roles):
    role = member.role
    role.permissions |= Permission.MODERATE
    role.save(update_fields=["permissions"])


@pytest.mark.parametrize(
    "change",
    [
        profile_edited,
        avatar_uploaded,
        renamed_in_capitals,
        follows_bob,
        unfollows_bob,
        followed_by_bob,
        post_added,
        post_removed,
        post_hidden,
        post_edited,
        made_moderator,
        made_administrator,
        role_may_no_longer_write,
        role_granted_moderation,
    ],
)
def test_whatever_the_own_page_shows_changes_it_at_once(member_client, member, bob, roles, change):
    PostFactory.create_batch(2, author=member)
    if change is unfollows_bob:
        Follow.objects.create(follower=member, followed=bob)
    before = page(member_client)
    assert page(member_client, kept_page=True) == before
    change(member_client, member, bob, roles)
    after = page(member_client)
    if 'class="messages"' in after:  # "Your profile is saved.": shown once, not kept
        after = page(member_client, kept_page=False)
    assert after == fresh_page(member_client)  # fails if the key leaves out what changed
    assert after != before


def bob_followed_by_carol(moderator, bob, roles):
    Follow.objects.create(follower=UserFactory(username="carol"), followed=bob)


def viewer_unfollows_bob(moderator, bob, roles):
    Follow.objects.filter(follower=moderator, followed=bob).delete()


def bob_suspended(moderator, bob, roles):
    User.objects.filter(pk=bob.pk).update(is_active=False)


def bob_made_moderator(moderator, bob, roles):
    User.objects.filter(pk=bob.pk).update(role=roles["Moderator"])


def bob_seen_long_ago(moderator, bob, roles):
    User.objects.filter(pk=bob.pk).update(last_seen=timezone.now() - timedelta(days=3))


def bob_writes(moderator, bob, roles):
    services.post_create(author=bob, body="Bob again")


@pytest.mark.parametrize(
    "change",
    [
        bob_followed_by_carol,
        viewer_unfollows_bob,
        bob_suspended,
        bob_made_moderator,
        bob_writes,
        bob_seen_long_ago,
    ],
)
def test_whatever_anothers_page_shows_a_moderator_changes_at_once(moderator, bob, roles, change):
    Follow.objects.create(follower=moderator, followed=bob)
    mod = signed_in(moderator)
    before = page(mod, BOB)
    assert page(mod, BOB, kept_page=True) == before
    change(moderator, bob, roles)
    after = page(mod, BOB)
    assert after == fresh_page(mod, BOB)
    assert after != before


def test_the_older_link_goes_with_the_oldest_post(member_client, member):
    posts = PostFactory.create_batch(PAGE_SIZE + 1, author=member)
    assert "Older posts" in page(member_client)
    Post.objects.filter(pk=posts[0].pk).delete()  # not on the first page: its cards stay
    after = page(member_client)
    assert "Older posts" not in after
    assert after == fresh_page(member_client)


def test_an_edited_template_shows_at_once(member_client, bob):
    """What the autoreloader does when a template file changes: a new template object."""
    page(member_client)
    page(member_client, kept_page=True)
    reset_loaders()
    page(member_client, kept_page=False)


def test_the_dates_follow_the_time_zone_with_no_post_shown(member_client, member):
    """The card's dates are shown in the current time zone, also on a page without cards."""
    utc = page(member_client)
    with timezone.override("Asia/Tokyo"):
        tokyo = page(member_client)
        assert tokyo != utc and "+09:00" in tokyo
        assert tokyo == fresh_page(member_client)


def test_the_follow_counts_come_with_the_posts_or_without_any(client, member, bob):
    """Posts and counts are read in one round trip on PostgreSQL (`profile_page`):
    the counts are right whether the member wrote nothing, a page, or more."""
    for fan in UserFactory.create_batch(3):
        FollowFactory(follower=fan, followed=bob)
    FollowFactory(follower=bob, followed=member)
    client.force_login(member)
    Post.objects.filter(author=bob).delete()
    for posts in (0, 1, PAGE_SIZE + 1):
        PostFactory.create_batch(posts - Post.objects.filter(author=bob).count(), author=bob)
        reply = client.get(BOB)
        assert reply.context["counts"] == {"followers": 3, "following": 1}
        assert len(reply.context["page"].items) == min(posts, PAGE_SIZE)
        assert ("Older posts" in reply.content.decode()) == (posts > PAGE_SIZE)
