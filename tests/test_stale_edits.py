"""A form saved after someone else changed what it showed (attack report F1).

Each story: open the page, someone else changes the row, then the page is
saved with one change of its own. Only that change is written; what the
other person did stands and is not recorded as the editor's. A field both
changed is refused, with its current value on the page. The forms are read
from the page's HTML, as a browser would post them back.
"""

import pytest
from django.core import mail
from django.test import Client

from accounts.models import ModerationAction, Permission, Role
from tests.conftest import links_in, path_of
from tests.page_forms import form_on_page

Kind = ModerationAction.Kind


def editor(member) -> str:
    return f"/users/{member.username}/edit/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def boss(administrator):
    return signed_in(administrator)


def opened(client, path, field) -> dict:
    page = client.get(path)
    assert page.status_code == 200
    return form_on_page(page.content.decode(), field)


def records_by(actor, member) -> list[str]:
    return list(
        ModerationAction.objects.filter(actor=actor, member=member).values_list("kind", flat=True)
    )


# --- The member editor ----------------------------------------------------------


def test_a_suspension_made_while_the_editor_was_open_stands(boss, administrator, moderator, member):
    shown = opened(boss, editor(member), "username")
    signed_in(moderator).post(f"/moderate/users/{member.username}/suspend/", {"reason": "spam"})

    saved = boss.post(editor(member), {**shown, "first_name": "Michael", "reason": "fix name"})

    assert saved.status_code == 302
    member.refresh_from_db()
    assert not member.is_active, "the administrator's name fix undid the suspension"
    assert member.first_name == "Michael"
    assert Kind.REINSTATE not in records_by(administrator, member)


def test_an_address_the_member_moved_to_while_the_editor_was_open_stands(
    boss, administrator, member, password, roles
):
    shown = opened(boss, editor(member), "username")
    owner = signed_in(member)
    owner.post(
        "/accounts/email/change/", {"new_email": "alice-safe@example.com", "password": password}
    )
    assert owner.post(path_of(links_in(mail.outbox[-1])[0])).status_code == 302

    saved = boss.post(editor(member), {**shown, "role": roles["Moderator"].pk, "reason": "promote"})

    assert saved.status_code == 302
    member.refresh_from_db()
    assert member.email == "alice-safe@example.com", "the old (compromised) address came back"
    assert member.role.name == "Moderator"
    assert records_by(administrator, member) == [Kind.ROLE]


def test_the_members_own_edit_made_while_the_editor_was_open_stands(
    boss, administrator, member, roles
):
    shown = opened(boss, editor(member), "username")
    own = {"first_name": "Alicia", "last_name": "", "about_me": "Written by me."}
    assert signed_in(member).post("/accounts/profile/", own).status_code == 302

    saved = boss.post(editor(member), {**shown, "role": roles["Moderator"].pk})

    assert saved.status_code == 302
    member.refresh_from_db()
    assert (member.first_name, member.about_me) == ("Alicia", "Written by me.")
    assert member.role.name == "Moderator"
    assert Kind.ABOUT not in records_by(administrator, member)


def test_a_field_changed_by_both_is_refused_with_its_current_value(boss, moderator, member, roles):
    shown = opened(boss, editor(member), "username")
    signed_in(member).post("/accounts/profile/", {"first_name": "Alicia", "about_me": ""})

    refused = boss.post(
        editor(member), {**shown, "first_name": "Al", "role": roles["Moderator"].pk}
    )

    assert refused.status_code == 200
    html = refused.content.decode()
    assert "changed by someone else" in html and "“Alicia”" in html
    member.refresh_from_db()
    assert member.first_name == "Alicia" and member.role.name == "User", "nothing is saved"

    # The page now shows the current values; saving it again is a knowing overwrite,
    # which still leaves alone what the administrator did not change.
    again = form_on_page(html, "username")
    assert again["first_name"] == "Al"
    signed_in(moderator).post(f"/moderate/users/{member.username}/suspend/", {"reason": "spam"})
    assert boss.post(editor(member), again).status_code == 302
    member.refresh_from_db()
    assert member.first_name == "Al" and member.role.name == "Moderator"
    assert not member.is_active


