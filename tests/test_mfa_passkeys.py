"""Passkeys: add and remove them, sign in with one alone, or after the password.

The browser's part is played by `tests.authenticator.SoftAuthenticator`; the
server verifies its answers with py_webauthn as it would a real device's.
"""

import json
import re
from html import unescape

import pytest
from django.core import mail
from django.test import Client

from accounts import ratelimits
from accounts.mfa import services
from accounts.mfa.models import Passkey
from tests.authenticator import SoftAuthenticator
from tests.factories import UserFactory
from tests.mfa import LOGIN, SECOND_STEP, SECURITY, page_text, password_step, signed_in_as

ADD = "/accounts/security/passkeys/add/"
PASSKEY_LOGIN = "/accounts/passkey/sign-in/"


def page_options(response) -> tuple[dict, str]:
    """The WebAuthn options and challenge token a page hands to passkeys.js."""
    html = response.content.decode()
    options = json.loads(
        re.search(
            r'<script id="passkey-options" type="application/json">(.*?)</script>', html
        ).group(1)
    )
    token = unescape(re.search(r'name="token" value="([^"]+)"', html).group(1))
    return options, token


def origin() -> str:
    return services.relying_party()[1]


def add_passkey(client, authenticator, name="Laptop"):
    options, token = page_options(client.get(ADD))
    credential = authenticator.create(options, origin())
    return client.post(ADD, {"name": name, "credential": credential, "token": token})


def sign_in_with_passkey(client, authenticator, **extra):
    options, token = page_options(client.get(LOGIN))
    credential = authenticator.get(options, origin(), rp_id=services.relying_party()[0])
    return client.post(PASSKEY_LOGIN, {"credential": credential, "token": token, **extra})


@pytest.fixture
def authenticator():
    return SoftAuthenticator()


def test_relying_party_comes_from_site_url(member_client, settings):
    settings.SITE_URL = "https://members.example.org"
    options, _ = page_options(member_client.get(ADD))
    assert options["rp"]["id"] == "members.example.org"
    assert options["user"]["name"] == "alice"
    assert services.relying_party() == ("members.example.org", "https://members.example.org")


def test_add_a_named_passkey_and_see_it_listed(member_client, member, authenticator):
    response = add_passkey(member_client, authenticator, name="Blue key")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/security/recovery-codes/"
    passkey = Passkey.objects.get(user=member)
    assert passkey.name == "Blue key"
    assert passkey.transports == ["internal"]
    page = page_text(member_client.get(SECURITY))
    assert "Blue key" in page and "Never" in page
    notice = mail.outbox[-1]
    assert notice.subject == "[Offbrand] A passkey was added to your account"
    assert "Blue key" in notice.body
    assert services.has_factors(member)


def test_add_several_passkeys(member_client, member):
    add_passkey(member_client, SoftAuthenticator(), name="Phone")
    add_passkey(member_client, SoftAuthenticator(), name="Laptop")
    assert list(Passkey.objects.filter(user=member).values_list("name", flat=True)) == [
        "Phone",
        "Laptop",
    ]
    options, _ = page_options(member_client.get(ADD))
    assert len(options["excludeCredentials"]) == 2  # the browser won't register one twice


def test_an_answer_for_another_origin_is_refused(member_client, member, authenticator):
    options, token = page_options(member_client.get(ADD))
    credential = authenticator.create(options, "https://phishing.example")
    response = member_client.post(ADD, {"name": "x", "credential": credential, "token": token})
    assert response.status_code == 400
    assert "could not be verified" in page_text(response)
    assert not Passkey.objects.exists()


def test_a_challenge_works_once(member_client, member):
    options, token = page_options(member_client.get(ADD))
    first = SoftAuthenticator().create(options, origin())
    assert member_client.post(ADD, {"name": "a", "credential": first, "token": token})
    second = SoftAuthenticator().create(options, origin())
    response = member_client.post(ADD, {"name": "b", "credential": second, "token": token})
    assert response.status_code == 400
    assert "expired" in page_text(response)
    assert Passkey.objects.count() == 1


def test_another_members_challenge_is_refused(client, member, roles, authenticator):
    other = UserFactory(username="bob", email="bob@example.com")
    client.force_login(other)
    options, token = page_options(client.get(ADD))
    client.force_login(member)
    credential = authenticator.create(options, origin())
    response = client.post(ADD, {"name": "x", "credential": credential, "token": token})
    assert response.status_code == 400
    assert not Passkey.objects.exists()


def test_junk_answers_get_a_clear_message(member_client):
    _, token = page_options(member_client.get(ADD))
    for credential in ["", "not json", "{}", '{"id": 1}', "[]"]:
        response = member_client.post(ADD, {"name": "x", "credential": credential, "token": token})
        assert response.status_code == 400
        text = page_text(response)
        assert "did not answer" in text or "could not be verified" in text or "expired" in text
    nameless = member_client.post(ADD, {"name": "", "credential": "{}", "token": token})
    assert nameless.status_code == 400


