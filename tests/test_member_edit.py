"""An administrator's edit page for a member."""

import pytest

from tests.factories import UserFactory


def url(member):
    return f"/users/{member.username}/edit/"


def form(member, **overrides):
    data = {
        "username": member.username,
        "email": member.email,
        "first_name": "",
        "last_name": "",
        "about_me": "",
        "role": member.role_id,
        "confirmed": "on",
        "is_active": "on",
    }
    return {**data, **overrides}


@pytest.mark.parametrize("who", ["member", "moderator"])
def test_only_administrators_may_open_it(client, request, who, roles):
    target = UserFactory(username="target")
    client.force_login(request.getfixturevalue(who))
    assert client.get(url(target)).status_code == 403
    assert client.post(url(target), form(target, role=roles["Administrator"].pk)).status_code == 403
    target.refresh_from_db()
    assert target.role.name == "User"


def test_anonymous_is_sent_to_sign_in(client, member):
    assert client.get(url(member))["Location"].startswith("/accounts/login/")


def test_administrator_changes_role_and_status(client, administrator, member, roles):
    client.force_login(administrator)
    response = client.post(
        url(member), form(member, role=roles["Moderator"].pk, confirmed="", is_active="")
    )
    assert response["Location"] == "/users/alice/"
    member.refresh_from_db()
    assert member.role.name == "Moderator"
    assert not member.confirmed and not member.is_active


def test_case_insensitive_duplicates_are_refused(client, administrator, member, roles):
    UserFactory(username="Bob", email="bob@example.com")
    client.force_login(administrator)
    response = client.post(url(member), form(member, username="BOB", email="BOB@example.com"))
    html = response.content.decode()
    assert "A user with that username already exists." in html
    assert "A user with that email address already exists." in html
    member.refresh_from_db()
    assert member.username == "alice"


def test_unknown_member_is_404(client, administrator):
    client.force_login(administrator)
    assert client.get("/users/ghost/edit/").status_code == 404


def test_usernames_are_normalised_before_they_are_validated(client, administrator, member):
    client.force_login(administrator)
    response = client.post(url(member), form(member, username="¼"))
    # The site's words, as at registration (Django's were "Enter a valid username").
    assert "A username can only use letters, digits and . + - _" in response.content.decode()
    member.refresh_from_db()
    assert member.username == "alice"


def test_cancel_and_save_lead_back_to_where_the_editor_was_opened(client, administrator, member):
    client.force_login(administrator)
    back = "/admin/accounts/user/?confirmed__exact=1"
    html = client.get(url(member), {"next": back}).content.decode()
    assert '<a href="/admin/accounts/user/?confirmed__exact=1">Cancel</a>' in html
    saved = client.post(url(member), {**form(member, first_name="Alice"), "next": back})
    assert saved["Location"] == back
    # Opened from the profile (no `next`): back to the profile.
    assert '<a href="/users/alice/">Cancel</a>' in client.get(url(member)).content.decode()


def test_a_next_off_the_site_is_ignored(client, administrator, member):
    client.force_login(administrator)
    html = client.get(url(member), {"next": "https://evil.example/"}).content.decode()
    assert "evil.example" not in html
    saved = client.post(url(member), {**form(member), "next": "https://evil.example/"})
    assert saved["Location"] == "/users/alice/"


def test_a_renamed_member_lands_on_their_new_profile(client, administrator, member):
    client.force_login(administrator)
    saved = client.post(url(member), form(member, username="alicia"))
    assert saved["Location"] == "/users/alicia/"
