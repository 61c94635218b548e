"""Brute-force limits: 429 with a time to come back, shared by every name for an account."""

import pytest
from django.core import mail
from django.test import Client

from accounts import ratelimits
from tests.conftest import links_in, path_of

LOGIN = "/accounts/login/"


def fail(client, username, times, ip="10.0.0.1"):
    for _ in range(times):
        client.post(LOGIN, {"username": username, "password": "wrong guess"}, REMOTE_ADDR=ip)


def test_five_failures_lock_the_account_under_every_name(client, member, password):
    fail(client, "alice", 2, ip="10.0.0.1")
    fail(client, "ALICE", 2, ip="10.0.0.2")
    fail(client, "Alice@Example.com", 1, ip="10.0.0.3")
    response = Client().post(
        LOGIN, {"username": "alice@example.com", "password": password}, REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_ten_failures_from_one_address_lock_that_address(client, roles):
    for n in range(10):
        fail(client, f"someone{n}", 1, ip="10.0.0.5")
    blocked = client.post(LOGIN, {"username": "x", "password": "y"}, REMOTE_ADDR="10.0.0.5")
    assert blocked.status_code == 429
    other = client.post(LOGIN, {"username": "x", "password": "y"}, REMOTE_ADDR="10.0.0.6")
    assert other.status_code == 200


def test_spoofed_forwarded_for_does_not_reset_the_limit(client, roles):
    for n in range(10):
        client.post(
            LOGIN,
            {"username": f"u{n}", "password": "y"},
            REMOTE_ADDR="10.0.0.7",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    response = client.post(
        LOGIN,
        {"username": "u", "password": "y"},
        REMOTE_ADDR="10.0.0.7",
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    assert response.status_code == 429


def test_trusted_proxy_count_takes_the_client_from_forwarded_for(rf, settings):
    settings.OFFBRAND_TRUSTED_PROXIES = 1
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    assert ratelimits.client_ip(request) == "203.0.113.5"


def test_the_admin_login_is_covered_too(client, administrator, password):
    for _ in range(5):
        client.post("/admin/login/", {"username": "boss", "password": "wrong"})
    response = client.post("/admin/login/", {"username": "boss", "password": password})
    assert response.status_code == 429


def test_a_password_reset_clears_the_lock(client, member, password):
    fail(client, "alice", 5)
    assert client.post(LOGIN, {"username": "alice", "password": password}).status_code == 429
    client.post("/accounts/password/reset/", {"email": member.email})
    set_url = client.get(path_of(links_in(mail.outbox[0])[0]), follow=True).redirect_chain[-1][0]
    new = "fresh passphrase 2026"
    client.post(set_url, {"new_password1": new, "new_password2": new})
    assert client.post(LOGIN, {"username": "alice", "password": new}).status_code == 302


@pytest.mark.parametrize(
    ("url", "data", "limit"),
    [
        ("/accounts/password/reset/", {"email": "alice@example.com"}, 5),
        ("/accounts/register/", {"email": "x@example.com"}, 20),
    ],
)
def test_requests_past_the_limit_get_429(client, member, url, data, limit):
    statuses = [client.post(url, data).status_code for _ in range(limit + 1)]
    assert 429 not in statuses[:limit]
    assert statuses[-1] == 429


def test_resend_and_email_change_are_limited_per_member(client, unconfirmed, member, password):
    client.force_login(unconfirmed)
    assert client.post("/accounts/confirm/resend/").status_code == 302
    assert client.post("/accounts/confirm/resend/").status_code == 429
    client.force_login(member)
    statuses = [
        client.post(
            "/accounts/email/change/", {"new_email": f"n{n}@example.com", "password": password}
        ).status_code
        for n in range(4)
    ]
    assert statuses == [302, 302, 302, 429]


def test_limiter_fails_closed_with_a_clear_message_when_the_cache_is_down(
    client, member, password, monkeypatch
):
    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(ratelimits.cache, "get", down)
    response = client.post(LOGIN, {"username": "alice", "password": password})
    assert response.status_code == 429
    assert "Temporarily unavailable" in response.content.decode()


def test_unicode_look_alikes_of_a_name_share_its_lock(client, member, password):
    fail(client, "alice", 5)
    # "ａlice" (full-width a) is "alice" once normalised, as the form does.
    response = client.post(LOGIN, {"username": "\uff41lice", "password": password})
    assert response.status_code == 429
    fail(client, "\uff41lice", 1, ip="10.0.0.8")
    assert client.post(LOGIN, {"username": "alice", "password": password}).status_code == 429
