import re
from io import BytesIO
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
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
