"""One ceiling on the account mail a stranger can make Offbrand send to one address."""

from django.core import mail
from django.test import Client

from accounts import ratelimits
from tests.conftest import links_in, path_of

VICTIM = "victim@example.com"
PASSWORD = "a sturdy passphrase 9"
CEILING = 10  # ratelimits.LIMITS["mail_to_address"]


def mails_to(address):
    return [m for m in mail.outbox if m.to == [address]]


def re_register(n, victim=VICTIM):
    """One turn: register with the victim's address, move the account to a junk
    address and confirm it there: the victim's address is free again."""
    browser = Client()
    response = browser.post(
        "/accounts/register/",
        {"email": victim, "username": f"flooder{n}x", "password1": PASSWORD},
    )
    assert response.status_code == 302
    junk = f"junk{n}@attacker.example"
    response = browser.post("/accounts/email/change/", {"new_email": junk, "password": PASSWORD})
    assert response.status_code == 302
    (link,) = links_in(mails_to(junk)[0])
    assert browser.post(path_of(link)).status_code == 302


def test_re_registering_an_address_cannot_flood_its_mailbox(roles, clock):
    """The attack report's F1: each turn mailed the victim twice (a confirmation
    link, then "your address was changed"), and each turn is a new account, so
    no per-account or per-kind cap held: about 1,200 mails an hour from one
    client address. Now the victim gets at most the ceiling an hour."""
    for n in range(12):
        clock.at(n * 61)  # past every per-minute limit on the client's address
        re_register(n)
    assert len(mails_to(VICTIM)) == CEILING
    assert ratelimits.LIMITS["mail_to_address"].count == CEILING
    clock.at(3600)  # the next hour: the address hears from Offbrand again
    re_register(12)
    assert len(mails_to(VICTIM)) == CEILING + 2


def test_tagged_addresses_share_their_mailbox_s_ceiling(roles, clock):
    """`victim+1@`, `victim+2@`, ... reach one mailbox: they share its ceiling."""
    for n in range(12):
        clock.at(n * 61)
        re_register(n, victim=f"Victim+{n}@example.com")
    assert len([m for m in mail.outbox if "victim" in m.to[0].casefold()]) == CEILING


def test_every_kind_of_mail_shares_the_ceiling(member, clock):
    """Reset links, sign-up notices and new sign-ins draw on one count per address."""
    for n in range(8):
        clock.at(n * 301)  # past the reset's 5-minute cap
        Client().post("/accounts/password/reset/", {"email": "ALICE@example.com"})
    for n in range(3):
        Client().post(
            "/accounts/register/",
            {"email": "alice@example.com", "username": f"taker{n}x", "password1": PASSWORD},
        )
    assert len(mails_to("alice@example.com")) == CEILING


def test_a_change_to_a_confirmed_account_is_mailed_past_the_ceiling(member, password, clock):
    """A thief who floods the mailbox first must not silence the notice of their change."""
    for n in range(CEILING):
        clock.at(n * 301)
        Client().post("/accounts/password/reset/", {"email": "alice@example.com"})
    assert len(mails_to("alice@example.com")) == CEILING
    browser = Client()
    browser.force_login(member)
    browser.post(
        "/accounts/email/change/", {"new_email": "thief@example.com", "password": password}
    )
    (link,) = links_in(mails_to("thief@example.com")[0])
    browser.post(path_of(link))
    assert "was changed" in mails_to("alice@example.com")[-1].subject
    assert len(mails_to("alice@example.com")) == CEILING + 1


def test_gmail_dots_and_googlemail_share_their_mailbox_s_ceiling(roles, clock):
    """Gmail ignores dots in the name and answers for googlemail.com too:
    `v.i.c.t.i.m@gmail.com`, `Vic.Tim+3@googlemail.com`, ... all reach victim@gmail.com,
    so they share its ceiling. The mail still goes to the address as it was given."""
    variants = [
        "v.i.c.t.i.m@gmail.com",
        "vic.tim@googlemail.com",
        "Vic.Tim+3@GoogleMail.com",
        "victi.m@gmail.com",
        "vi.ctim+x.y@gmail.com",
        "VICTIM@GMAIL.COM",
    ]
    for n in range(12):
        clock.at(n * 61)
        re_register(n, victim=variants[n % len(variants)])
    to_victim = [m for m in mail.outbox if "attacker.example" not in m.to[0]]
    assert len(to_victim) == CEILING
    assert {m.to[0] for m in to_victim} >= {"v.i.c.t.i.m@gmail.com", "vic.tim@googlemail.com"}


