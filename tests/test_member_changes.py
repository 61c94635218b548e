"""Every change of a member's state is recorded: what, who, through which path, why."""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import ModerationAction, User
from tests.conftest import image_bytes, links_in, path_of
from tests.factories import UserFactory

Kind = ModerationAction.Kind
Via = ModerationAction.Via


def records(member):
    return list(
        ModerationAction.objects.filter(member=member)
        .order_by("pk")
        .values_list("kind", "actor__username", "via", "detail", "reason")
    )


def member_edit_form(member, **overrides):
    data = {
        "username": member.username,
        "email": member.email,
        "first_name": "",
        "last_name": "",
        "about_me": member.about_me,
        "role": member.role_id,
        "confirmed": "on",
        "is_active": "on",
    }
    return {**data, **overrides}


def suspend_by_member_edit(client, member, reason):
    return client.post(
        f"/users/{member.username}/edit/",
        member_edit_form(member, is_active="", reason=reason),
    )


def suspend_by_moderation_page(client, member, reason):
    return client.post(f"/moderate/users/{member.username}/suspend/", {"reason": reason})


@pytest.mark.parametrize(
    ("suspend", "via"),
    [
        (suspend_by_member_edit, Via.MEMBER_EDIT),
        (suspend_by_moderation_page, Via.MODERATION),
    ],
)
def test_a_suspended_member_sees_the_reason_whichever_path_suspended_them(
    client, administrator, member, password, suspend, via
):
    client.force_login(administrator)
    response = suspend(client, member, "Spam in the about-me")
    assert response.status_code == 302
    assert records(member) == [(Kind.SUSPEND, "boss", via, "", "Spam in the about-me")]
    client.logout()
    response = client.post("/accounts/login/", {"username": member.username, "password": password})
    assert "Reason: Spam in the about-me" in response.content.decode()


def test_member_edit_records_role_email_and_about_me_with_the_reason(
    client, administrator, member, roles
):
    client.force_login(administrator)
    client.post(
        f"/users/{member.username}/edit/",
        member_edit_form(
            member,
            role=roles["Moderator"].pk,
            email="alice@new.example",
            about_me="Edited",
            first_name="Alice",
            reason="Asked by support ticket 42",
        ),
    )
    why = "Asked by support ticket 42"
    assert sorted(records(member)) == sorted(
        [
            (Kind.ROLE, "boss", Via.MEMBER_EDIT, "Moderator", why),
            (Kind.EMAIL, "boss", Via.MEMBER_EDIT, "alice@new.example", why),
            (Kind.ABOUT, "boss", Via.MEMBER_EDIT, "", why),
        ]
    )
    html = client.get(f"/users/{member.username}/edit/").content.decode()
    assert "Changed role: Moderator" in html and "the site&#x27;s member edit" in html


def test_an_edit_that_changes_nothing_records_nothing(client, administrator, member):
    client.force_login(administrator)
    client.post(f"/users/{member.username}/edit/", member_edit_form(member, reason="no-op"))
    assert records(member) == []


def test_django_admin_bulk_role_change_records_each_member_it_changed(client, administrator, roles):
    changed = UserFactory.create_batch(2)
    already = UserFactory(role=roles["Moderator"])
    client.force_login(administrator)
    client.post(
        "/admin/accounts/user/",
        {
            "action": f"set_role_{roles['Moderator'].pk}",
            "_selected_action": [u.pk for u in [*changed, already]],
        },
    )
    for member in changed:
        assert records(member) == [(Kind.ROLE, "boss", Via.ADMIN_BULK, "Moderator", "")]
    assert records(already) == []


def test_django_admin_password_change_is_recorded_with_the_administrator(
    client, administrator, member
):
    client.force_login(administrator)
    response = client.post(
        f"/admin/accounts/user/{member.pk}/password/",
        {
            "password1": "a brand new passphrase",
            "password2": "a brand new passphrase",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.check_password("a brand new passphrase")
    assert records(member) == [(Kind.PASSWORD, "boss", Via.ADMIN, "", "")]


def test_a_members_own_changes_are_recorded_as_theirs(member_client, member, password):
    member_client.post(
        "/accounts/profile/",
        {"about_me": "Hello", "first_name": "", "last_name": "", "avatar_upload": ""},
    )
    member_client.post(
        "/accounts/profile/",
        {
            "about_me": "Hello",
            "first_name": "",
            "last_name": "",
            "avatar_upload": SimpleUploadedFile("me.png", image_bytes(), "image/png"),
        },
    )
    assert records(member) == [
        (Kind.ABOUT, "alice", Via.OWN_PAGES, "", ""),
        (Kind.AVATAR, "alice", Via.OWN_PAGES, "", ""),
    ]


def test_moderation_pages_accept_only_moderation_actions(client, administrator, member):
    client.force_login(administrator)
    for kind in ["role", "email", "password", "avatar", "about"]:
        response = client.post(f"/moderate/users/{member.username}/{kind}/", {"reason": "x"})
        assert response.status_code == 404
    assert records(member) == []
    assert User.objects.get(pk=member.pk).is_active


def signed_in(password):
    browser = Client()
    reply = browser.post("/accounts/login/", {"username": "alice", "password": password})
    assert reply.status_code == 302
    return browser


def link_mailed_to(address):
    message = [m for m in mail.outbox if address in m.to][-1]
    return path_of(links_in(message)[0])


def test_own_password_change_is_recorded_as_the_members(member, password):
    browser = signed_in(password)
    new = "a brand new passphrase 7"
    reply = browser.post(
        "/accounts/password/change/",
        {"old_password": password, "new_password1": new, "new_password2": new},
    )
    assert reply.status_code == 302
    assert records(member) == [(Kind.PASSWORD, "alice", Via.OWN_PAGES, "", "")]


def test_a_password_reset_is_recorded_as_through_an_emailed_link(member):
    browser = Client()
    browser.post("/accounts/password/reset/", {"email": member.email})
    form_page = browser.get(link_mailed_to(member.email), follow=True)
    new = "a brand new passphrase 7"
    reply = browser.post(
        form_page.request["PATH_INFO"], {"new_password1": new, "new_password2": new}
    )
    assert reply.status_code == 302
    assert records(member) == [(Kind.PASSWORD, "alice", Via.EMAIL_LINK, "", "")]


def test_a_confirmed_change_of_address_is_recorded_with_the_new_address(member, password):
    browser = signed_in(password)
    browser.post(
        "/accounts/email/change/", {"new_email": "alice@new.example", "password": password}
    )
    assert browser.post(link_mailed_to("alice@new.example")).status_code == 302
    assert records(member) == [(Kind.EMAIL, "alice", Via.EMAIL_LINK, "alice@new.example", "")]


def bulk_set_role_queries(client, members, role) -> int:
    with CaptureQueriesContext(connection) as queries:
        client.post(
            "/admin/accounts/user/",
            {"action": f"set_role_{role.pk}", "_selected_action": [m.pk for m in members]},
        )
    return len(queries)


def test_a_bulk_role_change_is_set_based_records_included(client, administrator, roles):
    client.force_login(administrator)
    client.get("/admin/accounts/user/")  # last-seen written here, not below
    ten = bulk_set_role_queries(client, UserFactory.create_batch(10), roles["Moderator"])
    hundred = bulk_set_role_queries(client, UserFactory.create_batch(100), roles["Moderator"])
    assert hundred == ten
    assert ModerationAction.objects.filter(kind=Kind.ROLE, via=Via.ADMIN_BULK).count() == 110
