"""The profile's card is kept per process (`{% kept profile_key %}`, the views' `shown`):
never stale after a change to anything it shows, never one viewer's card for another,
never a kept CSRF token, and "last seen … ago" as the clock says."""

import re
from datetime import datetime, timedelta

import pytest
from django.contrib.humanize.templatetags import humanize
from django.test import Client
from django.utils import timezone

from accounts.models import Permission, User
from offbrand.templatetags import kept
from social import kept_pages, services
from social.models import Follow, Post
from tests.conftest import image_bytes
from tests.factories import UserFactory

BOB = "/users/bob/"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def no_cards_from_other_tests():
    kept._fragments.clear()
    kept_pages._pages.clear()  # the whole page is kept too (tests/test_profile_pages.py)


@pytest.fixture
def bob(roles):
    return UserFactory(username="bob", email="bob@example.com")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def card(client, path=BOB) -> str:
    """The profile's card, with the response's CSRF token taken out."""
    html = client.get(path).content.decode()
    found = re.search(r'<article class="card profile">.*?</article>', html, re.S)
    assert found, html
    return TOKEN.sub('value=""', found.group(0))


def fresh_card(client, path=BOB) -> str:
    """The same card rendered anew, from nothing kept."""
    kept._fragments.clear()
    kept_pages._pages.clear()
    return card(client, path)


def test_the_card_is_rendered_once_then_kept(member_client, bob):
    first = card(member_client)
    assert len(kept._fragments) == 1
    assert card(member_client) == first
    assert len(kept._fragments) == 1


def test_no_token_is_kept_and_each_response_has_its_own_that_follows(member, bob):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    pages = [client.get(BOB).content.decode() for _ in range(2)]
    article = [re.search(r'<article class="card profile">.*?</article>', p, re.S)[0] for p in pages]
    tokens = [TOKEN.search(a)[1] for a in article]
    assert tokens[0] != tokens[1]  # masked anew for each response (BREACH)
    kept_text = "".join(str(piece) for pieces in kept._fragments.values() for piece in pieces)
    assert "csrfmiddlewaretoken" in kept_text
    assert not any(token in kept_text for token in tokens)
    response = client.post(f"{BOB}follow/", {"csrfmiddlewaretoken": tokens[0]})
    assert response.status_code == 302
    assert Follow.objects.filter(follower=member, followed=bob).exists()
    assert ">Unfollow<" in card(client)
    assert client.post(f"{BOB}unfollow/").status_code == 403  # CSRF still checked


def first_name(bob, member, roles):
    User.objects.filter(pk=bob.pk).update(first_name="Robert")


def last_name(bob, member, roles):
    User.objects.filter(pk=bob.pk).update(last_name="Roe")


def about_me(bob, member, roles):
    User.objects.filter(pk=bob.pk).update(about_me="Hello")


def renamed(bob, member, roles):
    bob.username = "bobby"
    bob.save(update_fields=["username"])


def renamed_in_capitals(bob, member, roles):  # the same address finds them
    User.objects.filter(pk=bob.pk).update(username="BOB")


def new_address(bob, member, roles):
    User.objects.filter(pk=bob.pk).update(email="robert@example.com")


def new_picture(bob, member, roles):
    User.objects.filter(pk=bob.pk).update(
        avatar="avatars/new.png", avatar_small="avatars/new-small.png"
    )


def new_identicon(bob, member, roles):
    User.objects.filter(pk=bob.pk).update(avatar_hash="0" * 64)


def seen_again(bob, member, roles):
    User.objects.filter(pk=bob.pk).update(last_seen=timezone.now() - timedelta(days=3))


def joined_earlier(bob, member, roles):
    User.objects.filter(pk=bob.pk).update(date_joined=timezone.now() - timedelta(days=400))


def made_moderator(bob, member, roles):
    User.objects.filter(pk=bob.pk).update(role=roles["Moderator"])


def role_renamed(bob, member, roles):
    role = bob.role
    role.name = "Regular"
    role.save(update_fields=["name"])


def followed_by_viewer(bob, member, roles):
    Follow.objects.create(follower=member, followed=bob)


def followed_by_someone_else(bob, member, roles):
    Follow.objects.create(follower=UserFactory(username="carol"), followed=bob)


def follows_someone(bob, member, roles):
    Follow.objects.create(follower=bob, followed=UserFactory(username="carol"))


