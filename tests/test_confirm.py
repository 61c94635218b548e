"""Email confirmation links: GET shows, POST confirms, once."""

import pytest
from django.core import mail, signing
from django.test import Client

from accounts import tokens
from tests.conftest import links_in, path_of


def confirm_path(user):
    return f"/accounts/confirm/{tokens.make_confirmation_token(user)}/"


def test_get_does_not_confirm_so_mail_scanners_cannot_use_it_up(client, unconfirmed):
    response = client.get(confirm_path(unconfirmed))
    assert response.status_code == 200
    assert "Confirm my address" in response.content.decode()
    unconfirmed.refresh_from_db()
    assert not unconfirmed.confirmed


def test_signed_out_the_link_asks_for_the_password_too(client, unconfirmed, password):
    path = confirm_path(unconfirmed)
    page = client.get(path).content.decode()
    assert "Password of the account" in page
    assert "Set a new password by email" in page
    for attempt in ({}, {"password": "not the password"}):
        response = client.post(path, attempt)
        unconfirmed.refresh_from_db()
        assert not unconfirmed.confirmed
    assert response.status_code == 400
    assert "That password is not the account" in response.content.decode()
    response = client.post(path, {"password": password}, follow=True)
    assert "Your email address is confirmed" in response.content.decode()
    unconfirmed.refresh_from_db()
    assert unconfirmed.confirmed


def test_post_confirms_while_signed_in_without_asking_and_keeps_the_session(client, unconfirmed):
    client.force_login(unconfirmed)
    assert "Password of the account" not in client.get(confirm_path(unconfirmed)).content.decode()
    client.post(confirm_path(unconfirmed))
    unconfirmed.refresh_from_db()
    assert unconfirmed.confirmed
    assert client.get("/").context["user"] == unconfirmed


def test_reused_token_says_already_confirmed(client, unconfirmed, password):
    path = confirm_path(unconfirmed)
    client.post(path, {"password": password})
    response = client.post(path, {"password": password})
    assert response.status_code == 200
    assert "Already confirmed" in response.content.decode()


def test_token_for_an_old_address_does_nothing(client, unconfirmed):
    path = confirm_path(unconfirmed)
    unconfirmed.email = "elsewhere@example.com"
    unconfirmed.save()
    response = client.post(path)
    assert response.status_code == 400
    assert "doesn't work" in response.content.decode()
    unconfirmed.refresh_from_db()
    assert not unconfirmed.confirmed


def test_expired_token_gets_a_clear_page_with_a_way_forward(client, unconfirmed, settings):
    path = confirm_path(unconfirmed)
    settings.OFFBRAND_CONFIRM_MAX_AGE = -1
    response = client.post(path)
    assert response.status_code == 400
    html = response.content.decode()
    assert "This link has expired" in html
    assert "Sign in</a> to get a new link" in html
    client.force_login(unconfirmed)
    assert "Send me a new link" in client.get(path).content.decode()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-3] + "AAA",  # tampered signature
        lambda t: t[: len(t) // 2],  # truncated
        lambda t: "garbage",
        lambda t: signing.dumps({"u": 1, "e": "x"}, salt="another.salt"),
        lambda t: signing.dumps(["not", "a", "dict"], salt=tokens.CONFIRM_SALT),
    ],
)
def test_tampered_token_is_refused_never_a_500(client, unconfirmed, mangle):
    path = f"/accounts/confirm/{mangle(tokens.make_confirmation_token(unconfirmed))}/"
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == 400
        assert "This link doesn't work" in response.content.decode()
    unconfirmed.refresh_from_db()
    assert not unconfirmed.confirmed


def test_another_users_token_confirms_only_that_user(client, unconfirmed, member, password):
    member.confirmed = False
    member.save()
    client.force_login(unconfirmed)
    page = client.get(confirm_path(member)).content.decode()
    assert "you are signed in to a different account" in page
    client.post(confirm_path(member), {"password": password})
    member.refresh_from_db()
    unconfirmed.refresh_from_db()
    assert member.confirmed and not unconfirmed.confirmed


def test_resend_sends_a_new_working_link(client, unconfirmed):
    client.force_login(unconfirmed)
    response = client.post("/accounts/confirm/resend/", follow=True)
    assert "A new confirmation link is on its way" in response.content.decode()
    assert len(mail.outbox) == 1
    client.post(path_of(links_in(mail.outbox[0])[0]))
    unconfirmed.refresh_from_db()
    assert unconfirmed.confirmed


def test_resend_is_post_only(client, unconfirmed):
    client.force_login(unconfirmed)
    assert client.get("/accounts/confirm/resend/").status_code == 405
    assert mail.outbox == []


def test_confirming_in_the_signed_in_browser_keeps_that_session_only(unconfirmed, password):
    here, elsewhere = Client(), Client()
    for browser in (here, elsewhere):
        browser.post("/accounts/login/", {"username": "newbie", "password": password})
    response = here.post(confirm_path(unconfirmed), follow=True)
    assert "Your email address is confirmed" in response.content.decode()
    assert here.get("/").context["user"] == unconfirmed  # still signed in here
    assert not elsewhere.get("/").context["user"].is_authenticated
