"""Other spellings of one mailbox (the attack report's F1, F1b and F2).

`"carol"@example.com`, `carol@ｅxample.com` (fullwidth) and `carol@exa\u200bmple.com`
(a zero-width space) all go out as RCPT TO:<carol@example.com>; `\u212aim@example.com`
(a Kelvin sign) is kim@example.com to PostgreSQL's lower() but can never be mailed.
"""

import re

import pytest
from django.core import mail
from django.core.mail.backends.smtp import EmailBackend
from django.test import Client

from accounts import services
from accounts.models import User, is_site_admin_email
from tests.conftest import links_in, path_of

PASSWORD = "a sturdy passphrase 9"
CEILING = 10  # ratelimits.LIMITS["mail_to_address"]
PLAIN_CHARACTERS = "in plain characters"

# Twelve spellings of carol@example.com that Django's SMTP backend delivers there.
SPELLINGS = [
    '"carol"@example.com',
    "carol@\uff45xample.com",  # fullwidth e
    "carol@ex\uff41mple.com",  # fullwidth a
    "carol@exa\u00admple.com",  # soft hyphen
    "carol@e\u200bxample.com",  # zero-width space
    "carol@ex\u200bample.com",
    "carol@exa\u200bmple.com",
    "carol@exam\u200bple.com",
    "carol@examp\u200ble.com",
    "carol@exampl\u200be.com",
    "carol@example.\u200bcom",
    '"carol"@e\u200b\u200bxample.com',
]


def delivered_to(message) -> list[str]:
    """The envelope recipients, as the SMTP backend would send them (its
    `prep_address` reads nothing of the backend; an undeliverable one is None)."""
    delivered = []
    for address in message.to:
        try:
            delivered.append(EmailBackend.prep_address(None, address))
        except ValueError:
            delivered.append(None)
    return delivered


def mails_reaching(address):
    """Mails delivered to `address`, or to it with a `+tag`."""
    local, _, domain = address.partition("@")
    mailbox = re.compile(rf"{re.escape(local)}(\+[^@]*)?@{re.escape(domain)}")
    return [m for m in mail.outbox if mailbox.fullmatch(delivered_to(m)[0] or "")]


def sign_up(browser, email, username):
    return browser.post(
        "/accounts/register/", {"email": email, "username": username, "password1": PASSWORD}
    )


def test_spellings_of_one_mailbox_are_refused_at_sign_up(roles, clock):
    """One client address, twelve spellings: no account, no mail, a clear message."""
    sign_up(Client(), "carol@example.com", "carol")
    for n, spelling in enumerate(SPELLINGS):
        clock.at(n * 61)  # past the sign-up's per-minute limit
        response = sign_up(Client(), spelling, f"flooder{n}x")
        assert response.status_code == 200, spelling
        assert PLAIN_CHARACTERS in response.content.decode(), spelling
    assert User.objects.count() == 1
    assert len(mails_reaching("carol@example.com")) == 1


def test_spellings_cannot_pass_the_ceiling_by_email_change(roles, clock):
    """The ceiling full through `+tags`, then email changes to other spellings:
    refused on the page, and no more mail reaches the mailbox this hour."""
    browsers = []
    for n in range(12):
        clock.at(n * 61)
        browser = Client()
        assert sign_up(browser, f"erin+{n}@example.com", f"erin{n}x").status_code == 302
        browsers.append(browser)
    assert len(mails_reaching("erin@example.com")) == CEILING
    for n, spelling in enumerate(s.replace("carol", "erin") for s in SPELLINGS[:6]):
        browsers[n].post("/accounts/reauthenticate/", {"password": PASSWORD})
        response = browsers[n].post(
            "/accounts/email/change/", {"new_email": spelling, "password": PASSWORD}
        )
        assert response.status_code == 200, spelling
        assert PLAIN_CHARACTERS in response.content.decode(), spelling
    assert len(mails_reaching("erin@example.com")) == CEILING


def test_the_ceiling_counts_the_delivered_mailbox(roles, clock):
    """Whatever reaches `send_email` (an address stored before this check), the
    ceiling counts the mailbox it is delivered to."""
    from accounts.emails import mailbox_key

    for spelling in SPELLINGS:
        assert mailbox_key(spelling) == "carol@example.com", spelling
    assert mailbox_key("Carol+x@\uff45xample.com") == "carol@example.com"


@pytest.mark.parametrize("squat", ["\u212aim@example.com", "K\u0131m@example.com"])
def test_a_kelvin_sign_cannot_squat_an_address(roles, squat):
    """F2: the look-alike is refused, so Kim registers, confirms and resets."""
    response = sign_up(Client(), squat, "squatter")
    assert response.status_code == 200
    assert PLAIN_CHARACTERS in response.content.decode()
    assert not User.objects.exists()

    kim = Client()
    assert sign_up(kim, "kim@example.com", "kim").status_code == 302
    (link,) = links_in(mails_reaching("kim@example.com")[0])
    assert kim.post(path_of(link)).status_code == 302
    assert User.objects.get(username="kim").confirmed

    mail.outbox.clear()
    Client().post("/accounts/password/reset/", {"email": "kim@example.com"})
    assert len(mails_reaching("kim@example.com")) == 1


