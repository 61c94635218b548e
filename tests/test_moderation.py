"""Moderator tools: the member list, suspend and reinstate, clearing content, the record."""

import re

import pytest
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import ModerationAction
from tests.conftest import image_bytes
from tests.factories import UserFactory

LIST = "/moderate/users/"


@pytest.fixture
def mod_client(client, moderator):
    client.force_login(moderator)
    return client


def act(client, member, action, reason=""):
    return client.post(f"/moderate/users/{member.username}/{action}/", {"reason": reason})


def test_list_requires_moderate(client, member, roles):
    assert client.get(LIST)["Location"].startswith("/accounts/login/?next=")
    client.force_login(member)
    assert client.get(LIST).status_code == 403


def test_list_is_paginated_and_searchable(mod_client, roles):
    UserFactory.create_batch(30)
    UserFactory(username="zed", email="zed@example.org", is_active=False)
    first = mod_client.get(LIST)
    assert len(first.context["members"]) == 25
    assert first.context["page_obj"].paginator.num_pages == 2
    by_name = mod_client.get(LIST, {"q": "ZE"})
    assert [m.username for m in by_name.context["members"]] == ["zed"]
    # Moderators search by username only (tests/test_member_addresses.py).
    by_email = mod_client.get(LIST, {"q": "zed@example.o"})
    assert list(by_email.context["members"]) == []
    suspended = mod_client.get(LIST, {"active": "no"})
    assert [m.username for m in suspended.context["members"]] == ["zed"]


def test_list_query_count_does_not_grow_with_members(
    mod_client, roles, django_assert_max_num_queries
):
    UserFactory.create_batch(10)
    mod_client.get(LIST)  # last-seen written here, not below
    # session, user, estimated and exact count (a small table), the page.
    with django_assert_max_num_queries(5) as small:
        few = mod_client.get(LIST)
    UserFactory.create_batch(490)
    with django_assert_max_num_queries(len(small.captured_queries)):
        many = mod_client.get(LIST)
    # The page itself both times (not a redirect that would cost nothing): a full page of rows.
    assert few.status_code == many.status_code == 200
    assert len(few.context["members"]) == 11  # the 10 members and the moderator
    assert len(many.context["members"]) == 25


def test_suspend_asks_for_confirmation_first(mod_client, member):
    response = mod_client.get(f"/moderate/users/{member.username}/suspend/")
    assert response.status_code == 200
    assert "Suspend alice?" in response.content.decode()
    member.refresh_from_db()
    assert member.is_active


def test_suspend_signs_the_member_out_of_an_open_session_and_says_why(
    mod_client, moderator, member, password, django_capture_on_commit_callbacks
):
    browser = Client()
    browser.post("/accounts/login/", {"username": "alice", "password": password})
    assert browser.get("/").context["user"] == member
    # As in production: the suspension's commit deletes her session from the store.
    with django_capture_on_commit_callbacks(execute=True):
        response = act(mod_client, member, "suspend", "Spam links")
    assert response["Location"] == LIST
    assert not Session.objects.filter(session_key=browser.session.session_key).exists()
    landed = browser.get("/", follow=True)
    assert not landed.context["user"].is_authenticated
    html = landed.content.decode()
    assert "Your account has been suspended, so you have been signed out." in html
    assert "Reason: Spam links" in html
    again = browser.post("/accounts/login/", {"username": "alice", "password": password})
    assert "Reason: Spam links" in again.content.decode()
    assert "_auth_user_id" not in browser.session
    record = ModerationAction.objects.get()
    assert (record.actor, record.member, record.kind, record.reason) == (
        moderator,
        member,
        "suspend",
        "Spam links",
    )


def test_reinstate_lets_the_member_sign_in_again(mod_client, member, password):
    act(mod_client, member, "suspend")
    act(mod_client, member, "reinstate")
    member.refresh_from_db()
    assert member.is_active
    assert (
        Client().post("/accounts/login/", {"username": "alice", "password": password}).status_code
        == 302
    )
    assert list(ModerationAction.objects.values_list("kind", flat=True)) == ["reinstate", "suspend"]


