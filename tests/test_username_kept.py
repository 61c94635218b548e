"""Names taken before a rule are kept, the rule refuses new ones (SECURITY.md,
look-alike usernames): an edit that keeps a member's name saves, whichever rule
the name would fail today; a change of the name, capitals included, is judged."""

import pytest

from accounts.models import User
from tests.factories import UserFactory

# (the name a member already has, their address, the members beside them, what
# a new name like it is refused with)
KEPT = {
    "phonetic letter": ("\u1d00dmin", "smallcap@example.com", [], "everyday alphabet"),
    "look-alike": ("f1ona", "f1ona@example.com", ["fiona"], "looks too much like"),
    "an @": (
        "old@example.com",  # registered as their own address, which then changed
        "new@example.com",
        [],
        "contain @: you can sign in with your email address",
    ),
    "mixed scripts": ("z\u0435d", "zed@example.com", [], "one alphabet"),
    "unrecommended script": ("\u2ca7\u2c9f\u2c99", "coptic@example.com", [], "everyday alphabet"),
}


def kept_member(case):
    """A member whose name was taken before the rule that now refuses it."""
    username, email, others, _ = KEPT[case]
    for other in others:
        UserFactory(username=other, email=f"{other}@example.com")
    User.objects.bulk_create([User(username=username, email=email, confirmed=True)])
    return User.objects.get(email=email)


def editor_form(member, roles, **overrides):
    return {
        "username": member.username,
        "email": member.email,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "about_me": member.about_me,
        "role": roles["Moderator"].pk,
        "confirmed": "on",
        "is_active": "on",
        **overrides,
    }


@pytest.mark.parametrize("case", KEPT)
def test_the_site_member_editor_saves_a_member_who_keeps_their_name(
    client, administrator, roles, case
):
    member = kept_member(case)
    client.force_login(administrator)
    response = client.post(f"/users/{member.username}/edit/", editor_form(member, roles))
    assert response.status_code == 302, response.content.decode()[:2000]
    member.refresh_from_db()
    assert (member.username, member.role) == (KEPT[case][0], roles["Moderator"])


@pytest.mark.parametrize("case", KEPT)
def test_the_django_admin_change_page_saves_a_member_who_keeps_their_name(
    client, administrator, roles, case
):
    """The admin's change page leads to the site's editor, and back to its list."""
    member = kept_member(case)
    client.force_login(administrator)
    page = client.get(f"/admin/accounts/user/{member.pk}/change/", follow=True)
    editor = page.redirect_chain[-1][0]
    assert page.status_code == 200 and "next=" in editor
    response = client.post(editor, editor_form(member, roles, first_name="Renamed"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response.url == "/admin/accounts/user/"
    member.refresh_from_db()
    assert (member.username, member.first_name, member.role) == (
        KEPT[case][0],
        "Renamed",
        roles["Moderator"],
    )


@pytest.mark.parametrize("case", KEPT)
def test_a_member_who_keeps_their_name_can_edit_their_profile(client, roles, case):
    """The profile form does not edit the name, but the model's checks ran on it."""
    member = kept_member(case)
    client.force_login(member)
    response = client.post(
        "/accounts/profile/", {"first_name": "Kept", "last_name": "", "about_me": "Hello"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    member.refresh_from_db()
    assert (member.username, member.first_name, member.about_me) == (
        KEPT[case][0],
        "Kept",
        "Hello",
    )


@pytest.mark.parametrize(
    ("case", "renamed"),
    [
        ("phonetic letter", "\u1d00dmin2"),
        ("look-alike", "F1ONA"),  # only capitals: still a change of name
        ("look-alike", "fi0na"),
        ("an @", "OLD@example.com"),
        ("mixed scripts", "Z\u0435d"),
    ],
)
def test_renaming_a_kept_name_to_another_refused_one_is_refused(
    client, administrator, roles, case, renamed
):
    member = kept_member(case)
    client.force_login(administrator)
    response = client.post(
        f"/users/{member.username}/edit/", editor_form(member, roles, username=renamed)
    )
    assert response.status_code == 200
    assert KEPT[case][3] in response.content.decode()
    member.refresh_from_db()
    assert member.username == KEPT[case][0] and member.role != roles["Moderator"]
