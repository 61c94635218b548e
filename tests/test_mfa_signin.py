"""Signing in with a second factor: nothing of the member's is open before it is verified."""

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client

from accounts.mfa import services
from accounts.mfa.models import Passkey, RecoveryCode, TotpDevice
from accounts.ratelimits import DEVICE_COOKIE
from tests import test_access_matrix as matrix
from tests.conftest import links_in, path_of
from tests.mfa import LOGIN, SECOND_STEP, enable_totp, page_text, password_step, signed_in_as

# Pages only a signed-in member may see: each must still refuse the visitor.
SIGNED_IN_PAGES = [
    "/accounts/profile/",
    "/accounts/password/change/",
    "/accounts/email/change/",
    "/accounts/security/",
    "/accounts/security/totp/",
    "/accounts/security/recovery-codes/",
]


def test_after_the_password_no_session_holds_the_members_identity(client, member, password):
    enable_totp(member)
    response = password_step(client, "alice", password)
    assert response["Location"] == SECOND_STEP
    assert SESSION_KEY not in client.session
    assert not client.get("/").context["user"].is_authenticated
    for url in SIGNED_IN_PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(LOGIN), url
    assert not mail.outbox  # and no welcome, no notice


def test_the_admin_refuses_a_pending_administrator(client, administrator, password):
    enable_totp(administrator)
    password_step(client, "boss", password)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_member_without_factors_signs_in_with_the_password_alone(client, member, password):
    response = password_step(client, "alice", password)
    assert response["Location"] == "/"
    assert signed_in_as(client) == str(member.pk)


def test_the_pending_step_expires(client, member, password, settings):
    totp = enable_totp(member)
    password_step(client, "alice", password)
    session = client.session
    session["mfa_pending"]["started"] -= settings.OFFBRAND_MFA_PENDING_SECONDS + 1
    session.save()
    response = client.post(SECOND_STEP, {"code": totp.now()})
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert signed_in_as(client) is None
    assert "took too long" in page_text(client.get(LOGIN))
    assert client.get(SECOND_STEP)["Location"] == LOGIN  # and it stays gone


def test_the_pending_step_lasts_minutes_by_default():
    assert 60 <= settings.OFFBRAND_MFA_PENDING_SECONDS <= 600


def test_remember_me_does_not_skip_the_factor_and_is_applied_after_it(client, member, password):
    totp = enable_totp(member)
    password_step(client, "alice", password, remember="on")
    assert signed_in_as(client) is None
    client.post(SECOND_STEP, {"code": totp.now()})
    assert signed_in_as(client) == str(member.pk)
    assert client.session.get_expiry_age() == settings.OFFBRAND_REMEMBER_DAYS * 24 * 3600
    assert not client.session.get_expire_at_browser_close()


def test_without_remember_me_the_session_ends_with_the_browser(client, member, password):
    totp = enable_totp(member)
    password_step(client, "alice", password)
    client.post(SECOND_STEP, {"code": totp.now()})
    assert client.session.get_expire_at_browser_close()


def test_an_earlier_session_of_the_member_does_not_skip_the_factor(client, member, password):
    """A cookie of this browser (an old session, a device cookie) is no second factor."""
    enable_totp(member)
    password_step(client, "alice", password, remember="on")
    cookies = dict(client.cookies.items())
    again = Client()
    for name, morsel in cookies.items():
        again.cookies[name] = morsel.value
    assert password_step(again, "alice", password)["Location"] == SECOND_STEP
    assert signed_in_as(again) is None


def test_a_known_device_does_not_skip_the_factor(client, member, password):
    """The device cookie a full sign-in leaves behind is no second factor next time."""
    totp = enable_totp(member)
    password_step(client, "alice", password, remember="on")
    client.post(SECOND_STEP, {"code": totp.now()})
    client.get("/")
    assert DEVICE_COOKIE in client.cookies
    client.post("/accounts/logout/")
    assert DEVICE_COOKIE in client.cookies
    assert password_step(client, "alice", password)["Location"] == SECOND_STEP
    assert signed_in_as(client) is None


def test_the_session_key_changes_at_each_step(client, member, password):
    totp = enable_totp(member)
    client.get(LOGIN)
    client.session.save()
    first = client.session.session_key
    password_step(client, "alice", password)
    second = client.session.session_key
    client.post(SECOND_STEP, {"code": totp.now()})
    assert len({first, second, client.session.session_key}) == 3


def test_another_member_signed_in_on_the_browser_is_signed_out(client, member, roles, password):
    from tests.factories import UserFactory

    other = UserFactory(username="bob", email="bob@example.com")
    client.force_login(other)
    enable_totp(member)
    password_step(client, "alice", password)
    assert signed_in_as(client) is None


def test_cancel_ends_the_pending_step(client, member, password):
    enable_totp(member)
    password_step(client, "alice", password)
    assert client.post("/accounts/2fa/cancel/")["Location"] == LOGIN
    assert client.get(SECOND_STEP)["Location"] == LOGIN


def test_a_password_reset_keeps_the_factors_and_voids_a_pending_step(client, member, password):
    """Someone with the member's mailbox resets the password: the factor still stands."""
    totp = enable_totp(member)
    password_step(client, "alice", password)  # a pending step from before the reset

    other = Client()
    other.post("/accounts/password/reset/", {"email": "alice@example.com"})
    link = path_of(links_in(mail.outbox[-1])[0])
    set_url = other.get(link, follow=True).redirect_chain[-1][0]
    new = "a brand new passphrase 7"
    other.post(set_url, {"new_password1": new, "new_password2": new})

    assert TotpDevice.objects.filter(user=member).exists()
    # The pending step was for the old password: it is void.
    assert client.post(SECOND_STEP, {"code": totp.now()})["Location"] == LOGIN
    assert signed_in_as(client) is None
    # And the new password alone does not sign in.
    assert password_step(other, "alice", new)["Location"] == SECOND_STEP
    assert signed_in_as(other) is None


