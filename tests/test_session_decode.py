"""A session's signed text is verified and parsed once per process
(`offbrand.sessions.SessionStore.decode`), and the session's bond to the member's
password, address and confirmation once per exact state
(`accounts.models.session_auth_hash`): anything altered is new text, checked
again, and a forged or outdated one is refused on the very next request."""

from django.contrib.sessions.models import Session
from django.core import signing
from django.test import Client, override_settings

from accounts.models import User
from accounts.sessions import SessionStore


def signed_in(username: str, password: str) -> Client:
    browser = Client()
    reply = browser.post("/accounts/login/", {"username": username, "password": password})
    assert reply.status_code == 302
    assert browser.get("/accounts/profile/").wsgi_request.user.is_authenticated
    return browser


def test_a_row_altered_after_it_was_read_is_refused(member, moderator, password):
    browser = signed_in("alice", password)
    key = browser.cookies["sessionid"].value
    assert browser.get("/accounts/profile/").wsgi_request.user == member  # remembered now
    text = Session.objects.get(session_key=key).session_data
    store = SessionStore(key)
    data = signing.loads(text, salt=store.key_salt, serializer=store.serializer)
    # The moderator's id under the member's signature: a forgery.
    data["_auth_user_id"] = str(moderator.pk)
    forged = signing.dumps(data, salt=store.key_salt, serializer=store.serializer)
    forged = forged.rpartition(":")[0] + ":" + text.rpartition(":")[2]
    Session.objects.filter(session_key=key).update(session_data=forged)
    assert SessionStore(key).load() == {}
    reply = browser.get("/accounts/profile/")
    assert reply.status_code == 302 and not reply.wsgi_request.user.is_authenticated


def test_each_load_gets_its_own_copy(db):
    store = SessionStore()
    store["answer"] = 42
    store.save()
    first = SessionStore(store.session_key).load()
    first["answer"] = 7
    assert SessionStore(store.session_key).load() == {"answer": 42}


def test_text_verified_under_one_secret_is_refused_under_another(db):
    store = SessionStore()
    store["answer"] = 42
    store.save()
    assert SessionStore(store.session_key).load() == {"answer": 42}
    with override_settings(SECRET_KEY="another secret entirely, long enough to be used 0123"):
        assert SessionStore(store.session_key).load() == {}


def test_a_changed_address_signs_the_other_browsers_out(member, password):
    browser = signed_in("alice", password)
    assert browser.get("/accounts/profile/").wsgi_request.user.is_authenticated
    User.objects.filter(pk=member.pk).update(email="elsewhere@example.com")
    reply = browser.get("/accounts/profile/")
    assert reply.status_code == 302 and not reply.wsgi_request.user.is_authenticated


def test_a_password_changed_back_and_forth_signs_out_each_time(member, password):
    browser = signed_in("alice", password)
    original = User.objects.get(pk=member.pk).password
    member.set_password("another long passphrase 93")
    User.objects.filter(pk=member.pk).update(password=member.password)
    assert not browser.get("/accounts/profile/").wsgi_request.user.is_authenticated
    User.objects.filter(pk=member.pk).update(password=original)
    # The session was ended: the old password's remembered bond signs nobody back in.
    assert not browser.get("/accounts/profile/").wsgi_request.user.is_authenticated
