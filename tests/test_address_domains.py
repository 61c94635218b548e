"""An account's address is at a domain name that is valid IDNA (attack report F9):
not a domain literal (`x@[127.0.0.1]`: mail to a host of the sender's choosing)
or localhost (Django's validator allows both),
not punycode that decodes to what IDNA forbids (`xn--zz-zzz.com` was stored as
`z⦌z.com`). Every form that takes an address refuses them with a clear message;
the reset form answers as for an unknown address."""

import pytest
from django.core import mail
from django.test import Client

from accounts.addresses import plain_address
from accounts.models import User

PASSWORD = "a sturdy passphrase 9"
LITERAL = "at a domain name"
BAD_DOMAIN = "not a domain name mail can reach"

REFUSED = [
    ("x@[127.0.0.1]", LITERAL),
    ("x@[::1]", LITERAL),
    ("root@localhost", LITERAL),
    ("x@xn--zz-zzz.com", BAD_DOMAIN),
    ("x@ab--cd.com", BAD_DOMAIN),
    ("x@z\u298cz.com", BAD_DOMAIN),
]


def sign_up(email, username="newcomer"):
    return Client().post(
        "/accounts/register/", {"email": email, "username": username, "password1": PASSWORD}
    )


@pytest.mark.parametrize(("address", "says"), REFUSED)
def test_sign_up_refuses_an_address_no_domain_name_holds(roles, address, says):
    response = sign_up(address)
    assert response.status_code == 200
    assert says in response.content.decode()
    assert not User.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize(("address", "says"), REFUSED)
def test_email_change_refuses_it(member, password, address, says):
    browser = Client()
    browser.force_login(member)
    response = browser.post("/accounts/email/change/", {"new_email": address, "password": password})
    assert response.status_code == 200
    assert says in response.content.decode()
    assert mail.outbox == []


def test_the_member_editor_and_the_admins_add_form_refuse_it(client, administrator, member):
    client.force_login(administrator)
    edited = client.post(
        f"/users/{member.username}/edit/",
        {
            "username": "alice",
            "email": "alice@[10.0.0.1]",
            "role": member.role_id,
            "confirmed": "on",
            "is_active": "on",
        },
    )
    assert edited.status_code == 200
    assert LITERAL in edited.content.decode()
    member.refresh_from_db()
    assert member.email == "alice@example.com"
    added = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "kim",
            "email": "kim@xn--zz-zzz.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
        },
    )
    assert added.status_code == 200
    assert BAD_DOMAIN in added.content.decode()
    assert not User.objects.filter(username="kim").exists()


def test_a_reset_for_such_an_address_answers_as_for_an_unknown_one(roles):
    """A row stored before the check: no link is mailed to the literal, and the
    page is the one an unknown address gets."""
    User.objects.create_user("relay", "x@[127.0.0.1]", PASSWORD)
    unknown = Client().post("/accounts/password/reset/", {"email": "nobody@example.com"})
    literal = Client().post("/accounts/password/reset/", {"email": "x@[127.0.0.1]"})
    assert (literal.status_code, literal["Location"]) == (unknown.status_code, unknown["Location"])
    assert mail.outbox == []


def test_international_domains_still_register(roles):
    assert sign_up("hans@münchen.de", "hans").status_code == 302
    assert sign_up("jo@xn--bcher-kva.de", "jo").status_code == 302
    assert sorted(User.objects.values_list("email", flat=True)) == [
        "hans@münchen.de",
        "jo@bücher.de",
    ]


def test_plain_address_keeps_none_of_them():
    assert [plain_address(address) for address, _ in REFUSED] == [None] * len(REFUSED)
    assert plain_address("Hans@MÜNCHEN.de") == "Hans@münchen.de"


# Names that reach the relay's own machine or network, never a public mailbox
# (attack report R2): every name under localhost is a loopback name (RFC 6761
# §6.3), localhost.localdomain is the usual /etc/hosts alias, .local is mDNS
# (RFC 6762), .home.arpa a home network (RFC 8375), .internal a private network.
LOCAL = [
    "x@evil.localhost",
    "x@localhost.localhost",
    "x@LocalHost.localdomain",
    "x@foo.local",
    "x@db.Internal",
    "x@nas.home.arpa",
]


@pytest.mark.parametrize("address", LOCAL)
def test_sign_up_refuses_an_address_at_a_local_name(roles, address):
    response = sign_up(address)
    assert response.status_code == 200
    assert LITERAL in response.content.decode()
    assert not User.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("address", LOCAL)
def test_email_change_refuses_a_local_name(member, password, address):
    browser = Client()
    browser.force_login(member)
    response = browser.post("/accounts/email/change/", {"new_email": address, "password": password})
    assert response.status_code == 200
    assert LITERAL in response.content.decode()
    member.refresh_from_db()
    assert member.email == "alice@example.com"
    assert mail.outbox == []


def test_a_reset_for_a_local_name_answers_as_for_an_unknown_one(roles):
    User.objects.create_user("loop", "x@evil.localhost", PASSWORD)
    unknown = Client().post("/accounts/password/reset/", {"email": "nobody@example.com"})
    local = Client().post("/accounts/password/reset/", {"email": "x@evil.localhost"})
    assert (local.status_code, local["Location"]) == (unknown.status_code, unknown["Location"])
    assert mail.outbox == []


def test_plain_address_keeps_no_local_name_nor_one_of_one_label():
    """Case and the trailing dot of a fully qualified name aside; and a name of
    one label (`x@intranet`), which the relay's resolver completes locally. An
    ideographic full stop is a dot to IDNA (`evil。localhost` is mailed to
    evil.localhost): not a plain spelling."""
    odd = ["x@evil.localhost.", "x@Printer.LOCAL.", "x@intranet", "x@intranet.", "x@"]
    odd += ["x@evil\u3002localhost", "x@evil\uff61com"]
    assert [plain_address(address) for address in LOCAL + odd] == [None] * len(LOCAL + odd)


def test_public_and_reserved_test_names_still_register(roles):
    """Only names that reach the relay's own network are refused: localhost.com,
    local.example.org and the reserved test names (RFC 2606: .test, .example,
    .invalid resolve nowhere, so no mail reaches any host) still register."""
    kept = ["a@localhost.com", "b@local.example.org", "c@offbrand.test", "d@new.example"]
    kept += ["e@bench.invalid", "f@mail.internal-tools.com"]
    for number, address in enumerate(kept):
        assert sign_up(address, f"keeper{number}").status_code == 302
    assert sorted(User.objects.values_list("email", flat=True)) == kept
