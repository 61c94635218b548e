import re
from dataclasses import dataclass
from io import BytesIO
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from PIL import Image

from accounts.models import Role
from tests.factories import DEFAULT_PASSWORD, UserFactory


@pytest.fixture(autouse=True)
def fast_hashing_and_clean_cache(settings):
    """A cheap hasher keeps the suite quick; a clean cache isolates tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = "http://testserver"  # links in mail, as the test client reaches the site
    if settings.CACHES["default"]["BACKEND"] == "offbrand.cache.DatabaseCache":
        # The embedded default's database cache is proved in test_rate_limits;
        # elsewhere a memory cache keeps tests without the database working.
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True, scope="session")
def health_checks_let_go_of_the_test_database(django_db_setup):
    """/healthz checks from threads with their own connections: closed before teardown."""
    yield
    from offbrand.views import PROBERS

    for prober in PROBERS:
        prober.release()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files go to a fresh folder per test."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def image_bytes(size=(300, 200), colour=(200, 30, 30), fmt="PNG") -> bytes:
    """A real picture, made here."""
    buffer = BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt)
    return buffer.getvalue()


@pytest.fixture
def password():
    return DEFAULT_PASSWORD


@pytest.fixture
def roles(db):
    Role.objects.create_missing()
    return {role.name: role for role in Role.objects.all()}


@pytest.fixture
def member(roles):
    return UserFactory(username="alice", email="alice@example.com")


@pytest.fixture
def moderator(roles):
    return UserFactory(username="mod", email="mod@example.com", role=roles["Moderator"])


@pytest.fixture
def administrator(roles):
    return UserFactory(username="boss", email="boss@example.com", role=roles["Administrator"])


@pytest.fixture
def member_client(client, member):
    client.force_login(member)
    return client


LINK = re.compile(r"https?://[^\s\"<>]+")


def links_in(message) -> list[str]:
    """The absolute links in an email's plain-text part."""
    return LINK.findall(message.body)


def path_of(url: str) -> str:
    return urlsplit(url).path


@pytest.fixture
def unconfirmed(roles):
    return UserFactory(username="newbie", email="newbie@example.com", confirmed=False)


class Clock:
    """The wall clock, stopped at a chosen second (the way time-machine travels)."""

    def __init__(self, monkeypatch):
        import time

        # An hour's start, so it starts every window of a minute, 3, 15 or 60 minutes.
        self.hour = int(time.time()) // 3600 * 3600
        self.now = float(self.hour)
        monkeypatch.setattr(time, "time", lambda: self.now)

    def at(self, seconds: float) -> None:
        """`seconds` after the start of the hour."""
        self.now = self.hour + seconds


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


def wait_for_a_fresh_window(period: int, needed: float = 60) -> None:
    """For servers in other processes (their clock cannot be stopped): when fewer
    than `needed` seconds are left in the current rate-limit window, wait for the next."""
    import time

    left = period - time.time() % period
    if left < needed:
        time.sleep(left + 0.1)


@dataclass
class Work:
    """What a request cost before its answer: what a visitor could time."""

    hashes: int = 0  # passwords hashed (make_password)
    commits: int = 0  # transactions that wrote: an fsync on SQLite, a WAL flush on PostgreSQL
    statements: int = 0
    writes: int = 0  # INSERT, UPDATE, DELETE statements
    mails: int = 0


# A data-modifying WITH (`offbrand.prepared.insert`'s) is a write too.
WRITES_IN_WITH = ("INSERT INTO", "UPDATE ", "DELETE FROM")


@pytest.fixture
def work_before_the_answer(monkeypatch):
    """`measure(send)` -> (response, Work): the work a request did before the
    server had its whole answer (`run_after_response`), through the whole
    middleware stack; what runs after the answer is left out. Needs
    `django_db(transaction=True)` for the commits to be real."""
    from django.contrib.auth import base_user
    from django.core import mail
    from django.db import connection

    import accounts.middleware

    state = {"work": Work(), "dirty": False, "answered": None, "mails_before": 0}
    original_commit = connection.commit
    original_hash = base_user.make_password
    original_run_after = accounts.middleware.run_after_response

    def counting(execute, sql, params, many, context):
        work = state["work"]
        work.statements += 1
        statement = sql.lstrip().upper()
        if statement.startswith(("INSERT", "UPDATE", "DELETE", "REPLACE")) or (
            statement.startswith("WITH") and any(w in statement for w in WRITES_IN_WITH)
        ):
            work.writes += 1
            if connection.in_atomic_block:
                state["dirty"] = True
            else:
                work.commits += 1  # autocommit: a transaction of its own
        return execute(sql, params, many, context)

    def commit():
        if state["dirty"]:
            state["work"].commits += 1
            state["dirty"] = False
        return original_commit()

    def hashing(*args, **kwargs):
        state["work"].hashes += 1
        return original_hash(*args, **kwargs)

    def answered(request, response):
        state["work"].mails = len(mail.outbox) - state["mails_before"]
        state["answered"] = state["work"]
        state["work"] = Work()  # what comes after the answer counts elsewhere
        original_run_after(request, response)

    monkeypatch.setattr(connection, "commit", commit)
    monkeypatch.setattr(base_user, "make_password", hashing)
    monkeypatch.setattr(accounts.middleware, "run_after_response", answered)

    def measure(send):
        state.update(work=Work(), dirty=False, answered=None, mails_before=len(mail.outbox))
        with connection.execute_wrapper(counting):
            response = send()
        return response, state["answered"]

    return measure


def posts_and_counts() -> int:
    """Queries for a profile's posts and follow counts: one round trip on PostgreSQL,
    two elsewhere (`social.selectors.profile_page`)."""
    return 1 if connection.vendor == "postgresql" else 2
