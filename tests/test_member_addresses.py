"""A member's email address is shown only to its owner and administrators (README):
moderators search and see members by username, never by address (attack report F13)."""

import re

import pytest
from django.test import Client

from tests.factories import UserFactory

LIST = "/moderate/users/"


def listed(response) -> list[str]:
    """The usernames of the moderation list's cards."""
    return re.findall(r'<h2><a href="/users/([^/"]+)/">', response.content.decode())


@pytest.fixture
def henry(roles):
    # An address that does not start like the username: a prefix hit means the address.
    return UserFactory(username="henry", email="mal-h@example.com")


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_moderator_cannot_spell_out_an_address_by_prefixes(moderator, henry):
    mod = signed_in(moderator)
    for prefix in ["m", "ma", "mal-", "mal-h@exa", "mal-h@example.com"]:
        page = mod.get(LIST, {"q": prefix})
        assert page.status_code == 200
        assert "henry" not in listed(page), prefix
        assert 'class="member-email"' not in page.content.decode()
    assert listed(mod.get(LIST, {"q": "hen"})) == ["henry"]


def test_a_moderator_cannot_learn_who_holds_an_address(moderator, henry):
    page = signed_in(moderator).get(LIST, {"q": "mal-h@example.com"})
    assert listed(page) == []
    assert "No members match" in page.content.decode()


def test_the_moderation_list_shows_addresses_to_administrators_only(
    moderator, administrator, henry
):
    mod_page = signed_in(moderator).get(LIST).content.decode()
    assert "henry" in mod_page
    assert "mal-h@example.com" not in mod_page
    assert "Username starts with" in mod_page
    # The cards are kept per process: the administrator's page is not the moderator's.
    admin_page = signed_in(administrator).get(LIST).content.decode()
    assert "mal-h@example.com" in admin_page
    assert "Username or email address starts with" in admin_page
    # And the other way round: a card kept from the administrator's page shows no address.
    assert "mal-h@example.com" not in signed_in(moderator).get(LIST).content.decode()


def test_an_administrator_still_finds_a_member_by_address(administrator, henry):
    admin = signed_in(administrator)
    assert listed(admin.get(LIST, {"q": "mal-h@exa"})) == ["henry"]
    assert listed(admin.get(LIST, {"q": "MAL-H@example.com"})) == ["henry"]
    assert listed(admin.get(LIST, {"q": "hen"})) == ["henry"]
