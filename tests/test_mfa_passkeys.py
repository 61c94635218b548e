"""Passkeys: add and remove them, sign in with one alone, or after the password.

The browser's part is played by `tests.authenticator.SoftAuthenticator`; the
server verifies its answers with py_webauthn as it would a real device's.
"""

import json
import re
from html import unescape

import pytest
from django.core import mail

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