def test_clear_about_me_and_avatar(mod_client, member, client):
    member.about_me = "rude words"
    member.save()
    owner = Client()
    owner.force_login(member)
    owner.post(
        "/accounts/profile/",
        {"about_me": "rude words", "avatar_upload": SimpleUploadedFile("a.png", image_bytes())},
    )
    act(mod_client, member, "clear_about")
    act(mod_client, member, "clear_avatar")
    member.refresh_from_db()
    assert member.about_me == "" and not member.avatar


@pytest.mark.parametrize("action", ["suspend", "reinstate", "clear_about", "clear_avatar"])
def test_moderators_cannot_act_on_administrators_or_themselves(
    mod_client, moderator, administrator, action
):
    assert act(mod_client, administrator, action).status_code == 403
    assert act(mod_client, moderator, action).status_code == 403
    assert mod_client.get(f"/moderate/users/{administrator.username}/{action}/").status_code == 403
    administrator.refresh_from_db()
    assert administrator.is_active
    assert not ModerationAction.objects.exists()


def test_members_without_moderate_cannot_act(member_client, roles):
    victim = UserFactory(username="victim")
    assert act(member_client, victim, "suspend").status_code == 403
    victim.refresh_from_db()
    assert victim.is_active


def test_unknown_action_is_404(mod_client, member):
    assert mod_client.post(f"/moderate/users/{member.username}/delete/").status_code == 404


def test_actions_are_post_only_and_need_csrf(moderator, member):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(moderator)
    url = f"/moderate/users/{member.username}/suspend/"
    # GET only asks for confirmation (a link preview or prefetch acts on nothing).
    page = browser.get(url)
    assert page.status_code == 200 and 'method="post"' in page.content.decode()
    member.refresh_from_db()
    assert member.is_active and not ModerationAction.objects.exists()
    # POST without the CSRF token is refused.
    assert browser.post(url).status_code == 403
    member.refresh_from_db()
    assert member.is_active and not ModerationAction.objects.exists()


def test_record_is_in_the_django_admin_and_the_member_edit_page(
    client, moderator, administrator, member
):
    mod = Client()
    mod.force_login(moderator)
    act(mod, member, "suspend", "Spam links")
    client.force_login(administrator)
    admin_log = client.get("/admin/accounts/moderationaction/").content.decode()
    assert "Spam links" in admin_log
    # The admin's member page is the member editor.
    editor = client.get(f"/admin/accounts/user/{member.pk}/change/", follow=True)
    assert editor.redirect_chain[0][0].startswith(f"/users/{member.username}/edit/")
    assert "Spam links" in editor.content.decode()


def test_list_offers_actions_only_on_members_the_moderator_may_act_on(
    mod_client, moderator, administrator, member
):
    html = mod_client.get(LIST).content.decode()
    assert f"/moderate/users/{member.username}/suspend/" in html
    assert f"/moderate/users/{administrator.username}/suspend/" not in html
    assert f"/moderate/users/{moderator.username}/suspend/" not in html


def test_suspension_message_shows_once_and_ordinary_requests_pay_nothing(
    mod_client, member, password, django_capture_on_commit_callbacks, django_assert_num_queries
):
    browser = Client()
    browser.post("/accounts/login/", {"username": "alice", "password": password})
    with django_capture_on_commit_callbacks(execute=True):
        act(mod_client, member, "suspend", "Spam links")
    # Her device list no longer shows the ended session, nor does her data export.
    assert not member.user_sessions.filter(suspended_at=None).exists()
    first = browser.get("/", follow=True).content.decode()
    assert "Reason: Spam links" in first
    # Told once: the marker is gone, the next page is an ordinary anonymous one.
    assert not member.user_sessions.exists()
    assert "suspended" not in browser.get("/").content.decode()
    # A stranger with no cookie costs no marker lookup.
    with django_assert_num_queries(0):
        Client().get("/accounts/login/")