def test_a_save_that_changes_nothing_writes_and_records_nothing(
    boss, administrator, moderator, member
):
    shown = opened(boss, editor(member), "username")
    signed_in(moderator).post(f"/moderate/users/{member.username}/suspend/", {"reason": "spam"})
    assert boss.post(editor(member), shown).status_code == 302
    member.refresh_from_db()
    assert not member.is_active
    assert records_by(administrator, member) == []


def test_line_breaks_stored_bare_are_no_conflict(boss, member):
    """A browser posts every line break as CRLF: an about-me stored with bare LFs
    (an import, a script) must not look changed by someone else, or it could never
    be saved."""
    member.about_me = "line one\nline two"
    member.save(update_fields=["about_me"])
    shown = opened(boss, editor(member), "username")
    posted = {name: value.replace("\n", "\r\n") for name, value in shown.items()}

    saved = boss.post(editor(member), {**posted, "about_me": "line one\r\nline three"})

    assert saved.status_code == 302
    member.refresh_from_db()
    assert member.about_me == "line one\r\nline three"


# --- The member's own profile ---------------------------------------------------


def profile_opened_then_cleared(member, moderator) -> tuple[Client, dict]:
    """The member opens their profile page; then a moderator clears their about-me."""
    member.about_me = "Buy cheap watches"
    member.save(update_fields=["about_me"])
    owner = signed_in(member)
    shown = opened(owner, "/accounts/profile/", "first_name")
    signed_in(moderator).post(f"/moderate/users/{member.username}/clear_about/", {"reason": "spam"})
    return owner, shown


def test_an_about_me_cleared_by_a_moderator_while_the_member_edits_stays_cleared(moderator, member):
    owner, shown = profile_opened_then_cleared(member, moderator)

    assert owner.post("/accounts/profile/", {**shown, "first_name": "Alice"}).status_code == 302

    member.refresh_from_db()
    assert member.first_name == "Alice"
    assert member.about_me == "", "the member's name change put the spam back"


def test_the_member_is_told_when_a_moderator_cleared_what_they_were_editing(moderator, member):
    owner, shown = profile_opened_then_cleared(member, moderator)

    refused = owner.post("/accounts/profile/", {**shown, "about_me": "Buy cheaper watches"})

    assert refused.status_code == 200
    assert "changed by someone else" in refused.content.decode()
    member.refresh_from_db()
    assert member.about_me == ""


# --- The role editor (Django admin) ---------------------------------------------


def role_page(role) -> str:
    return f"/admin/accounts/role/{role.pk}/change/"


def test_a_permission_removed_while_another_administrator_renames_the_role_stays_removed(
    boss, roles
):
    moderator_role = roles["Moderator"]
    shown = opened(boss, role_page(moderator_role), "name")
    other = Role.objects.get(pk=moderator_role.pk)
    other.remove_permission(Permission.MODERATE)
    other.save(update_fields=["permissions"])

    saved = boss.post(role_page(moderator_role), {**shown, "name": "Moderators"})

    assert saved.status_code == 302
    moderator_role.refresh_from_db()
    assert moderator_role.name == "Moderators"
    assert not moderator_role.grants(Permission.MODERATE), "the rename gave MODERATE back"


def test_permissions_changed_by_two_administrators_at_once_are_refused(boss, roles):
    moderator_role = roles["Moderator"]
    shown = opened(boss, role_page(moderator_role), "name")
    other = Role.objects.get(pk=moderator_role.pk)
    other.remove_permission(Permission.MODERATE)
    other.save(update_fields=["permissions"])

    refused = boss.post(role_page(moderator_role), {**shown, "permission_flags": ["1"]})

    assert refused.status_code == 200
    assert "changed by someone else" in refused.content.decode()
    moderator_role.refresh_from_db()
    assert moderator_role.permissions == other.permissions
