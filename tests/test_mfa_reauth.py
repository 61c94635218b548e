"""Adding or removing a factor and making recovery codes need a recent password check."""

import time

import pytest

from accounts.flows.reauthentication import SESSION_KEY
from accounts.mfa import services
from accounts.mfa.models import Passkey, RecoveryCode, TotpDevice
from tests.mfa import SECOND_STEP, enable_totp, password_step

REAUTH = "/accounts/reauthenticate/"
STALE = 601  # seconds: past OFFBRAND_REAUTH_SECONDS (600)


def age_the_check(client, seconds=STALE):
    session = client.session
    session[SESSION_KEY] = int(time.time()) - seconds
    session.save()


@pytest.fixture
def factors(member):
    enable_totp(member)
    passkey = Passkey.objects.create(user=member, name="Key", credential_id="AA", public_key=b"k")
    codes = services.recovery_codes_generate(user=member)
    return {"passkey": passkey, "codes": codes}


def guarded_paths(factors) -> list[str]:
    return [
        "/accounts/security/passkeys/add/",
        f"/accounts/security/passkeys/{factors['passkey'].pk}/remove/",
        "/accounts/security/totp/remove/",
        "/accounts/security/recovery-codes/",
    ]


def test_a_stale_check_sends_every_factor_change_to_reauthenticate(member_client, factors):
    """A session stolen an hour ago cannot swap the factors without the password."""
    age_the_check(member_client)
    for path in guarded_paths(factors):
        for method in (member_client.get, member_client.post):
            response = method(path)
            assert response.status_code == 302, path
            assert response["Location"] == f"{REAUTH}?next={path}", path
    assert Passkey.objects.filter(pk=factors["passkey"].pk).exists()
    assert TotpDevice.objects.exists()
    assert RecoveryCode.objects.filter(used_at__isnull=True).count() == 10
    assert services.recovery_code_use(user=factors["passkey"].user, code=factors["codes"][0])


def test_totp_setup_needs_a_recent_check(member_client, member):
    age_the_check(member_client)
    response = member_client.post("/accounts/security/totp/", {"code": "123456"})
    assert response["Location"] == f"{REAUTH}?next=/accounts/security/totp/"
    assert not TotpDevice.objects.filter(user=member).exists()


def test_the_password_check_brings_the_member_back(member_client, password, factors):
    age_the_check(member_client)
    path = "/accounts/security/recovery-codes/"
    response = member_client.post(f"{REAUTH}?next={path}", {"password": password, "next": path})
    assert response["Location"] == path
    assert member_client.get(path).status_code == 200


def test_the_settings_page_itself_needs_no_recent_check(member_client, factors):
    age_the_check(member_client)
    assert member_client.get("/accounts/security/").status_code == 200


def test_verifying_the_second_factor_counts_as_a_fresh_check(client, member, password):
    totp = enable_totp(member)
    password_step(client, "alice", password)
    client.post(SECOND_STEP, {"code": totp.now()})
    assert client.get("/accounts/security/recovery-codes/").status_code == 200
