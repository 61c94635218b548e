"""Account takeover: stale links, squatted addresses, kept sessions.

Each test is an attacker story: who holds what (a password, a link, a
session, a mailbox), what the owner does next, and what must stop working.
"""

import pytest
from django.core import mail
from django.test import Client

from accounts import tokens
from accounts.mfa.models import Passkey, RecoveryCode, TotpDevice
from accounts.models import EmailChangeRequest, Role, User
from tests.conftest import links_in, path_of
from tests.factories import DEFAULT_PASSWORD, UserFactory

ATTACKER_EMAIL = "mallory@evil.example"
OWNER_NEW_PASSWORD = "the owner's fresh passphrase 31"
LINK_REFUSED = "This link doesn"


def signed_in(username, password=DEFAULT_PASSWORD) -> Client:
    browser = Client()
    reply = browser.post("/accounts/login/", {"username": username, "password": password})
    assert reply.status_code == 302, reply.content.decode()[:500]
    return browser


def is_signed_in(browser: Client) -> bool:
    return browser.get("/").context["user"].is_authenticated


def last_link_to(address: str, prefix: str = "/accounts/") -> str:
    """The newest link under `prefix` mailed to `address`."""
    links = [
        path_of(link)
        for message in mail.outbox
        if message.to == [address]
        for link in links_in(message)
        if path_of(link).startswith(prefix)
    ]
    return links[-1]


def request_email_change(browser, password, new_email=ATTACKER_EMAIL) -> str:
    reply = browser.post("/accounts/email/change/", {"new_email": new_email, "password": password})
    assert reply.status_code == 302
    return last_link_to(new_email, "/accounts/email/confirm/")


def request_reset_link(email) -> str:
    Client().post("/accounts/password/reset/", {"email": email})
    return last_link_to(email, "/accounts/password/reset/")


def reset_password(email, new_password=OWNER_NEW_PASSWORD) -> None:
    """The owner asks for a reset link and sets a new password through it."""
    browser = Client()
    opened = browser.get(request_reset_link(email), follow=True)
    set_url = opened.redirect_chain[-1][0]
    done = browser.post(set_url, {"new_password1": new_password, "new_password2": new_password})
    assert done["Location"] == "/accounts/password/reset/complete/"


def use_link(browser, link, password=DEFAULT_PASSWORD):
    """POST an emailed link, offering the password the attacker knew."""
    return browser.post(link, {"password": password})


# --- Finding 1: unexpired email change ---------------------------------------


@pytest.mark.parametrize("where", ["anonymous", "attacker's old session", "owner's session"])
def test_kept_email_change_link_fails_after_the_owner_resets_the_password(member, where):
    attacker = signed_in("alice")  # Mallory knows Alice's password
    link = request_email_change(attacker, DEFAULT_PASSWORD)

    reset_password(member.email)  # Alice notices and resets her password

    browser = {
        "anonymous": Client(),
        "attacker's old session": attacker,
        "owner's session": signed_in("alice", OWNER_NEW_PASSWORD),
    }[where]
    reply = use_link(browser, link)
    assert reply.status_code == 400
    assert LINK_REFUSED in reply.content.decode()
    member.refresh_from_db()
    assert member.email == "alice@example.com"
    assert not is_signed_in(attacker)
    assert not EmailChangeRequest.objects.filter(user=member).exists()
    # The reset Mallory would have asked for next goes to Alice.
    Client().post("/accounts/password/reset/", {"email": ATTACKER_EMAIL})
    assert all(message.to != [ATTACKER_EMAIL] for message in mail.outbox[-1:])


def change_password(member):
    browser = signed_in(member.username)
    browser.post(
        "/accounts/password/change/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": OWNER_NEW_PASSWORD,
            "new_password2": OWNER_NEW_PASSWORD,
        },
    )


def suspend(member):
    moderator = UserFactory(username="mod", role=Role.objects.get(name="Moderator"))
    browser = signed_in(moderator.username)
    browser.post(f"/moderate/users/{member.username}/suspend/", {"reason": "spam"})


def admin_edit(member, **changes):
    admin = UserFactory(username="boss", role=Role.objects.administrator())
    browser = signed_in(admin.username)
    data = {
        "username": member.username,
        "email": member.email,
        "first_name": "",
        "last_name": "",
        "about_me": "",
        "role": member.role_id,
        "confirmed": "on" if member.confirmed else "",
        "is_active": "on",
        **changes,
    }
    assert browser.post(f"/users/{member.username}/edit/", data).status_code == 302