def test_a_reset_is_never_mailed_to_a_stored_look_alike(roles, monkeypatch):
    """An account stored before the check with a Kelvin-sign address is not
    "kim@example.com" (on PostgreSQL, lower() says it is): the reset form does
    not pick it for her address, nor mail a link that can never arrive."""
    from accounts import forms

    User.objects.create_user("squatter", "\u212aim@example.com", PASSWORD)
    sent = []
    monkeypatch.setattr(forms, "send_email", lambda name, *, to, **kwargs: sent.append(to))
    Client().post("/accounts/password/reset/", {"email": "kim@example.com"})
    Client().post("/accounts/password/reset/", {"email": "\u212aim@example.com"})
    assert sent == []


def test_a_taken_notice_is_never_mailed_to_a_stored_look_alike(member, password, monkeypatch):
    """Kim signs up beside such a row, or a member moves to her address: no
    "someone tried" notice goes to the look-alike (PostgreSQL's lower() took it
    for hers), only mail for kim@example.com itself."""
    from accounts import emails

    User.objects.create_user("squatter", "\u212aim@example.com", PASSWORD)
    sent = []

    def send_email(name, *, to, **kwargs):
        sent.append(to)
        return emails.send_email(name, to=to, **kwargs)

    monkeypatch.setattr(services, "send_email", send_email)
    sign_up(Client(), "kim@example.com", "kim")
    browser = Client()
    browser.force_login(member)
    browser.post("/accounts/email/change/", {"new_email": "kim@example.com", "password": password})
    assert sent and all(to == "kim@example.com" for to in sent)


def test_a_ligature_is_not_the_admin_address(roles, settings):
    """F1b: `you@oﬀbrand.co` (U+FB00) is not OFFBRAND_ADMIN you@offbrand.co."""
    settings.OFFBRAND_ADMIN = "you@offbrand.co"
    assert is_site_admin_email("You@OFFBRAND.co")
    assert not is_site_admin_email("you@o\ufb00brand.co")
    assert not is_site_admin_email("bo\u017fs@offbrand.co".replace("bo\u017fs", "yo\u017f"))
    response = sign_up(Client(), "you@o\ufb00brand.co", "notyou")
    assert PLAIN_CHARACTERS in response.content.decode()
    assert not User.objects.exists()


def test_a_long_s_is_not_the_admin_address(roles, settings):
    settings.OFFBRAND_ADMIN = "boss@example.com"
    assert not is_site_admin_email("bo\u017fs@example.com")


def test_an_international_domain_still_registers(roles):
    """münchen.de is a real domain: typed plainly, it registers and is mailed."""
    browser = Client()
    assert sign_up(browser, "hans@münchen.de", "hans").status_code == 302
    assert User.objects.get(username="hans").email == "hans@münchen.de"
    assert len(mails_reaching("hans@xn--mnchen-3ya.de")) == 1
    # Its other plain spelling, the ASCII one, is the same mailbox: taken.
    assert sign_up(Client(), "hans@xn--mnchen-3ya.de", "hans2").status_code == 302
    assert User.objects.count() == 1


def test_an_administrator_cannot_give_a_member_a_look_alike_address(client, administrator, member):
    client.force_login(administrator)
    response = client.post(
        f"/users/{member.username}/edit/",
        {
            "username": "alice",
            "email": "alice@\uff45xample.com",
            "role": member.role_id,
            "confirmed": "on",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert PLAIN_CHARACTERS in response.content.decode()
    member.refresh_from_db()
    assert member.email == "alice@example.com"


def test_the_admin_cannot_add_a_member_with_a_look_alike_address(client, administrator):
    client.force_login(administrator)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "kim",
            "email": "\u212aim@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
        },
    )
    assert response.status_code == 200
    assert PLAIN_CHARACTERS in response.content.decode()
    assert not User.objects.filter(username="kim").exists()


def test_a_database_check_lists_stored_look_alikes(roles):
    """Rows stored before the forms refused them are not rewritten (the owner
    never confirmed them); `manage.py check --database default` names them."""
    from io import StringIO

    from django.core.management import call_command

    User.objects.create_user("squatter", "\u212aim@example.com", PASSWORD)
    User.objects.create_user("quoted", '"carol"@example.com', PASSWORD)
    User.objects.create_user("carol", "carol@example.com", PASSWORD)
    out = StringIO()
    call_command("check", databases=["default"], stderr=out, stdout=out)
    assert (
        "2 member(s) hold an address that is not typed in plain characters at a valid domain"
        in out.getvalue()
    )
    assert "quoted, squatter." in out.getvalue()
