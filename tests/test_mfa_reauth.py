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


CONFIRM = "/accounts/security/confirm/"


def test_an_app_code_is_a_fresh_check_too(member_client, member):
    totp = enable_totp(member)
    age_the_check(member_client)
    path = "/accounts/security/recovery-codes/"
    page = member_client.get(f"{REAUTH}?next={path}")
    assert "Use a passkey or your authenticator app instead" in page.content.decode()
    response = member_client.post(f"{CONFIRM}?next={path}", {"code": totp.now()})
    assert response["Location"] == path
    assert member_client.get(path).status_code == 200


def test_a_wrong_or_replayed_code_is_no_check(member_client, member):
    totp = enable_totp(member)
    code = totp.now()
    assert services.totp_verify(user=member, code=code)
    age_the_check(member_client)
    for attempt in ("000000", code):
        response = member_client.post(
            f"{CONFIRM}?next=/accounts/security/totp/remove/", {"code": attempt}
        )
        assert response.status_code == 400
    assert member_client.get("/accounts/security/totp/remove/")["Location"].startswith(REAUTH)


def test_a_passkey_is_a_fresh_check_too(member_client, member):
    from tests.authenticator import SoftAuthenticator
    from tests.test_mfa_passkeys import origin, page_options

    authenticator = SoftAuthenticator()
    options, token = page_options(member_client.get("/accounts/security/passkeys/add/"))
    member_client.post(
        "/accounts/security/passkeys/add/",
        {"name": "Key", "credential": authenticator.create(options, origin()), "token": token},
    )
    age_the_check(member_client)
    path = "/accounts/security/recovery-codes/"
    options, token = page_options(member_client.get(f"{CONFIRM}?next={path}"))
    credential = authenticator.get(options, origin())
    response = member_client.post(
        f"{CONFIRM}?next={path}", {"credential": credential, "token": token}
    )
    assert response["Location"] == path


def test_without_factors_the_check_is_the_password(member_client):
    response = member_client.get(f"{CONFIRM}?next=/accounts/security/")
    assert response["Location"] == f"{REAUTH}?next=%2Faccounts%2Fsecurity%2F"


def test_an_unsafe_next_stays_on_the_site(member_client, member):
    totp = enable_totp(member)
    response = member_client.post(f"{CONFIRM}?next=https://evil.example/", {"code": totp.now()})
    assert response["Location"] == "/accounts/settings/"
