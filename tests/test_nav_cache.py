"""The signed-in menu is kept per process (`{% nav_links %}`): never stale, never a kept token."""

import re

import pytest
from django.test import Client

from accounts.models import Permission, User
from accounts.templatetags import accounts as tags
from social import kept_pages
from tests.factories import FollowFactory, PostFactory, UserFactory
from tests.test_navigation import top_bar

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def no_menus_from_other_tests():
    tags._navs.clear()
    kept_pages._pages.clear()


def menu(client, path="/") -> str:
    """The top bar, with the response's CSRF token taken out."""
    return TOKEN.sub('value=""', top_bar(client.get(path).content.decode()))


def fresh_menu(client, path="/") -> str:
    """The same page's menu rendered anew, from nothing kept."""
    tags._navs.clear()
    kept_pages._pages.clear()
    return menu(client, path)


def test_the_menu_is_rendered_once_then_kept(member_client):
    first = menu(member_client)
    assert len(tags._navs) == 1
    assert menu(member_client) == first
    assert len(tags._navs) == 1


def test_no_token_is_kept_and_each_response_has_its_own_that_signs_out(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    tokens = [TOKEN.search(client.get("/").content.decode())[1] for _ in range(2)]
    assert tokens[0] != tokens[1]  # masked anew for each response (BREACH)
    kept = "".join(part for parts in tags._navs.values() for part in parts)
    assert not any(token in kept for token in tokens)
    assert "csrfmiddlewaretoken" in kept
    response = client.post("/accounts/logout/", {"csrfmiddlewaretoken": tokens[0]})
    assert response.status_code == 302
    assert "Sign in" in menu(client)
    assert client.post("/accounts/logout/").status_code == 403  # CSRF still checked


def rename(member, roles):
    member.username = "alicia"
    member.save(update_fields=["username"])


def new_picture(member, roles):
    User.objects.filter(pk=member.pk).update(
        avatar="avatars/new.png", avatar_small="avatars/new-small.png"
    )


def new_address_hash(member, roles):  # the identicon of a member without a picture
    User.objects.filter(pk=member.pk).update(avatar_hash="0" * 64)


def made_moderator(member, roles):
    member.role = roles["Moderator"]
    member.save(update_fields=["role"])


def made_administrator(member, roles):
    member.role = roles["Administrator"]
    member.save(update_fields=["role"])


def role_granted_moderation(member, roles):
    role = member.role
    role.permissions |= Permission.MODERATE
    role.save(update_fields=["permissions"])


def moderation_taken_from_role(member, roles):
    role = roles["Moderator"]
    role.permissions &= ~Permission.MODERATE
    role.save(update_fields=["permissions"])


@pytest.mark.parametrize(
    ("start", "change"),
    [
        (None, rename),
        (None, new_picture),
        (None, new_address_hash),
        (None, made_moderator),
        (None, made_administrator),
        (None, role_granted_moderation),
        (made_moderator, moderation_taken_from_role),
    ],
)
@pytest.mark.parametrize("page", ["empty feed", "feed page kept", "profile page kept"])
def test_whatever_the_menu_shows_changes_it_at_once(
    member_client, member, roles, start, change, page
):
    writer = UserFactory(username="writer")
    if page == "feed page kept":  # the whole page is kept too (social/kept_pages.py)
        FollowFactory(follower=member, followed=writer)
        PostFactory(author=writer)
    path = "/users/writer/" if page == "profile page kept" else "/"
    if start:
        start(member, roles)
    before = menu(member_client, path)
    change(member, roles)
    after = menu(member_client, path)
    assert after == fresh_menu(member_client, path)  # fails if nav_key leaves out what changed
    assert after != before


def test_the_current_page_marker_follows_the_page(member_client, member):
    home = menu(member_client)
    profile = menu(member_client, "/users/alice/")
    assert 'aria-current="page">Your profile' in profile
    assert 'aria-current="page">Your profile' not in home
    assert profile == fresh_menu(member_client, "/users/alice/")
    assert menu(member_client) == fresh_menu(member_client)


def test_two_members_never_share_a_menu(member_client, moderator):
    alice = menu(member_client)
    other = Client()
    other.force_login(moderator)
    mod = menu(other)
    assert "alice" in alice and "mod" not in alice
    assert ">mod<" in mod and "alice" not in mod
    assert len(tags._navs) == 2


def test_an_unconfirmed_members_menu_is_rendered_each_time(client, unconfirmed):
    client.force_login(unconfirmed)
    client.get("/accounts/unconfirmed/")
    assert tags._navs == {}
    unconfirmed.confirmed = True
    unconfirmed.save(update_fields=["confirmed"])
    client.force_login(unconfirmed)  # confirming is bound to the session: sign in again
    assert menu(client) == fresh_menu(client)
    assert len(tags._navs) == 1


def test_a_visitors_menu_is_not_kept(client, roles):
    assert "Sign in" in menu(client, "/accounts/login/")
    assert tags._navs == {}
