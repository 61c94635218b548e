"""The sign-in lock of browsers an account never used is counted per name as typed
(attack 2026-12-06, F4): the lock seen through one name says nothing about which
other name belongs to the same account, and an unknown name locks exactly like a
known one, while the guesses at one account stay bounded."""

import re

import pytest
from django.test import Client

from accounts import ratelimits
from tests.factories import UserFactory

LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def one_window(clock):
    """Everything within one window of the sign-in limits."""


def sign_in(username, password="wrong guess", ip="10.0.0.1", browser=None):
    browser = browser or Client()
    return browser.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def lock(username, first=1):
    """A stranger spends the budget of `username` from ten addresses, then one more."""
    for n in range(ratelimits.LIMITS["signin_account"].count):
        assert sign_in(username, ip=f"192.0.{first}.{n}").status_code == 200
    return sign_in(username, ip=f"192.0.{first}.99")


def test_a_locked_username_says_nothing_about_which_address_is_its_owners(password, roles):
    """The attack's story: carol is locked; her address from a fresh client answers
    like someone else's address, not like carol."""
    UserFactory(username="carol", email="carol@example.com")
    UserFactory(username="dave", email="dave@example.com")
    assert lock("carol").status_code == 429
    assert sign_in("carol@example.com", ip="192.0.2.200").status_code == 200
    assert sign_in("dave@example.com", ip="192.0.2.201").status_code == 200
    # Every spelling of the name itself shares its lock.
    assert sign_in("CAROL", ip="192.0.2.202").status_code == 429
    assert sign_in("\uff43arol", ip="192.0.2.203").status_code == 429


def test_a_locked_address_says_nothing_about_which_username_is_its_owners(roles):
    UserFactory(username="carol", email="carol@example.com")
    assert lock("Carol@Example.com").status_code == 429
    assert sign_in("carol", ip="192.0.2.200").status_code == 200
    assert sign_in("carol@example.com", ip="192.0.2.201").status_code == 429


def strip(response) -> str:
    """The page without what differs between any two answers: tokens and the name typed."""
    return re.sub(
        r'name="csrfmiddlewaretoken" value="[^"]+"|nonce="[^"]+"|name="username" value="[^"]+"'
        r'|<time datetime="[^"]+">[^<]+</time>|"challenge": "[^"]+"|name="token" value="[^"]+"',
        "",
        response.content.decode(),
    )


@pytest.mark.parametrize(
    ("known", "unknown"),
    [("alice", "nobody-at-all"), ("alice@example.com", "nobody@example.com")],
)
def test_an_unknown_name_locks_exactly_like_a_known_one(member, known, unknown, clock):
    clock.at(7 * 60 + 3)
    answers = {}
    for n, name in enumerate((known, unknown)):
        pages = [sign_in(name, ip=f"192.0.{n}.{k}") for k in range(11)]
        answers[name] = pages
    for known_page, unknown_page in zip(answers[known], answers[unknown], strict=True):
        assert known_page.status_code == unknown_page.status_code
        assert known_page.get("Retry-After") == unknown_page.get("Retry-After")
        assert strip(known_page) == strip(unknown_page)
    assert [page.status_code for page in answers[known]] == [200] * 10 + [429]
    assert answers[known][-1]["Retry-After"] == str(15 * 60 - (7 * 60 + 3))


def test_guesses_per_account_are_bounded_by_its_two_names(member, password, monkeypatch):
    checked = []
    original = type(member).check_password
    monkeypatch.setattr(
        type(member), "check_password", lambda user, raw: checked.append(raw) or original(user, raw)
    )
    # Many spellings of her username and of her address, from a hundred addresses.
    spellings = ["alice", "ALICE", "\uff41lice", "Alice@Example.com", "alice@EXAMPLE.com"]
    for n in range(100):
        sign_in(spellings[n % len(spellings)], ip=f"198.51.{n // 250}.{n % 250}")
    per_name = ratelimits.LIMITS["signin_account"].count
    assert len(checked) == 2 * per_name  # 20 per 15 minutes: 80 an hour
    assert 3600 // ratelimits.SIGN_IN_WINDOW * 2 * per_name == 80
    # "alİce@" is her address to PostgreSQL's lower() (İ folds to i there): no more.
    for n in range(10):
        sign_in("al\u0130ce@example.com", ip=f"198.51.9.{n}")
    assert len(checked) == 2 * per_name


def test_the_owners_browser_signs_in_with_either_name_locked(member, password):
    owner = Client()
    assert sign_in("alice", password, browser=owner).status_code == 302
    owner.post("/accounts/logout/")
    assert lock("alice").status_code == 429
    assert lock("alice@example.com", first=2).status_code == 429
    for name in ("alice", "alice@example.com"):
        response = sign_in(name, password, ip="192.0.1.1", browser=owner)
        assert response.status_code == 302
        assert owner.session["_auth_user_id"] == str(member.pk)
        owner.post("/accounts/logout/")