def django_admin_password(member):
    admin = UserFactory(username="boss", role=Role.objects.administrator())
    browser = signed_in(admin.username)
    reply = browser.post(
        f"/admin/accounts/user/{member.pk}/password/",
        {
            "password1": OWNER_NEW_PASSWORD,
            "password2": OWNER_NEW_PASSWORD,
            "usable_password": "true",
        },
    )
    assert reply.status_code == 302, reply.content.decode()[:2000]


def owner_changes_email(member):
    browser = signed_in(member.username)
    browser.post(link := request_email_change(browser, DEFAULT_PASSWORD, "alice@new.example"))
    assert link


CREDENTIAL_CHANGES = {
    "password change": change_password,
    "password reset": lambda member: reset_password(member.email),
    "suspension": suspend,
    "admin edits the address": lambda member: admin_edit(member, email="alice@other.example"),
    "admin suspends": lambda member: admin_edit(member, is_active=""),
    "admin sets a password": django_admin_password,
    "owner changes the address": owner_changes_email,
}


@pytest.mark.parametrize("credential_change", CREDENTIAL_CHANGES)
def test_every_credential_change_voids_every_pending_link(member, credential_change):
    attacker = signed_in("alice")
    change_link = request_email_change(attacker, DEFAULT_PASSWORD)
    reset_link = request_reset_link(member.email)

    CREDENTIAL_CHANGES[credential_change](member)

    assert not is_signed_in(attacker)
    assert (
        not EmailChangeRequest.objects.filter(user=member)
        .exclude(new_email="alice@new.example")
        .exists()
    )
    reply = use_link(Client(), change_link)
    assert reply.status_code == 400
    assert LINK_REFUSED in reply.content.decode()
    page = Client().get(reset_link, follow=True)
    assert "Ask for a new link" in page.content.decode()
    assert User.objects.get(pk=member.pk).email != ATTACKER_EMAIL


@pytest.mark.parametrize(
    "credential_change", ["password reset", "suspension", "admin edits the address"]
)
def test_a_credential_change_voids_a_pending_confirmation_link(roles, credential_change):
    member = UserFactory(username="alice", email="alice@example.com", confirmed=False)
    confirm = f"/accounts/confirm/{tokens.make_confirmation_token(member)}/"

    CREDENTIAL_CHANGES[credential_change](member)

    member.refresh_from_db()
    reply = use_link(Client(), confirm, OWNER_NEW_PASSWORD)
    assert reply.status_code in (200, 400)
    assert "Confirm my address" not in reply.content.decode()


def test_an_email_change_ends_the_other_sessions_and_keeps_this_one(member):
    other = signed_in("alice")
    browser = signed_in("alice")
    link = request_email_change(browser, DEFAULT_PASSWORD, "alice@new.example")
    assert browser.post(link, {"password": DEFAULT_PASSWORD}).status_code == 302
    assert User.objects.get(pk=member.pk).email == "alice@new.example"
    assert not is_signed_in(other)


# --- Finding 2: a squatted OFFBRAND_ADMIN address -------------------------------

ADMIN_EMAIL = "root@offbrand.example"
SQUATTER_PASSWORD = "the squatter chose this 4821"


def register(email, username, password=SQUATTER_PASSWORD) -> Client:
    browser = Client()
    reply = browser.post(
        "/accounts/register/",
        {"email": email, "username": username, "password1": password, "password2": password},
    )
    assert reply.status_code == 302
    return browser


def reaches_admin(browser) -> bool:
    return browser.get("/admin/").status_code == 200


@pytest.fixture
def admin_address(settings, roles):
    settings.OFFBRAND_ADMIN = ADMIN_EMAIL
    return ADMIN_EMAIL


def test_a_squatted_admin_address_gives_the_squatter_nothing_when_the_owner_confirms(
    admin_address,
):
    squatter = register(admin_address, "root")  # first, with a password they chose
    welcome = last_link_to(admin_address, "/accounts/confirm/")  # lands in the real owner's mailbox

    owner = Client()
    assert "Password of the account" in owner.get(welcome).content.decode()
    owner.post(welcome)  # the owner presses "Confirm" without knowing the password
    owner.post(welcome, {"password": "a guess"})

    account = User.objects.get(email=admin_address)
    assert not account.confirmed and not account.is_administrator()
    assert not reaches_admin(squatter)

    # The owner takes the account through the mailbox instead.
    reset_password(admin_address)

    account.refresh_from_db()
    assert account.confirmed and account.is_administrator()
    assert not is_signed_in(squatter) and not reaches_admin(squatter)
    refused = Client().post("/accounts/login/", {"username": "root", "password": SQUATTER_PASSWORD})
    assert refused.status_code == 200
    assert reaches_admin(signed_in("root", OWNER_NEW_PASSWORD))