def viewer_made_administrator(bob, member, roles):
    User.objects.filter(pk=member.pk).update(role=roles["Administrator"])


def viewer_made_moderator(bob, member, roles):
    User.objects.filter(pk=member.pk).update(role=roles["Moderator"])


def viewer_may_no_longer_follow(bob, member, roles):
    role = member.role
    role.permissions &= ~Permission.FOLLOW
    role.save(update_fields=["permissions"])


@pytest.mark.parametrize(
    "change",
    [
        first_name,
        last_name,
        about_me,
        renamed,
        renamed_in_capitals,
        new_picture,
        new_identicon,
        seen_again,
        joined_earlier,
        made_moderator,
        role_renamed,
        followed_by_viewer,
        followed_by_someone_else,
        follows_someone,
        viewer_made_administrator,
        viewer_made_moderator,
        viewer_may_no_longer_follow,
    ],
)
def test_whatever_the_card_shows_changes_it_at_once(member_client, member, bob, roles, change):
    before = card(member_client)
    change(bob, member, roles)
    path = "/users/bobby/" if change is renamed else BOB
    after = card(member_client, path)
    assert after == fresh_card(member_client, path)  # fails if `shown` leaves out what changed
    assert after != before


def test_a_new_address_shows_at_once_to_an_administrator(administrator, bob):
    boss = signed_in(administrator)
    assert "bob@example.com" in card(boss)
    new_address(bob, administrator, None)
    assert "robert@example.com" in card(boss)
    assert card(boss) == fresh_card(boss)


def test_the_owner_and_another_administrator_see_different_cards(administrator):
    other = UserFactory(username="chief", role=administrator.role)
    own = "/users/boss/"
    mine, theirs = card(signed_in(administrator), own), card(signed_in(other), own)
    assert "Edit your profile" in mine and "Edit your profile" not in theirs
    assert theirs == fresh_card(signed_in(other), own)


def test_the_owner_made_administrator_sees_edit_member_at_once(member_client, member, roles):
    own = "/users/alice/"
    assert "Edit member" not in card(member_client, own)
    User.objects.filter(pk=member.pk).update(role=roles["Administrator"])
    assert "Edit member" in card(member_client, own)


def test_a_visitor_and_a_member_who_may_not_follow_see_different_cards(member, bob):
    role = member.role
    role.permissions &= ~Permission.FOLLOW
    role.save(update_fields=["permissions"])
    cannot = card(signed_in(member))
    assert ">Follow<" not in cannot and "Sign in to follow" not in cannot
    assert "Sign in to follow" in card(Client())


def test_counts_past_the_cap_show_the_cap(member_client, bob, monkeypatch):
    from social import selectors

    for name in ("carol", "dave"):
        Follow.objects.create(follower=UserFactory(username=name), followed=bob)
    assert ">2<span" in card(member_client)
    monkeypatch.setattr(selectors, "COUNT_CAP", 1)
    assert ">1+<span" in card(member_client)


def test_following_and_unfollowing_show_on_the_next_request(member_client, member, bob):
    assert ">Follow<" in card(member_client)
    member_client.post(f"{BOB}follow/")
    assert ">Unfollow<" in card(member_client)
    assert "1<span" in card(member_client)  # the followers count
    member_client.post(f"{BOB}unfollow/")
    assert ">Follow<" in card(member_client)
    assert card(member_client) == fresh_card(member_client)


def test_the_owners_edits_and_new_picture_show_on_the_next_request(member_client, member):
    own = "/users/alice/"
    assert "Make this page yours" in card(member_client, own)
    member_client.post(
        "/accounts/profile/", {"first_name": "Alice", "last_name": "", "about_me": "Bio here"}
    )
    after_edit = card(member_client, own)
    assert "Bio here" in after_edit and "<dd>Alice</dd>" in after_edit
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("me.png", image_bytes(), content_type="image/png")
    member_client.post(
        "/accounts/profile/",
        {"first_name": "Alice", "last_name": "", "about_me": "Bio here", "avatar_upload": upload},
    )
    with_picture = card(member_client, own)
    assert "Avatar of alice" in with_picture and "Make this page yours" not in with_picture
    assert with_picture == fresh_card(member_client, own)


