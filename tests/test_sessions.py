"""Session and token hardening."""

from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.hashers import OffbrandArgon2PasswordHasher

LOGIN = "/accounts/login/"


def test_csrf_token_rotates_at_sign_in(member, password):
    client = Client()
    client.get(LOGIN)
    before = client.cookies[settings.CSRF_COOKIE_NAME].value
    client.post(LOGIN, {"username": "alice", "password": password})
    client.get("/accounts/password/change/")
    assert client.cookies[settings.CSRF_COOKIE_NAME].value != before


def test_signed_in_pages_are_private_and_vary_on_cookie(member_client):
    response = member_client.get("/")
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


def test_anonymous_landing_page_is_not_marked_private(client, db):
    assert "private" not in client.get("/").get("Cache-Control", "")


def test_reset_post_with_a_forged_host_sends_nothing(client, member):
    response = client.post(
        "/accounts/password/reset/", {"email": member.email}, HTTP_HOST="evil.example"
    )
    assert response.status_code == 400
    assert mail.outbox == []


def test_password_reset_voids_other_outstanding_reset_links(client, member):
    client.post("/accounts/password/reset/", {"email": member.email})
    client.post("/accounts/password/reset/", {"email": member.email})
    first, second = (m.body.split("http://testserver")[1].split()[0] for m in mail.outbox)
    set_url = client.get(second, follow=True).redirect_chain[-1][0]
    new = "another fine passphrase"
    client.post(set_url, {"new_password1": new, "new_password2": new})
    page = Client().get(first, follow=True)
    assert "This link doesn" in page.content.decode()


def test_long_unicode_passwords_are_accepted(client, roles):
    long_password = ("pässwörd-ключ-密码-🔑" * 12)[:200]
    response = client.post(
        "/accounts/register/",
        {
            "email": "u@example.com",
            "username": "unicode",
            "password1": long_password,
            "password2": long_password,
        },
    )
    assert response.status_code == 302
    assert (
        Client().post(LOGIN, {"username": "unicode", "password": long_password}).status_code == 302
    )


def test_argon2_parameters_are_the_documented_ones():
    from offbrand import settings as configured  # the suite itself swaps in a fast hasher

    assert configured.PASSWORD_HASHERS[0] == "accounts.hashers.OffbrandArgon2PasswordHasher"
    hasher = OffbrandArgon2PasswordHasher()
    encoded = hasher.encode("secret", hasher.salt())
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_media_is_served_with_nosniff(member_client, member):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import image_bytes

    member_client.post(
        "/accounts/profile/",
        {"avatar_upload": SimpleUploadedFile("a.png", image_bytes()), "about_me": ""},
    )
    member.refresh_from_db()
    response = member_client.get(member.avatar.url)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "image/webp"


def test_logout_sticks_while_the_cache_fails_and_after_it_returns(member, password, monkeypatch):
    """Who: a thief holding a copy of the session cookie. The owner signs out while
    Redis is unreachable; Redis then returns with everything it held."""
    from django.contrib.sessions.backends import cached_db
    from django.core.cache import cache

    browser = Client()
    browser.post(LOGIN, {"username": "alice", "password": password})
    stolen = browser.cookies[settings.SESSION_COOKIE_NAME].value
    held = browser.session.load()
    assert held  # the session that the cache may have held

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    for name in ("get", "set", "add", "delete", "delete_many", "get_many", "touch", "has_key"):
        monkeypatch.setattr(cache, name, down)
    response = browser.post("/accounts/logout/")
    monkeypatch.undo()

    assert response.status_code == 302
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 0
    # The cache returns with the signed-in session it held before the outage.
    cache.set(cached_db.KEY_PREFIX + stolen, held)
    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = stolen
    assert not thief.get("/").context["user"].is_authenticated


