"""Administrators see and remove a member's second factors; moderators cannot."""

import time

from django.core import mail
from django.test import Client

from accounts.flows.reauthentication import SESSION_KEY
from accounts.mfa.models import RecoveryCode, TotpDevice
from accounts.mfa.services import has_factors, recovery_codes_generate
from accounts.models import ModerationAction
from tests.mfa import enable_totp

REMOVE = "/users/alice/factors/remove/"


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_member_edit_page_shows_the_factors(administrator, member):
    assert "No second factor" in as_user(administrator).get("/users/alice/edit/").content.decode()
    enable_totp(member)
    recovery_codes_generate(user=member)
    page = as_user(administrator).get("/users/alice/edit/").content.decode()
    assert "Authenticator app, set up" in page
    assert "10 recovery codes left" in page
    assert REMOVE in page


def test_an_administrator_removes_them_with_a_reason_and_the_member_is_told(
    administrator, member, password
):
    enable_totp(member)
    recovery_codes_generate(user=member)
    mail.outbox.clear()
    admin = as_user(administrator)
    assert "Remove the second factors of alice?" in admin.get(REMOVE).content.decode()
    response = admin.post(REMOVE, {"reason": "Lost her phone; identity checked by video call"})
    assert response.status_code == 302
    assert not has_factors(member)
    assert not RecoveryCode.objects.filter(user=member).exists()
    record = ModerationAction.objects.get(member=member, kind="factors_removed")
    assert record.actor == administrator
    assert record.reason == "Lost her phone; identity checked by video call"
    (notice,) = mail.outbox
    assert notice.to == ["alice@example.com"]
    assert notice.subject == "[Offbrand] An administrator removed your second factors"
    assert "identity checked by video call" in notice.body
    assert "Device:" not in notice.body  # never the administrator's device
    # The member signs in with the password alone now.
    response = Client().post("/accounts/login/", {"username": "alice", "password": password})
    assert response["Location"] == "/"


def test_a_reason_is_required(administrator, member):
    enable_totp(member)
    response = as_user(administrator).post(REMOVE, {"reason": "  "})
    assert response.status_code == 200
    assert has_factors(member)


def test_moderators_and_members_cannot_remove_factors(moderator, member, roles):
    enable_totp(member)
    assert as_user(moderator).post(REMOVE, {"reason": "x"}).status_code == 403
    assert as_user(moderator).get("/users/alice/edit/").status_code == 403
    assert has_factors(member)


def test_removal_needs_the_administrators_recent_password_check(administrator, member):
    enable_totp(member)
    admin = as_user(administrator)
    session = admin.session
    session[SESSION_KEY] = int(time.time()) - 3600
    session.save()
    response = admin.post(REMOVE, {"reason": "stolen session?"})
    assert response["Location"].startswith("/accounts/reauthenticate/")
    assert TotpDevice.objects.filter(user=member).exists()


def test_an_administrator_cannot_strip_their_own_factors_here(administrator):
    enable_totp(administrator)
    assert (
        as_user(administrator).post("/users/boss/factors/remove/", {"reason": "x"}).status_code
        == 403
    )
    assert has_factors(administrator)


def test_nothing_to_remove_records_nothing(administrator, member):
    as_user(administrator).post(REMOVE, {"reason": "just in case"})
    assert not ModerationAction.objects.filter(kind="factors_removed").exists()
    assert mail.outbox == []