def test_a_member_suspended_while_pending_is_not_signed_in(client, member, password):
    totp = enable_totp(member)
    password_step(client, "alice", password)
    member.is_active = False
    member.save(update_fields=["is_active"])
    client.post(SECOND_STEP, {"code": totp.now()})
    assert signed_in_as(client) is None


def test_admin_sign_in_asks_for_the_second_factor(client, administrator, password):
    # The admin signs in on the site's own page, so the second step is the same.
    totp = enable_totp(administrator)
    assert client.get("/admin/accounts/role/", follow=True).redirect_chain[-1][0] == (
        "/accounts/login/?next=/admin/accounts/role/"
    )
    response = client.post(
        "/accounts/login/?next=/admin/accounts/role/",
        {"username": "boss", "password": password, "next": "/admin/accounts/role/"},
    )
    assert response.status_code == 302
    assert response["Location"] == SECOND_STEP
    assert signed_in_as(client) is None
    assert client.get("/admin/")["Location"].startswith("/admin/login/")

    response = client.post(SECOND_STEP, {"code": totp.now()})
    assert response["Location"] == "/admin/accounts/role/"
    assert client.get("/admin/").status_code == 200


def test_admin_sign_in_without_factors_goes_straight_to_the_admin(client, administrator, password):
    response = client.post(
        "/accounts/login/", {"username": "boss", "password": password, "next": "/admin/"}
    )
    assert response["Location"] == "/admin/"
    assert signed_in_as(client) == str(administrator.pk)


def test_the_admin_has_no_password_form_to_get_around_the_second_step(client, member, password):
    enable_totp(member)
    response = client.post("/admin/login/", {"username": "alice", "password": password})
    assert response["Location"] == "/accounts/login/?next=/admin/"
    assert signed_in_as(client) is None
    assert "mfa_pending" not in client.session


def test_wrong_password_never_reaches_the_second_step(client, member):
    enable_totp(member)
    response = password_step(client, "alice", "not the password")
    assert response.status_code == 200
    assert "mfa_pending" not in client.session


# --- What other parts of Offbrand ask ------------------------------------------------


def test_has_factors_and_member_remove_factors(member, roles):
    assert not services.has_factors(member)
    enable_totp(member)
    Passkey.objects.create(user=member, name="Key", credential_id="AA", public_key=b"k")
    services.recovery_codes_generate(user=member)
    assert services.has_factors(member)
    summary = services.factor_summary(member)
    assert summary["recovery_codes_left"] == 10
    assert summary["passkeys"][0]["name"] == "Key"
    assert "secret" not in str(summary) and "public_key" not in str(summary)

    assert services.member_remove_factors(user=member) == 2
    assert not services.has_factors(member)
    assert not RecoveryCode.objects.filter(user=member).exists()


@pytest.mark.parametrize("login", ["alice", "ALICE@example.com"])
def test_every_way_of_naming_the_account_gets_the_second_step(client, member, password, login):
    enable_totp(member)
    assert password_step(client, login, password)["Location"] == SECOND_STEP


world = matrix.world  # the access matrix's visitors and objects, as a fixture here


def test_every_page_treats_a_pending_sign_in_as_anonymous(client, world, password):
    """The whole URLconf, as the access matrix walks it: past the password but not the
    factor, a visitor gets exactly what an anonymous one gets."""
    member = world["users"]["user"]
    enable_totp(member)
    assert password_step(client, member.username, password)["Location"] == SECOND_STEP
    wrong = []
    for route in matrix.all_routes():
        if route.key == "mfa:authenticate":
            continue  # the one page a pending sign-in opens
        url = matrix.url_for(route, world)
        expect = matrix.expectation_for(route.key)["anonymous"]
        response = client.get(url)
        if not expect.matches(response):
            wrong.append(f"GET {url}: want {expect}, got {response.status_code}")
    assert not wrong, "\n".join(wrong)
    assert client.get(SECOND_STEP).status_code == 200  # and the step is still pending


def test_a_stranger_on_the_owners_network_cannot_stop_her_trusted_browsers_second_step(
    member, password, clock
):
    """Attack F3 on the second factor: the code draws on the same budget, so a browser
    the account trusts gets past the per-network limit at both steps."""
    from accounts.ratelimits import LIMITS
    from tests.mfa import code_at

    totp = enable_totp(member)
    network = "203.0.113.8"
    owner = Client(REMOTE_ADDR=network)
    assert password_step(owner, "alice", password)["Location"] == SECOND_STEP
    assert owner.post(SECOND_STEP, {"code": code_at(totp, -1)}).status_code == 302
    assert DEVICE_COOKIE in owner.cookies
    owner.post("/accounts/logout/")
    thief = Client(REMOTE_ADDR=network)
    for n in range(LIMITS["signin_ip"].count + 1):
        password_step(thief, f"made-up-{n}", "a guess")
    assert password_step(Client(REMOTE_ADDR=network), "alice", password).status_code == 429
    assert password_step(owner, "alice", password)["Location"] == SECOND_STEP
    assert owner.post(SECOND_STEP, {"code": totp.now()}).status_code == 302
    assert signed_in_as(owner) == str(member.pk)