def test_a_session_without_remember_me_ends_on_the_server_within_a_day_idle(
    client, member, password
):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    client.post("/accounts/login/", {"username": "alice", "password": password})
    row = Session.objects.get(session_key=client.session.session_key)
    assert row.expire_date <= timezone.now() + timedelta(days=1, minutes=1)
    # A day without activity: the row has expired, the cookie is anonymous.
    Session.objects.filter(pk=row.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    assert "_auth_user_id" not in client.get("/accounts/profile/").wsgi_request.session


def test_activity_keeps_a_browser_session_alive(client, member, password, settings):
    from django.contrib.sessions.models import Session

    settings.OFFBRAND_LAST_SEEN_INTERVAL = 0
    client.post("/accounts/login/", {"username": "alice", "password": password})
    key = client.session.session_key
    before = Session.objects.get(session_key=key).expire_date
    client.get("/")
    assert Session.objects.get(session_key=key).expire_date > before


def test_a_sign_in_gets_a_new_random_session_key_of_django_s_shape(client, member, password):
    from django.contrib.sessions.backends.base import VALID_KEY_CHARS

    from offbrand.sessions import random_key

    keys = set()
    for _ in range(3):
        client.post(LOGIN, {"username": "alice", "password": password})
        key = client.cookies[settings.SESSION_COOKIE_NAME].value
        assert len(key) == 32 and set(key) <= set(VALID_KEY_CHARS)
        keys.add(key)
        client.post("/accounts/logout/")
    assert len(keys) == 3
    # Every one of the 36 characters comes up, none favoured much.
    drawn = "".join(random_key(32) for _ in range(2000))
    counts = [drawn.count(character) for character in VALID_KEY_CHARS]
    assert min(counts) > 0.8 * len(drawn) / 36 and max(counts) < 1.2 * len(drawn) / 36


def test_a_session_saved_compressed_before_stays_signed_in(member_client, member):
    """Sessions are now signed without zlib; rows Django wrote compressed still read."""
    from django.contrib.sessions.backends.base import SessionBase
    from django.contrib.sessions.models import Session

    key = member_client.cookies[settings.SESSION_COOKIE_NAME].value
    store = member_client.session
    data = store.load() | {"padding": "x" * 200}  # long enough for zlib to pay
    compressed = SessionBase.encode(store, data)
    assert compressed.startswith(".")
    Session.objects.filter(session_key=key).update(session_data=compressed)
    response = member_client.get("/accounts/password/change/")
    assert response.status_code == 200
    assert member_client.session["padding"] == "x" * 200


def test_a_sign_in_s_session_row_holds_its_data_and_its_devices_row_its_key(
    client, member, password
):
    """The new session's row goes in the devices row's statement (issue 16):
    both are there, under the cookie's key, with the data the browser's next
    request reads."""
    from django.contrib.sessions.models import Session

    from accounts.flows.usersessions import SEEN_KEY, key_hash
    from accounts.models import UserSession

    client.post(LOGIN, {"username": "alice", "password": password})
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    data = Session.objects.get(session_key=key).get_decoded()
    assert data["_auth_user_id"] == str(member.pk) and SEEN_KEY in data
    assert UserSession.objects.filter(user=member, key_hash=key_hash(key)).exists()
    assert client.get("/accounts/password/change/").status_code == 200


def test_a_session_key_drawn_twice_at_sign_in_draws_another(client, member, password, monkeypatch):
    """A new key already taken fails the statement with both rows: nothing is
    written, another key is drawn, and the devices row follows it."""
    from django.contrib.sessions.models import Session

    from accounts.flows.usersessions import key_hash
    from accounts.models import UserSession
    from offbrand import sessions

    Session.objects.create(
        session_key="taken" * 6 + "aa", session_data="x", expire_date=timezone.now()
    )
    drawn = iter(["taken" * 6 + "aa", "taken" * 6 + "aa"])
    real = sessions.random_key
    monkeypatch.setattr(sessions, "random_key", lambda n: next(drawn, None) or real(n))
    client.post(LOGIN, {"username": "alice", "password": password})
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert key != "taken" * 6 + "aa"
    assert Session.objects.get(session_key=key).get_decoded()["_auth_user_id"] == str(member.pk)
    assert UserSession.objects.filter(user=member, key_hash=key_hash(key)).exists()
    assert not UserSession.objects.filter(key_hash=key_hash("taken" * 6 + "aa")).exists()
    assert client.get("/accounts/password/change/").status_code == 200


def test_a_session_changed_after_its_row_was_written_is_saved_again(db, member):
    """`row_written` spares the response's save only while the data is the same."""
    from django.contrib.sessions.models import Session

    from offbrand import prepared
    from offbrand.sessions import SessionStore

    store = SessionStore()
    store["a"] = 1
    store.create()
    prepared.insert(store.new_row())
    store.row_written()
    store.save()  # nothing changed: no write
    assert Session.objects.get(session_key=store.session_key).get_decoded() == {"a": 1}
    store["b"] = [2]
    store.save()
    assert Session.objects.get(session_key=store.session_key).get_decoded() == {"a": 1, "b": [2]}
    store["b"].append(3)  # changed inside: not plain data, written every time
    store.row_written()
    store.save()
    assert Session.objects.get(session_key=store.session_key).get_decoded()["b"] == [2, 3]


def test_signing_in_again_ends_the_session_a_thief_copied(member, password):
    """Attack report 4, I1. A thief copied alice's session cookie; alice, uneasy, signs in
    again in the same browser. Django's `login()` keeps the key when the session already
    names the same member, so the copy stayed signed in: now every sign-in starts a
    new session, and the old one ends on the server."""
    from django.test import Client

    alice = Client()
    reply = alice.post("/accounts/login/", {"username": "alice", "password": password})
    assert reply.status_code == 302
    thief = Client()
    thief.cookies["sessionid"] = alice.cookies["sessionid"].value
    assert thief.get("/accounts/profile/").status_code == 200  # the copy works, for now

    reply = alice.post("/accounts/login/", {"username": "alice", "password": password})
    assert reply.status_code == 302
    assert alice.cookies["sessionid"].value != thief.cookies["sessionid"].value
    assert alice.get("/accounts/profile/").status_code == 200
    assert thief.get("/accounts/profile/").status_code == 302  # to the sign-in page
    from accounts.models import UserSession

    assert UserSession.objects.filter(user=member).count() == 1  # alice's new browser row