def test_a_suspension_and_a_reinstatement_show_on_the_next_request(client, moderator, bob):
    mod = signed_in(moderator)
    viewer = signed_in(UserFactory(username="dave"))
    assert "Suspend bob" in card(mod)
    card(viewer)
    User.objects.filter(pk=bob.pk).update(is_active=False)
    suspended = card(mod)
    assert "Suspended" in suspended and "Reinstate bob" in suspended
    assert viewer.get(BOB).status_code == 404
    assert client.get(BOB).status_code == 404
    User.objects.filter(pk=bob.pk).update(is_active=True)
    assert "Suspend bob" in card(mod) and "Suspended" not in card(mod)
    assert card(mod) == fresh_card(mod)


def test_a_viewers_card_is_never_another_viewers(member, moderator, administrator, bob):
    """Each viewer's card equals the one rendered for them alone, whoever came first."""
    carol = UserFactory(username="carol")
    Follow.objects.create(follower=member, followed=bob)
    viewers = [signed_in(v) for v in (member, carol, moderator, administrator)] + [Client()]
    shown = [card(v) for v in viewers]
    for viewer, seen in zip(viewers, shown, strict=True):
        assert card(viewer) == seen == fresh_card(viewer)
    alice, carol_sees, mod, boss, visitor = shown
    assert ">Unfollow<" in alice and ">Follow<" in carol_sees  # alice follows, carol not
    assert "bob@example.com" in boss and not any("bob@example" in c for c in shown[:3])
    assert "Suspend bob" in mod and "Suspend bob" not in alice + carol_sees + visitor
    assert "Edit member" in boss and "Edit member" not in alice + carol_sees + mod + visitor
    assert "Sign in to follow" in visitor and "csrfmiddlewaretoken" not in visitor
    assert alice != carol_sees != visitor


def test_the_owners_card_is_never_shown_to_a_visitor(member_client, member):
    own = card(member_client, "/users/alice/")
    assert "alice@example.com" in own and "Edit your profile" in own
    visitor = card(Client(), "/users/alice/")
    assert "alice@example.com" not in visitor and "Edit your profile" not in visitor
    assert visitor == fresh_card(Client(), "/users/alice/")


def test_posts_added_hidden_and_removed_show_on_the_next_request(member_client, bob, moderator):
    post = services.post_create(author=bob, body="First words")
    assert "First words" in member_client.get(BOB).content.decode()
    Post.objects.filter(pk=post.pk).update(hidden=True)
    assert "First words" not in member_client.get(BOB).content.decode()
    Post.objects.filter(pk=post.pk).update(hidden=False)
    assert "First words" in member_client.get(BOB).content.decode()
    Post.objects.filter(pk=post.pk).delete()
    assert "No posts yet." in member_client.get(BOB).content.decode()


class _Later(datetime):
    """The clock two hours on, for `naturaltime`."""

    @classmethod
    def now(cls, tz=None):
        return datetime.now(tz) + timedelta(hours=2)


def test_last_seen_follows_the_clock_though_the_card_is_kept(member_client, bob, monkeypatch):
    User.objects.filter(pk=bob.pk).update(last_seen=timezone.now() - timedelta(minutes=3))
    assert "3\xa0minutes ago" in card(member_client)
    monkeypatch.setattr(humanize, "datetime", _Later)
    later = card(member_client)
    assert "2\xa0hours ago" in later
    assert later == fresh_card(member_client)


def test_the_follow_form_comes_back_to_the_page_as_it_was_asked_for(member_client, bob):
    for path in (BOB, "/users/BOB/", f"{BOB}?before=12"):
        html = card(member_client, path)
        assert f'name="next" value="{path}"' in html
        assert html == fresh_card(member_client, path)


@pytest.mark.parametrize(
    ("module", "limit", "store"),
    [(kept, "MAX_FRAGMENTS", "_fragments"), (kept_pages, "MAX_PAGES", "_pages")],
    ids=["cards", "whole pages"],
)
def test_the_kept_cards_and_pages_are_bounded(
    member_client, monkeypatch, roles, module, limit, store
):
    monkeypatch.setattr(module, limit, 2)
    for name in ("carol", "dave", "erin"):
        UserFactory(username=name)
        card(member_client, f"/users/{name}/")
        assert len(getattr(module, store)) <= 2
    assert card(member_client, "/users/erin/") == fresh_card(member_client, "/users/erin/")