def test_bulk_suspension_also_says_why(member, password, django_capture_on_commit_callbacks):
    from accounts.models import User
    from accounts.services import members_update

    browser = Client()
    browser.post("/accounts/login/", {"username": "alice", "password": password})
    with django_capture_on_commit_callbacks(execute=True):
        members_update(
            members=User.objects.filter(pk=member.pk), actor=None, via="admin_bulk", is_active=False
        )
    html = browser.get("/", follow=True).content.decode()
    assert "Your account has been suspended, so you have been signed out." in html


def test_reinstated_member_is_not_told_of_an_old_suspension(
    mod_client, member, password, django_capture_on_commit_callbacks
):
    browser = Client()
    browser.post("/accounts/login/", {"username": "alice", "password": password})
    with django_capture_on_commit_callbacks(execute=True):
        act(mod_client, member, "suspend", "Spam links")
        act(mod_client, member, "reinstate")
    assert "suspended" not in browser.get("/", follow=True).content.decode()


def test_the_confirmation_says_exactly_what_it_does_and_destructive_buttons_are_red(
    mod_client, member
):
    html = mod_client.get(f"/moderate/users/{member.username}/suspend/").content.decode()
    assert '<button type="submit" class="danger">Suspend alice</button>' in html
    assert "signed out everywhere at once" in html
    assert "Shown to alice when they try to sign in, with how to appeal." in html
    reinstate = mod_client.get(f"/moderate/users/{member.username}/reinstate/").content.decode()
    assert '<button type="submit">Reinstate alice</button>' in reinstate
    assert "Kept in the moderation record; alice does not see it." in reinstate


def test_a_suspension_says_what_happened_and_undo_reinstates_at_once(mod_client, member):
    done = mod_client.post(
        "/moderate/users/alice/suspend/", {"reason": "", "next": LIST + "?q=al"}, follow=True
    )
    assert done.redirect_chain == [(LIST + "?q=al", 302)]  # back to the same search
    html = done.content.decode()
    assert "alice is suspended and signed out." in html
    undo = re.search(r'<form method="post" action="(/moderate/users/alice/reinstate/)">', html)
    assert undo and "Undo: reinstate" in html
    mod_client.post(undo.group(1), {"reason": "Undone at once", "next": LIST})
    member.refresh_from_db()
    assert member.is_active


def test_a_suspended_members_profile_is_hidden_from_all_but_moderators(
    client, member, moderator, administrator
):
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert client.get("/users/alice/").status_code == 404
    client.force_login(UserFactory(username="zoe"))
    assert client.get("/users/alice/").status_code == 404
    for staff in (moderator, administrator):
        client.force_login(staff)
        page = client.get("/users/alice/")
        assert page.status_code == 200
        assert '<span class="badge badge-suspended">Suspended</span>' in page.content.decode()


def test_the_suspension_message_says_how_to_appeal(client, mod_client, member, password, settings):
    settings.OFFBRAND_APPEALS_EMAIL = "appeals@offbrand.example"
    act(mod_client, member, "suspend", "Spam links")
    html = client.post("/accounts/login/", {"username": "alice", "password": password}).content
    assert (
        "Reason: Spam links. If you think this is a mistake, write to "
        "appeals@offbrand.example to appeal."
    ) in html.decode()


def test_the_list_shows_each_member_as_a_card_with_a_status_badge(mod_client, member):
    UserFactory(username="zed", is_active=False)
    html = mod_client.get(LIST).content.decode()
    assert html.count('<li class="member-card">') == 3  # alice, mod, zed
    assert '<span class="badge badge-suspended">Suspended</span>' in html
    assert '<span class="badge badge-active">Active</span>' in html
    assert 'class="button danger" href="/moderate/users/alice/suspend/?next=' in html