@pytest.mark.parametrize("where", ["anonymous", "squatter's session"])
def test_squatters_kept_email_change_link_fails_after_the_owner_resets_and_confirms(
    admin_address, where
):
    squatter = register(admin_address, "root")
    welcome = last_link_to(admin_address, "/accounts/confirm/")
    kept = request_email_change(squatter, SQUATTER_PASSWORD, ATTACKER_EMAIL)

    reset_password(admin_address)  # the owner resets, which confirms the address
    assert Client().post(welcome).status_code == 400  # issued before: void

    browser = Client() if where == "anonymous" else squatter
    reply = use_link(browser, kept, SQUATTER_PASSWORD)
    assert reply.status_code == 400
    account = User.objects.get(username="root")
    assert account.email == admin_address and account.is_administrator()
    Client().post("/accounts/password/reset/", {"email": ATTACKER_EMAIL})
    assert all(message.to != [ATTACKER_EMAIL] for message in mail.outbox[-1:])


def test_the_admin_mailbox_cannot_be_tricked_into_joining_someone_elses_account(
    admin_address,
):
    """Trojan identifier: Mallory asks to move her own account to the admin address."""
    mallory = UserFactory(username="mallory", email=ATTACKER_EMAIL)
    link = request_email_change(signed_in("mallory"), DEFAULT_PASSWORD, admin_address)

    owner = Client()  # the address's owner follows the link, knowing no password
    owner.post(link)
    owner.post(link, {"password": "a guess"})

    mallory.refresh_from_db()
    assert mallory.email == ATTACKER_EMAIL and not mallory.is_administrator()


def test_the_registrant_who_holds_the_mailbox_becomes_administrator_other_sessions_end(
    admin_address,
):
    registrant = register(admin_address, "root", OWNER_NEW_PASSWORD)
    elsewhere = signed_in("root", OWNER_NEW_PASSWORD)
    reply = registrant.post(last_link_to(admin_address, "/accounts/confirm/"))
    assert reply.status_code == 302, reply.content.decode()
    assert User.objects.get(username="root").is_administrator()
    assert reaches_admin(registrant)
    assert not is_signed_in(elsewhere)


def test_an_address_registered_by_someone_else_is_recovered_by_a_reset(roles):
    """Classic pre-hijack: Mallory registers Alice's address first and stays signed in."""
    squatter = register("alice@example.com", "alice")
    owner_signup = Client().post(
        "/accounts/register/",
        {
            "email": "alice@example.com",
            "username": "alice2",
            "password1": OWNER_NEW_PASSWORD,
            "password2": OWNER_NEW_PASSWORD,
        },
    )
    assert owner_signup.status_code == 302
    assert "If you did not make that account" in mail.outbox[-1].body
    reset_password("alice@example.com")
    account = User.objects.get(email="alice@example.com")
    assert account.confirmed and account.check_password(OWNER_NEW_PASSWORD)
    assert not is_signed_in(squatter)


def test_a_squatter_signing_in_again_does_not_void_the_owners_reset_link(roles):
    """Found attacking the running site: reset links were bound to the last sign-in,
    so a squatter who kept signing in voided every link the mailbox owner asked for."""
    register("alice@example.com", "alice")
    link = request_reset_link("alice@example.com")
    signed_in("alice", SQUATTER_PASSWORD)  # before the owner opens the link
    browser = Client()
    opened = browser.get(link, follow=True)
    set_url = opened.redirect_chain[-1][0]
    signed_in("alice", SQUATTER_PASSWORD)  # and again while the form is open
    done = browser.post(
        set_url, {"new_password1": OWNER_NEW_PASSWORD, "new_password2": OWNER_NEW_PASSWORD}
    )
    assert done["Location"] == "/accounts/password/reset/complete/"
    account = User.objects.get(email="alice@example.com")
    assert account.confirmed and account.check_password(OWNER_NEW_PASSWORD)


@pytest.mark.parametrize(
    "path",
    [
        "/accounts/security/passkeys/add/",
        "/accounts/security/totp/",
        "/accounts/security/recovery-codes/",
    ],
)
def test_a_squatter_cannot_plant_a_second_factor_on_an_unconfirmed_account(roles, path):
    """Trojan identifier: a passkey planted before the owner resets would outlive the reset."""
    squatter = register("alice@example.com", "alice")
    for reply in (squatter.get(path), squatter.post(path, {"code": "123456"})):
        assert reply.status_code == 302
        assert reply["Location"] == "/accounts/unconfirmed/"
    owner = {"user__email": "alice@example.com"}
    assert not Passkey.objects.filter(**owner).exists()
    assert not TotpDevice.objects.filter(**owner).exists()
    assert not RecoveryCode.objects.filter(**owner).exists()
