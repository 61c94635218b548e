"""Signed-in devices: the list, ending one or all others, on both session stores.

With REDIS_URL set, the cached store runs against Redis.
"""

import time
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.cache import caches
from django.test import Client

from accounts import services
from accounts.flows import usersessions
from accounts.models import ModerationAction, UserSession
from tests.conftest import links_in, path_of
from tests.factories import UserFactory
from tests.test_security_notices import CHROME_ANDROID, FIREFOX_WINDOWS

SESSIONS = "/accounts/sessions/"

pytestmark = pytest.mark.parametrize(
    "session_engine",
    [
        "accounts.sessions",
        "offbrand.sessions",
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    ],
)


@pytest.fixture(autouse=True)
def use_engine(settings, session_engine):
    settings.SESSION_ENGINE = session_engine


def signed_in(password, user_agent=FIREFOX_WINDOWS, ip="203.0.113.45", username="alice"):
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302
    return client


def session_key(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def in_store(key: str) -> bool:
    """Is the session anywhere the store keeps it (its table row, its cache key)?"""
    in_cache = False
    if settings.SESSION_ENGINE.endswith("cached_db"):
        in_cache = caches[settings.SESSION_CACHE_ALIAS].get(KEY_PREFIX + key) is not None
    return in_cache or Session.objects.filter(session_key=key).exists()


def is_signed_in(client) -> bool:
    return client.get("/").context["user"].is_authenticated


def test_the_list_shows_each_device_and_marks_this_one(member, password):
    signed_in(password, CHROME_ANDROID, "198.51.100.23")
    mine = signed_in(password)
    page = mine.get(SESSIONS)
    html = page.content.decode()
    assert page.status_code == 200
    assert [(s.device, s.network, s.is_current) for s in page.context["sessions"]] == [
        ("Firefox on Windows", "203.0.113.0/24", True),
        ("Chrome on Android", "198.51.100.0/24", False),
    ]
    assert "This device" in html
    assert "Sign out all other devices" in html
    assert '<a href="/accounts/sessions/" aria-current="page">Devices</a>' in html  # in settings


def test_a_stolen_session_signed_out_from_the_list_stops_working(member, password):
    thief = signed_in(password, CHROME_ANDROID, "198.51.100.23")
    stolen_key = session_key(thief)
    owner = signed_in(password)
    theirs = UserSession.objects.get(key_hash=usersessions.key_hash(stolen_key))

    response = owner.post(f"/accounts/sessions/{theirs.pk}/end/")
    assert response.status_code == 302
    assert not in_store(stolen_key)
    assert not is_signed_in(thief)
    assert thief.get("/accounts/profile/").status_code == 302
    assert is_signed_in(owner)
    assert [s.is_current for s in owner.get(SESSIONS).context["sessions"]] == [True]


def test_sign_out_all_other_devices(member, password):
    others = [signed_in(password, CHROME_ANDROID, f"198.51.100.{n}") for n in (1, 2)]
    keys = [session_key(c) for c in others]
    owner = signed_in(password)
    owner.post("/accounts/sessions/end-others/")
    assert not any(in_store(key) for key in keys)
    assert not any(is_signed_in(c) for c in others)
    assert is_signed_in(owner)
    assert UserSession.objects.filter(user=member).count() == 1


def test_a_member_cannot_end_someone_elses_session(member, password, roles):
    UserFactory(username="bob", email="bob@example.com")
    bob = signed_in(password, username="bob")
    bobs = UserSession.objects.get(user__username="bob")
    alice = signed_in(password)
    alice.post(f"/accounts/sessions/{bobs.pk}/end/")
    assert is_signed_in(bob)
    assert in_store(session_key(bob))


def test_signing_out_removes_the_row(member, password):
    client = signed_in(password)
    assert UserSession.objects.filter(user=member).count() == 1
    client.post("/accounts/logout/")
    assert not UserSession.objects.exists()


def test_a_password_change_ends_the_other_sessions_and_keeps_this_row(member, password):
    other = signed_in(password, CHROME_ANDROID, "198.51.100.23")
    other_key = session_key(other)
    client = signed_in(password)
    new = "another good passphrase"
    client.post(
        "/accounts/password/change/",
        {"old_password": password, "new_password1": new, "new_password2": new},
    )
    assert not in_store(other_key)
    sessions = client.get(SESSIONS).context["sessions"]
    assert [(s.device, s.is_current) for s in sessions] == [("Firefox on Windows", True)]
    assert sessions[0].key_hash == usersessions.key_hash(session_key(client))


def test_the_session_key_is_not_stored_in_the_clear(member, password):
    key = session_key(signed_in(password))
    row = UserSession.objects.values().get()
    assert key not in str(row)
    assert usersessions.unseal_key(row["sealed_key"]) == key


def test_activity_is_written_at_most_once_per_interval(member, password, settings):
    settings.OFFBRAND_LAST_SEEN_INTERVAL = 60
    client = signed_in(password)
    long_ago = UserSession.objects.get().last_activity.replace(year=2020)
    UserSession.objects.update(last_activity=long_ago)
    client.get("/")
    assert UserSession.objects.get().last_activity == long_ago  # within the interval

    session = client.session
    session[usersessions.SEEN_KEY] = int(time.time()) - 61
    session.save()
    client.get("/")
    assert UserSession.objects.get().last_activity > long_ago


def test_a_session_without_a_row_gets_one_on_its_next_request(member, member_client):
    session = member_client.session
    session.pop(usersessions.SEEN_KEY, None)
    session.save()
    member_client.get("/")
    assert UserSession.objects.filter(user=member).count() == 1


def test_rows_of_sessions_gone_from_the_store_are_dropped(member, password):
    gone = signed_in(password, CHROME_ANDROID, "198.51.100.23")
    import_module(settings.SESSION_ENGINE).SessionStore(session_key(gone)).delete()
    owner = signed_in(password)
    assert len(owner.get(SESSIONS).context["sessions"]) == 1
    assert UserSession.objects.count() == 1


def test_the_list_page_has_a_query_budget(member, password, django_assert_max_num_queries):
    for n in range(5):
        signed_in(password, CHROME_ANDROID, f"198.51.100.{n}")
    owner = signed_in(password)
    owner.get("/")
    with django_assert_max_num_queries(15):
        assert len(owner.get(SESSIONS).context["sessions"]) == 6


def test_sessions_voided_by_a_credential_change_leave_the_list(member, password):
    """A password reset (or an admin's edit) voids sessions by their auth hash."""
    other = signed_in(password, CHROME_ANDROID, "198.51.100.23")
    other_key = session_key(other)
    owner = signed_in(password)
    services.user_set_password(
        user=member, password="a whole new passphrase", actor=member, via=services.Via.EMAIL_LINK
    )
    session = owner.session  # keep the owner signed in, as the reset page would not
    session[HASH_SESSION_KEY] = member.get_session_auth_hash()
    session.save()
    assert [s.is_current for s in owner.get(SESSIONS).context["sessions"]] == [True]
    assert not in_store(other_key)


def test_a_suspension_deletes_every_session_from_the_store(
    member, password, moderator, django_capture_on_commit_callbacks
):
    """So no session left unused during the suspension signs in after reinstatement."""
    keys = [session_key(signed_in(password, ip=f"198.51.100.{n}")) for n in (1, 2)]
    with django_capture_on_commit_callbacks(execute=True):
        services.member_moderate(actor=moderator, member=member, kind=ModerationAction.Kind.SUSPEND)
    assert not any(in_store(key) for key in keys)
    # No device row is left, only markers (no key kept) saying why, for the next request.
    assert not UserSession.objects.filter(suspended_at=None).exists()
    assert list(UserSession.objects.values_list("sealed_key", flat=True)) == ["", ""]


def test_a_password_reset_deletes_every_session_from_the_store(member, password):
    thief = signed_in(password, CHROME_ANDROID, "198.51.100.23")
    browser = Client()
    browser.post("/accounts/password/reset/", {"email": member.email})
    link = path_of(links_in(mail.outbox[-1])[0])
    set_url = browser.get(link, follow=True).redirect_chain[-1][0]
    new = "a whole new passphrase"
    browser.post(set_url, {"new_password1": new, "new_password2": new})
    assert not in_store(session_key(thief))
    assert not is_signed_in(thief)


def test_a_confirmed_change_of_address_ends_the_sessions_it_voided(member, password):
    thief = signed_in(password, CHROME_ANDROID, "198.51.100.23")
    owner = signed_in(password)
    owner.post("/accounts/email/change/", {"new_email": "alice@new.example", "password": password})
    link = path_of(links_in(mail.outbox[-1])[0])
    assert owner.post(link).status_code == 302
    assert not in_store(session_key(thief))
    assert not UserSession.objects.filter(key_hash=usersessions.key_hash(session_key(thief)))


def test_this_device_is_listed_even_when_its_row_went_missing(member, password):
    client = signed_in(password)
    UserSession.objects.all().delete()
    sessions = client.get(SESSIONS).context["sessions"]
    assert [(s.device, s.is_current) for s in sessions] == [("Firefox on Windows", True)]