def test_dots_are_one_mailbox_at_gmail_only(roles, clock):
    """Elsewhere a dot can make another person's address (first.last@ and firstlast@
    at a company): those keep a ceiling each."""
    for n in range(CEILING):
        clock.at(n * 61)
        re_register(n, victim="first.last@example.com")
    clock.at(CEILING * 61)
    re_register(CEILING, victim="firstlast@example.com")
    assert len(mails_to("firstlast@example.com")) == 2


def test_no_mail_leaves_except_through_the_ceiling():
    """Every account mail is queued by `emails.send_email`, where the ceiling counts: no
    other module of the product sends or queues mail (a new flow that did would flood
    past it). The task queue's own retries resend what was already counted."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    # A Redis connection pool's `pool.get_connection()` (offbrand/cache.py) takes no mail.
    sending = re.compile(
        r"\b(send_mail|send_mass_mail|mail_admins|mail_managers|EmailMessage|"
        r"EmailMultiAlternatives|(?<!pool\.)get_connection)\s*\("
        r"|deliver_email\.(a?enqueue|using|a?call)\b"
    )
    allowed = {Path("accounts/emails.py"), Path("accounts/tasks.py")}
    found = {
        path.relative_to(root)
        for app in ("accounts", "social", "offbrand")
        for path in (root / app).rglob("*.py")
        if "migrations" not in path.parts
        for line in path.read_text().splitlines()
        if sending.search(line) and not line.lstrip().startswith(("#", "def "))
    }
    assert found <= allowed, found - allowed


def test_a_thief_cannot_silence_the_new_sign_in_notice_by_filling_the_ceiling(
    member, password, clock, caplog
):
    """The attack report's F6: with alice's password, a thief first filled her
    mailbox's hour with anonymous reset requests, then signed in from a new
    browser: the "New sign-in" notice was dropped, and nothing was logged. A
    confirmed address hears of a new sign-in like of a change, past the ceiling."""
    for n in range(CEILING):
        clock.at(n * 301)  # past the reset's 5-minute cap
        Client(REMOTE_ADDR=f"198.51.100.{n + 1}").post(
            "/accounts/password/reset/", {"email": "alice@example.com"}
        )
    assert len(mails_to("alice@example.com")) == CEILING
    thief = Client(
        HTTP_USER_AGENT="Mozilla/5.0 (Windows NT 10.0) Chrome/131.0", REMOTE_ADDR="10.41.2.7"
    )
    response = thief.post("/accounts/login/", {"username": "alice", "password": password})
    assert response.status_code == 302
    assert mails_to("alice@example.com")[-1].subject == "[Offbrand] New sign-in to your account"
    assert len(mails_to("alice@example.com")) == CEILING + 1


def test_a_dropped_notice_is_logged(member, password, clock, caplog):
    """Past the kind's own cap a new sign-in is not mailed: the log says so."""
    for n in range(4):
        Client(REMOTE_ADDR=f"198.51.100.{n + 1}").post(
            "/accounts/login/", {"username": "alice", "password": password}
        )
    assert len(mails_to("alice@example.com")) == 3
    dropped = [r for r in caplog.records if "Not sending" in r.getMessage()]
    assert len(dropped) == 1 and dropped[0].levelname == "WARNING"
    assert "new_device" in dropped[0].getMessage()


def test_a_new_sign_in_to_an_unconfirmed_address_stays_under_the_ceiling(
    member, password, clock, caplog
):
    """Whoever registered an address they do not hold causes its sign-ins: those
    notices share the ceiling, and one dropped by it is logged."""
    member.confirmed = False
    member.save(update_fields=["confirmed"])
    for n in range(CEILING):
        clock.at(n * 301)
        Client(REMOTE_ADDR=f"198.51.100.{n + 1}").post(
            "/accounts/password/reset/", {"email": "alice@example.com"}
        )
    Client(REMOTE_ADDR="10.41.2.7").post(
        "/accounts/login/", {"username": "alice", "password": password}
    )
    assert len(mails_to("alice@example.com")) == CEILING
    assert any(
        "Not sending the security_notice" in r.getMessage() and r.levelname == "WARNING"
        for r in caplog.records
    )
