"""The authenticator app (TOTP, RFC 6238): set-up, sign-in, replays and the sign-in budget."""

import re
import threading

import pyotp
import pytest
from django.core import mail
from django.db import connection, connections

from accounts.mfa import services
from accounts.mfa.models import TotpDevice
from accounts.ratelimits import LIMITS
from tests.factories import UserFactory
from tests.mfa import (
    LOGIN,
    SECOND_STEP,
    SECURITY,
    code_at,
    enable_totp,
    page_text,
    password_step,
    signed_in_as,
)

SETUP = "/accounts/security/totp/"


def setup_secret(response) -> str:
    """The secret as the set-up page shows it to be typed, without the spaces."""
    shown = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page_text(response)).group(1)
    return shown.replace(" ", "")


def test_setup_shows_an_inline_svg_qr_code_and_the_secret(member_client):
    response = member_client.get(SETUP)
    assert response.status_code == 200
    html = page_text(response)
    assert "<svg" in html and "QR code for your authenticator app" in html
    assert "<img" not in html.split('class="qr"')[1].split("</figure>")[0]  # nothing fetched
    assert len(setup_secret(response)) == 32
    assert not TotpDevice.objects.exists()


def test_setup_is_enabled_only_after_a_correct_code(member_client, member):
    secret = setup_secret(member_client.get(SETUP))
    wrong = member_client.post(SETUP, {"code": "000000"})
    assert wrong.status_code == 400
    assert "That code isn't right" in page_text(wrong)
    assert not TotpDevice.objects.filter(user=member).exists()

    response = member_client.post(SETUP, {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/security/recovery-codes/"
    device = TotpDevice.objects.get(user=member)
    assert secret not in device.secret  # sealed at rest
    assert services.totp_unseal(device.secret) == secret
    assert services.has_factors(member)
    notice = mail.outbox[-1]
    assert notice.to == [member.email]
    assert "authenticator app was set up" in notice.subject
    assert "If this wasn't you" in notice.body


def test_the_setup_code_cannot_be_replayed_to_sign_in(client, member, password):
    client.force_login(member)
    secret = setup_secret(client.get(SETUP))
    code = pyotp.TOTP(secret).now()
    client.post(SETUP, {"code": code})
    client.post("/accounts/logout/")

    password_step(client, "alice", password)
    response = client.post(SECOND_STEP, {"code": code})
    assert response.status_code == 400
    assert signed_in_as(client) is None


def test_sign_in_waits_for_the_code_and_then_signs_in(client, member, password):
    totp = enable_totp(member)
    response = password_step(client, "alice", password)
    assert response.status_code == 302
    assert response["Location"] == SECOND_STEP
    assert signed_in_as(client) is None

    page = client.get(SECOND_STEP)
    assert page.status_code == 200
    assert "enter the code your authenticator app shows" in page_text(page)

    response = client.post(SECOND_STEP, {"code": totp.now()})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_as(client) == str(member.pk)
    assert "Welcome back, alice" in client.get("/").content.decode()


def test_a_code_from_the_previous_step_is_accepted_but_not_an_older_one(client, member, password):
    totp = enable_totp(member)
    password_step(client, "alice", password)
    assert client.post(SECOND_STEP, {"code": code_at(totp, -3)}).status_code == 400
    assert client.post(SECOND_STEP, {"code": code_at(totp, -1)}).status_code == 302


def test_a_replayed_code_is_refused(client, member, password):
    """Someone who watched a member type a code cannot use it again, even at once."""
    totp = enable_totp(member)
    code = totp.now()
    password_step(client, "alice", password)
    assert client.post(SECOND_STEP, {"code": code}).status_code == 302
    client.post("/accounts/logout/")

    password_step(client, "alice", password)
    response = client.post(SECOND_STEP, {"code": code})
    assert response.status_code == 400
    assert "already used" in page_text(response)
    assert signed_in_as(client) is None


def test_an_earlier_code_is_refused_once_a_later_one_was_used(member):
    totp = enable_totp(member)
    assert services.totp_verify(user=member, code=code_at(totp, 0))
    assert not services.totp_verify(user=member, code=code_at(totp, -1))


def test_wrong_codes_use_up_the_accounts_sign_in_budget(client, member, password, clock):
    """Guessing codes costs the same budget as guessing passwords: then even the right
    code, and the password form, are refused."""
    totp = enable_totp(member)
    password_step(client, "alice", password)
    for _ in range(LIMITS["signin_account"].count):
        assert client.post(SECOND_STEP, {"code": "123456"}).status_code == 400
    response = client.post(SECOND_STEP, {"code": totp.now()})
    assert response.status_code == 429
    assert signed_in_as(client) is None
    assert password_step(client, "alice", password).status_code == 429


def test_a_bad_code_says_so_on_the_page(client, member, password):
    enable_totp(member)
    password_step(client, "alice", password)
    response = client.post(SECOND_STEP, {"code": ""})
    assert response.status_code == 400
    assert "Enter the 6-digit code from your authenticator app" in page_text(response)
    response = client.post(SECOND_STEP, {"code": "x" * 500})
    assert response.status_code == 400


def test_removing_the_app_needs_a_post_and_sends_a_notice(member_client, member):
    enable_totp(member)
    assert member_client.get("/accounts/security/totp/remove/").status_code == 200
    assert TotpDevice.objects.filter(user=member).exists()
    response = member_client.post("/accounts/security/totp/remove/")
    assert response["Location"] == SECURITY
    assert not TotpDevice.objects.filter(user=member).exists()
    assert "authenticator app was removed" in mail.outbox[-1].subject


def test_setup_page_when_already_set_up_sends_back(member_client, member):
    enable_totp(member)
    assert member_client.get(SETUP)["Location"] == SECURITY


def test_settings_page_lists_the_app(member_client, member):
    assert "Set up an authenticator app" in page_text(member_client.get(SECURITY))
    enable_totp(member)
    assert "Remove the authenticator app" in page_text(member_client.get(SECURITY))


@pytest.mark.parametrize("login_with_next", [False, True])
def test_the_second_step_keeps_a_safe_next(client, member, password, login_with_next):
    totp = enable_totp(member)
    url = LOGIN + ("?next=/accounts/profile/" if login_with_next else "")
    client.post(url, {"username": "alice", "password": password})
    response = client.post(SECOND_STEP, {"code": totp.now()})
    assert response["Location"] == ("/accounts/profile/" if login_with_next else "/")


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_one_code_sent_twice_at_once_works_exactly_once(roles):
    """An attacker relaying a code the member is typing races them: one of the two wins."""
    member = UserFactory(username="racer", email="racer@example.com")
    code = enable_totp(member).now()
    threads = 8
    barrier = threading.Barrier(threads, timeout=30)
    results = [None] * threads

    def verify(index):
        try:
            barrier.wait()
            results[index] = services.totp_verify(user=member, code=code)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=verify, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert results.count(True) == 1


def test_only_a_full_sign_in_makes_a_browser_trusted(client, member, password):
    """A thief who knows the password gets no device budget of his own for codes."""
    from accounts.ratelimits import DEVICE_COOKIE

    totp = enable_totp(member)
    password_step(client, "alice", password)
    assert DEVICE_COOKIE not in client.cookies
    client.post(SECOND_STEP, {"code": totp.now()})
    assert signed_in_as(client) == str(member.pk)
    assert DEVICE_COOKIE in client.cookies


def test_the_secret_is_sealed_with_the_secret_key(member, settings):
    """A copy of the database without SECRET_KEY makes no codes; a rotated key that
    is kept in SECRET_KEY_FALLBACKS still opens it."""
    totp = enable_totp(member)
    sealed = TotpDevice.objects.get(user=member).secret
    assert totp.secret not in sealed
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY = "another key entirely, 50 characters long or so......"
    assert services.totp_unseal(sealed) is None
    assert not services.totp_verify(user=member, code=totp.now())
    settings.SECRET_KEY_FALLBACKS = [old_key]
    assert services.totp_verify(user=member, code=totp.now())
