"""Changing and resetting a password."""

from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client

from tests.conftest import links_in, path_of

CHANGE = "/accounts/password/change/"
RESET = "/accounts/password/reset/"
NEW = "a brand new passphrase 7"


def change(client, old):
    return client.post(CHANGE, {"old_password": old, "new_password1": NEW, "new_password2": NEW})


def test_change_keeps_this_session_ends_others_and_notifies(client, member, password):
    other = Client()
    other.post("/accounts/login/", {"username": "alice", "password": password})
    client.post("/accounts/login/", {"username": "alice", "password": password})
    mail.outbox.clear()  # the two new-device notices
    response = change(client, password)
    assert response.status_code == 302
    assert client.get("/").context["user"] == member
    assert not other.get("/").context["user"].is_authenticated
    member.refresh_from_db()
    assert member.check_password(NEW)
    assert [m.subject for m in mail.outbox] == ["[Offbrand] Your password was changed"]


def test_change_with_a_wrong_old_password_is_refused(member_client, member, password):
    response = change(member_client, "wrong old password")
    assert response.status_code == 200
    assert (
        "That isn&#x27;t your current password. Check it and try again."
        in response.content.decode()
    )
    member.refresh_from_db()
    assert member.check_password(password)


def test_change_requires_sign_in(client, db):
    response = client.get(CHANGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def reset_link(client, email):
    client.post(RESET, {"email": email})
    return path_of(links_in(mail.outbox[-1])[0])


def test_reset_by_email_link_sets_a_new_password(client, member, password):
    response = client.post(RESET, {"email": "ALICE@example.com"})
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox[0].to == ["alice@example.com"]
    link = path_of(links_in(mail.outbox[0])[0])
    form_page = client.get(link, follow=True)
    assert "Set a new password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": NEW, "new_password2": NEW})
    assert done["Location"] == "/accounts/password/reset/complete/"
    fresh = Client()
    assert (
        fresh.post("/accounts/login/", {"username": "alice", "password": password}).status_code
        == 200
    )
    assert fresh.post("/accounts/login/", {"username": "alice", "password": NEW}).status_code == 302


def test_reset_link_is_single_use(client, member):
    link = reset_link(client, member.email)
    set_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(set_url, {"new_password1": NEW, "new_password2": NEW})
    again = client.get(link, follow=True)
    assert (
        "This link doesn&#x27;t work" in again.content.decode()
        or "This link doesn't work" in again.content.decode()
    )


def test_reset_for_an_unknown_address_answers_the_same_and_sends_nothing(client, member):
    known = client.post(RESET, {"email": member.email})
    unknown = client.post(RESET, {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(mail.outbox) == 1


def test_password_change_voids_outstanding_reset_links(client, member, password):
    link = reset_link(Client(), member.email)
    client.force_login(member)
    change(client, password)
    visitor = Client()
    page = visitor.get(link, follow=True)
    assert "Ask for a new link" in page.content.decode()
    # Posting a new password through the old link changes nothing, signs nobody in.
    visitor.post(
        page.request["PATH_INFO"],
        {"new_password1": "attacker's choice 42", "new_password2": "attacker's choice 42"},
    )
    member.refresh_from_db()
    assert member.check_password(NEW)
    assert SESSION_KEY not in visitor.session


def test_emailed_links_use_site_url_never_the_request_host(client, member, settings):
    settings.SITE_URL = "https://offbrand.example.com"
    client.post("/accounts/password/reset/", {"email": member.email}, HTTP_HOST="127.0.0.1:8123")
    [message] = mail.outbox
    links = links_in(message)
    assert links and all(link.startswith("https://offbrand.example.com/") for link in links)
    assert "8123" not in message.body and "8123" not in message.alternatives[0].content


def test_reset_does_the_same_work_for_any_address_and_mails_after_the_answer(
    rf, member, django_assert_num_queries
):
    """Lookup and mail after the response: a known and an unknown address cost alike."""
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.middleware import AfterResponseMiddleware
    from accounts.models import AnonymousVisitor
    from accounts.views import PasswordResetView

    def reset(email):
        request = rf.post(RESET, {"email": email})
        request._dont_enforce_csrf_checks = True
        request.session = SessionStore()
        request.user = AnonymousVisitor()
        mail.outbox.clear()
        with django_assert_num_queries(0):
            response = AfterResponseMiddleware(PasswordResetView.as_view())(request)
        sent_in_request = len(mail.outbox)
        response.close()  # the server sends the body, then closes the response
        return response, sent_in_request

    known, known_sent = reset(member.email)
    assert [m.to for m in mail.outbox] == [[member.email]]  # once answered
    unknown, unknown_sent = reset("nobody@example.com")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert known_sent == unknown_sent == 0  # nothing sent inside either request
    assert mail.outbox == []  # and nothing after it for an unknown address


def test_a_script_name_sent_by_the_client_never_reaches_the_links():
    """gunicorn takes a `SCRIPT_NAME` header from a trusted proxy's address, and some
    proxies pass one on from the client; Django's handler then prefixes every URL it
    builds with it, so a stranger's reset for someone else mailed that someone a link
    with the stranger's text in its path. The site is served at its root."""
    from django.core.handlers.wsgi import get_script_name

    environ = {"SCRIPT_NAME": "/Call-our-support-line-555-0100", "PATH_INFO": "/accounts/"}
    assert get_script_name(environ) == ""


def test_a_hash_s_upgrade_is_decided_as_django_decides_it():
    """`OffbrandArgon2PasswordHasher.must_update` answers by the hash's shape
    (parameters, salt and hash lengths), the same as Django's decoding."""
    from django.contrib.auth.hashers import Argon2PasswordHasher

    from accounts.hashers import OffbrandArgon2PasswordHasher

    ours = OffbrandArgon2PasswordHasher()
    current = ours.encode("a password", ours.salt())
    older = Argon2PasswordHasher().encode("a password", ours.salt())  # Django's parameters
    short_salt = ours.encode("a password", "abcdefgh")  # too little entropy
    for encoded in [current, older, short_salt, current, older, short_salt]:
        assert ours.must_update(encoded) == Argon2PasswordHasher.must_update(ours, encoded)
    assert (ours.must_update(current), ours.must_update(older)) == (False, True)
    assert ours.must_update(short_salt)