def test_sign_in_with_a_passkey_and_no_password(client, member, authenticator):
    client.force_login(member)
    add_passkey(client, authenticator)
    client.post("/accounts/logout/")

    response = sign_in_with_passkey(client, authenticator, next="/accounts/profile/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    assert signed_in_as(client) == str(member.pk)
    assert client.session.get_expire_at_browser_close()
    passkey = Passkey.objects.get()
    assert passkey.last_used_at is not None
    assert passkey.sign_count == 2


def test_passwordless_sign_in_needs_user_verification(client, member):
    authenticator = SoftAuthenticator(user_verified=False)
    client.force_login(member)
    add_passkey(client, authenticator)
    client.post("/accounts/logout/")
    response = sign_in_with_passkey(client, authenticator)
    assert response["Location"] == LOGIN
    assert signed_in_as(client) is None
    assert "could not sign you in" in page_text(client.get(LOGIN))


def test_a_replayed_passkey_answer_is_refused(client, member, authenticator):
    client.force_login(member)
    add_passkey(client, authenticator)
    client.post("/accounts/logout/")
    options, token = page_options(client.get(LOGIN))
    credential = authenticator.get(options, origin(), rp_id=services.relying_party()[0])
    data = {"credential": credential, "token": token}
    assert client.post(PASSKEY_LOGIN, data)["Location"] == "/"
    client.post("/accounts/logout/")
    assert client.post(PASSKEY_LOGIN, data)["Location"] == LOGIN
    assert signed_in_as(client) is None


def test_an_unknown_passkey_signs_no_one_in(client, member):
    stranger = SoftAuthenticator()
    stranger.user_handle = services.user_handle(member)
    assert sign_in_with_passkey(client, stranger)["Location"] == LOGIN
    assert signed_in_as(client) is None


def test_a_suspended_member_cannot_sign_in_with_a_passkey(client, member, authenticator):
    client.force_login(member)
    add_passkey(client, authenticator)
    client.post("/accounts/logout/")
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert sign_in_with_passkey(client, authenticator)["Location"] == LOGIN
    assert signed_in_as(client) is None
    assert "suspended" in page_text(client.get(LOGIN))


def test_passkey_as_the_second_factor(client, member, password, authenticator):
    client.force_login(member)
    add_passkey(client, authenticator)
    client.post("/accounts/logout/")

    assert password_step(client, "alice", password)["Location"] == SECOND_STEP
    assert signed_in_as(client) is None
    page = client.get(SECOND_STEP)
    assert "use your passkey" in page_text(page)
    options, token = page_options(page)
    assert [c["id"] for c in options["allowCredentials"]] == [Passkey.objects.get().credential_id]
    credential = authenticator.get(options, origin())
    response = client.post(SECOND_STEP, {"credential": credential, "token": token})
    assert response["Location"] == "/"
    assert signed_in_as(client) == str(member.pk)


def test_another_members_passkey_is_no_second_factor(client, member, roles, password):
    client.force_login(member)
    add_passkey(client, SoftAuthenticator())
    bob = UserFactory(username="bob", email="bob@example.com")
    bobs_key = SoftAuthenticator()
    client.force_login(bob)
    add_passkey(client, bobs_key)
    client.post("/accounts/logout/")

    password_step(client, "alice", password)
    options, token = page_options(client.get(SECOND_STEP))
    credential = bobs_key.get(options, origin())
    response = client.post(SECOND_STEP, {"credential": credential, "token": token})
    assert response["Location"] == SECOND_STEP
    assert signed_in_as(client) is None


def test_remove_a_passkey(member_client, member, authenticator):
    add_passkey(member_client, authenticator, name="Old phone")
    passkey = Passkey.objects.get()
    url = f"/accounts/security/passkeys/{passkey.pk}/remove/"
    assert "Remove the passkey “Old phone”?" in page_text(member_client.get(url))
    assert member_client.post(url)["Location"] == SECURITY
    assert not Passkey.objects.exists()
    assert mail.outbox[-1].subject == "[Offbrand] A passkey was removed from your account"
    assert not services.has_factors(member)


def test_another_members_passkey_cannot_be_removed(client, member, roles, authenticator):
    client.force_login(member)
    add_passkey(client, authenticator)
    client.force_login(UserFactory(username="bob", email="bob@example.com"))
    url = f"/accounts/security/passkeys/{Passkey.objects.get().pk}/remove/"
    assert client.post(url).status_code == 404
    assert Passkey.objects.exists()


def test_sign_in_page_offers_passkeys_in_the_username_field(client, db):
    html = client.get(LOGIN).content.decode()
    assert 'autocomplete="username webauthn"' in html
    assert "data-conditional" in html
    assert re.search(r'<script src="/static/js/passkeys.js" defer>', html)


def test_settings_page_costs_the_same_for_1_or_12_passkeys(
    member_client, member, django_assert_num_queries
):
    member_client.get("/")  # last-seen is recorded on the first request
    Passkey.objects.create(user=member, name="Key 0", credential_id="k0", public_key=b"k")
    # Session, member, passkeys, app, unused recovery codes.
    with django_assert_num_queries(5):
        assert member_client.get(SECURITY).status_code == 200
    for n in range(1, 12):
        Passkey.objects.create(user=member, name=f"Key {n}", credential_id=f"k{n}", public_key=b"k")
    with django_assert_num_queries(5):
        page = member_client.get(SECURITY)
    assert page_text(page).count('/remove/"') == 12


# --- A stranger on the owner's network (issue 11) --------------------------------------

SHARED_NETWORK = "203.0.113.7"  # one NAT, office, carrier NAT or IPv6 /64: owner and stranger


def junk_passkey_answers(browser, times: int, credential: str = '{"id": "x"}') -> list[int]:
    """Passkey-only sign-ins that verify nothing: the statuses they got."""
    statuses = []
    for _ in range(times):
        _, token = page_options(browser.get(LOGIN))
        statuses.append(browser.post(PASSKEY_LOGIN, {"credential": credential, "token": token}))
    return [response.status_code for response in statuses]


def owners_browser(member, authenticator) -> Client:
    """The owner's browser on the shared network: she added her passkey there, signed in
    with it (so it carries her device cookie), then signed out."""
    browser = Client(REMOTE_ADDR=SHARED_NETWORK)
    browser.force_login(member)
    add_passkey(browser, authenticator)
    browser.post("/accounts/logout/")
    assert sign_in_with_passkey(browser, authenticator).status_code == 302
    assert ratelimits.DEVICE_COOKIE in browser.cookies
    browser.post("/accounts/logout/")
    return browser


def test_a_stranger_on_the_owners_network_cannot_stop_her_passkey_sign_in(
    member, authenticator, clock
):
    """A stranger behind the owner's address sends junk passkey answers until the
    network's sign-in budget is spent (no account is named until a passkey is
    checked). The owner's browser still signs in with her passkey; the stranger and a
    new browser on that network stay refused."""
    owner = owners_browser(member, authenticator)
    stranger = Client(REMOTE_ADDR=SHARED_NETWORK)
    limit = ratelimits.LIMITS["signin_ip"].count
    assert set(junk_passkey_answers(stranger, limit)) == {302}
    assert junk_passkey_answers(stranger, 1) == [429]
    newcomer = Client(REMOTE_ADDR=SHARED_NETWORK)
    assert sign_in_with_passkey(newcomer, authenticator).status_code == 429

    response = sign_in_with_passkey(owner, authenticator)
    assert response.status_code == 302
    assert signed_in_as(owner) == str(member.pk)


def test_the_owners_browser_keeps_exactly_its_own_passkey_budget(
    member, roles, authenticator, clock
):
    """Off the network's budget is not off every budget: answers that name her account
    but fail count per (account, browser), ten a window; an answer naming another
    account, or none, meets the (spent) network limit."""
    owner = owners_browser(member, authenticator)
    junk_passkey_answers(Client(REMOTE_ADDR=SHARED_NETWORK), ratelimits.LIMITS["signin_ip"].count)
    # Answers made for another site: they name her account (its user handle), and fail.
    phished = []
    for _ in range(ratelimits.LIMITS["signin_device"].count):
        options, token = page_options(owner.get(LOGIN))
        credential = authenticator.get(options, "https://evil.example", rp_id="evil.example")
        phished.append(owner.post(PASSKEY_LOGIN, {"credential": credential, "token": token}))
    assert {response.status_code for response in phished} == {302}
    assert signed_in_as(owner) is None
    assert sign_in_with_passkey(owner, authenticator).status_code == 429
    # Bob's passkey, and junk, from her browser: no account it trusts, the network's budget.
    bob = UserFactory(username="bob", email="bob@example.com")
    bobs_key = SoftAuthenticator()
    bobs_key.user_handle = services.user_handle(bob)
    assert sign_in_with_passkey(owner, bobs_key).status_code == 429
    assert junk_passkey_answers(owner, 1) == [429]


def test_a_borrowed_device_cookie_buys_no_passkey_attempts(member, roles, authenticator, clock):
    """Bob's browser (his device cookie) on the shared network, presenting answers that
    name alice's account: it is not her browser, so the network's limit applies."""
    bob = UserFactory(username="bob", email="bob@example.com")
    bobs_browser = owners_browser(bob, SoftAuthenticator())
    junk_passkey_answers(Client(REMOTE_ADDR=SHARED_NETWORK), ratelimits.LIMITS["signin_ip"].count)
    claims_alice = SoftAuthenticator()
    claims_alice.user_handle = services.user_handle(member)
    assert sign_in_with_passkey(bobs_browser, claims_alice).status_code == 429
