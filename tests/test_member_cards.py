"""The moderation list's member cards are remembered (`{% member_cards %}` in
accounts/templatetags/accounts.py): the same HTML as rendering each card, never a
stale one after a change to anything a card shows."""

import re

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from accounts import services
from accounts.models import ModerationAction, Role, User
from accounts.templatetags import accounts as tags
from tests.factories import UserFactory

LIST = "/moderate/users/"


@pytest.fixture(autouse=True)
def no_cards_from_other_tests():
    tags._member_cards.clear()


@pytest.fixture
def mod_client(client, moderator):
    client.force_login(moderator)
    return client


@pytest.fixture
def bob(roles):
    return UserFactory(username="bob", email="bob@example.com")


def card(html: str, username: str) -> str:
    """The card of `username` in the list's HTML."""
    pattern = rf'<li class="member-card">(?:(?!</li>).)*?>{username}</a>.*?</li>'
    found = re.search(pattern, html, re.S)
    assert found, f"no card for {username}"
    return found.group(0)


def listing(client, **query) -> str:
    """The list of cards on the page."""
    html = client.get(LIST, query).content.decode()
    return html[html.index('<ul class="member-list"') :].split("</ul>")[0]


def test_cards_are_rendered_once_then_remembered_and_read_as_the_template_renders_them(
    mod_client, moderator, bob
):
    first = listing(mod_client)
    assert len(tags._member_cards) == User.objects.count()
    assert listing(mod_client) == first
    assert len(tags._member_cards) == User.objects.count()
    bob.moderatable = True
    request = RequestFactory().get(LIST)
    request.user = moderator
    expected = render_to_string(tags.MEMBER_CARD_TEMPLATE, {"member": bob}, request=request)
    assert card(first, "bob") == expected[expected.index("<li") :].strip()


def test_a_suspension_and_a_reinstatement_show_at_once(mod_client, moderator, bob):
    assert "badge-active" in card(listing(mod_client), "bob")
    services.member_moderate(actor=moderator, member=bob, kind=ModerationAction.Kind.SUSPEND)
    suspended = card(listing(mod_client), "bob")
    assert "badge-suspended" in suspended and "/bob/reinstate/" in suspended
    services.member_moderate(actor=moderator, member=bob, kind=ModerationAction.Kind.REINSTATE)
    assert "/bob/suspend/" in card(listing(mod_client), "bob")


@pytest.mark.parametrize(
    ("change", "shown", "gone"),
    [
        ({"username": "robert"}, "/users/robert/", "/users/bob/"),
        ({"email": "robert@example.com"}, "robert@example.com", "bob@example.com"),
        (
            {"avatar": "avatars/b.webp", "avatar_small": "avatars/b-small.webp"},
            "avatars/b-small.webp",
            "/identicon/",
        ),
    ],
)
def test_a_rename_a_new_address_and_a_new_picture_show_at_once(
    client, administrator, bob, change, shown, gone
):
    client.force_login(administrator)  # addresses are shown to administrators only
    before = card(listing(client), "bob")
    assert gone in before and shown not in before
    User.objects.filter(pk=bob.pk).update(**change)
    after = card(listing(client), change.get("username", "bob"))
    assert shown in after and gone not in after


def test_a_new_generated_picture_shows_at_once(mod_client, bob):
    before = card(listing(mod_client), "bob")
    User.objects.filter(pk=bob.pk).update(avatar_hash="1" * 64)
    after = card(listing(mod_client), "bob")
    assert after != before and after.replace(" ", "") != before.replace(" ", "")


def test_the_actions_are_those_the_viewer_may_take(mod_client, client, administrator):
    assert "/boss/suspend/" not in card(listing(mod_client), "boss")
    other = UserFactory(username="boss2", role=administrator.role)
    client.force_login(other)
    assert "/boss/suspend/" in card(listing(client), "boss")


def test_a_role_change_shows_its_name_and_the_actions_the_moderator_may_take(
    mod_client, bob, roles
):
    assert "/bob/suspend/" in card(listing(mod_client), "bob")
    User.objects.filter(pk=bob.pk).update(role=roles["Administrator"])
    promoted = card(listing(mod_client), "bob")
    assert "<span>Administrator</span>" in promoted and "/bob/suspend/" not in promoted
    Role.objects.filter(pk=roles["Administrator"].pk).update(name="Admins")
    assert "<span>Admins</span>" in card(listing(mod_client), "bob")


def test_the_action_links_come_back_to_the_list_as_it_was_filtered(mod_client, bob):
    assert "?next=/moderate/users/%3Fq%3Db" in card(listing(mod_client, q="b"), "bob")
    assert "?next=/moderate/users/%3Fq%3Dbo" in card(listing(mod_client, q="bo"), "bob")
