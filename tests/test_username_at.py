"""A new or changed username holds no `@` (attack report 2026-12-06, F5): a
name that cannot be an address can never become someone else's address,
whichever comes first, the name or the address. Names taken before the rule are
kept (tests/test_username_kept.py)."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from tests.factories import UserFactory
from tests.usernames import editor_rename

REGISTER = "/accounts/register/"
NO_AT = "contain @: you can sign in with your email address"


def registration(**overrides):
    data = {"email": "henry@example.com", "username": "henry", "password1": "a sturdy passphrase 9"}
    return {**data, **overrides}


def test_an_address_of_ones_own_is_refused_so_it_never_becomes_anothers(client, roles):
    """F5's story: mallory took the username `henry@example.com` with that
    address as "his own", changed his address away, and the real henry then
    registered `henry@example.com`: two members, one spelling. The first step is
    refused now; henry registers alone."""
    response = client.post(
        REGISTER, registration(username="henry@example.com", email="henry@example.com")
    )
    assert response.status_code == 200
    assert NO_AT in response.content.decode()
    assert not User.objects.exists()

    response = client.post(REGISTER, registration())
    assert response.status_code == 302
    assert list(User.objects.values_list("username", "email")) == [("henry", "henry@example.com")]


@pytest.mark.parametrize(
    "username", ["bob@home", "eve@example.com", "Eve@example.com.", "@eve", "eve@"]
)
def test_registration_refuses_any_name_with_an_at_sign(client, roles, username):
    response = client.post(REGISTER, registration(username=username, email="eve@example.com"))
    assert NO_AT in response.content.decode()
    assert not User.objects.exists()


def test_the_registration_page_does_not_offer_an_at_sign(client, db):
    html = client.get(REGISTER).content.decode()
    assert "letters, digits and . + - _" in html
    assert "@ . + - _" not in html


def test_the_admins_add_member_page_refuses_an_at_sign(admin_client, roles):
    data = {"username": "new@example.com", "email": "new@example.com"}
    data |= {"password1": "a sturdy passphrase 9", "password2": "a sturdy passphrase 9"}
    response = admin_client.post("/admin/accounts/user/add/", data)
    assert response.status_code == 200
    assert NO_AT in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()


def test_the_member_editor_refuses_a_rename_to_the_members_own_address(
    client, administrator, roles
):
    target = UserFactory(username="zed", email="zed@example.com")
    response = editor_rename(client, administrator, target, "zed@example.com", role=roles["User"])
    assert response.status_code == 200
    assert NO_AT in response.content.decode()
    target.refresh_from_db()
    assert target.username == "zed"


def test_the_member_editor_shows_the_sites_username_hint(client, administrator, roles):
    target = UserFactory(username="zed")
    client.force_login(administrator)
    html = client.get(f"/users/{target.username}/edit/").content.decode()
    assert "@/./+/-/_" not in html


def test_createsuperuser_refuses_an_at_sign(roles, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a sturdy passphrase 9")
    with pytest.raises(CommandError, match=NO_AT):
        call_command(
            "createsuperuser",
            "--noinput",
            "--username=boss@example.com",
            "--email=boss@example.com",
        )
    assert not User.objects.exists()
    call_command("createsuperuser", "--noinput", "--username=boss", "--email=boss@example.com")
    assert User.objects.get().username == "boss"


def test_createsuperuser_refuses_a_look_alike_too(roles, monkeypatch):
    """The command saves through the manager, not `User.clean`: the rules are its too."""
    UserFactory(username="alice")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a sturdy passphrase 9")
    with pytest.raises(CommandError, match="looks too much like"):
        call_command(
            "createsuperuser", "--noinput", "--username=\u0430lice", "--email=a@example.com"
        )
    assert User.objects.count() == 1


def test_a_database_check_names_kept_usernames_that_spell_another_members_address(roles):
    """F5's state, left by the rule before: `henry@example.com` (mallory) kept
    beside henry, whose address it spells. Kept names are not renamed here; the
    check tells the administrator, who renames in the member editor."""
    from io import StringIO

    User.objects.bulk_create(
        [
            User(username="henry@example.com", email="mal-h@example.com"),
            User(username="henry", email="henry@example.com"),
            User(username="old@example.com", email="old@example.com"),  # their own: not listed
            User(username="ghost@example.com", email="g@example.com"),  # nobody's address
        ]
    )
    out = StringIO()
    call_command("check", databases=["default"], stderr=out, stdout=out)
    text = out.getvalue()
    assert "offbrand.W003" in text
    assert "1 member(s) have a username that is another member's email address" in text
    assert "henry@example.com (the address of henry)" in text
    assert "ghost@" not in text and "old@" not in text
