"""Signing in and out."""

from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings

from tests.factories import UserFactory

URL = "/accounts/login/"


@pytest.mark.parametrize("identifier", ["alice", "ALICE", "alice@example.com", "Alice@EXAMPLE.com"])
def test_sign_in_by_username_or_email_in_any_case(client, member, password, identifier):
    response = client.post(URL, {"username": identifier, "password": password})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(member.pk)


def test_wrong_password_and_unknown_user_get_the_same_generic_message(client, member):
    wrong = client.post(URL, {"username": "alice", "password": "nope nope"})
    unknown = client.post(URL, {"username": "nobody", "password": "nope nope"})
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["form"].errors == unknown.context["form"].errors
    assert "don&#x27;t match an account" in wrong.content.decode()
    assert "_auth_user_id" not in client.session


def test_suspended_member_is_told_why_only_with_the_right_password(client, member, password):
    member.is_active = False
    member.save()
    right = client.post(URL, {"username": "alice", "password": password})
    assert "Your account has been suspended, so you can&#x27;t sign in" in right.content.decode()
    assert "_auth_user_id" not in client.session
    wrong = client.post(URL, {"username": "alice", "password": "not it at all"})
    assert (
        "Your account has been suspended, so you can&#x27;t sign in" not in wrong.content.decode()
    )


def test_without_remember_me_the_session_ends_with_the_browser(client, member, password):
    client.post(URL, {"username": "alice", "password": password})
    assert client.session.get_expire_at_browser_close()
    assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == ""


def test_remember_me_keeps_the_session_for_the_configured_days(client, member, password):
    client.post(URL, {"username": "alice", "password": password, "remember": "on"})
    assert not client.session.get_expire_at_browser_close()
    days = settings.OFFBRAND_REMEMBER_DAYS
    assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == days * 24 * 3600


def test_safe_next_is_honoured(client, member, password):
    response = client.post(
        f"{URL}?next=/accounts/password/change/", {"username": "alice", "password": password}
    )
    assert response["Location"] == "/accounts/password/change/"


@pytest.mark.parametrize(
    "target",
    [
        "http://evil.example",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "/%09/evil.example",
        "javascript:alert(1)",
        "https://evil.example/accounts/",
        "/\t/evil.example",
    ],
)
def test_unsafe_next_never_leaves_the_site(client, member, password, target):
    response = client.post(URL, {"username": "alice", "password": password, "next": target})
    assert response.status_code == 302
    location = response["Location"]
    # As a browser resolves it (after dropping tabs and newlines, as browsers do).
    resolved = urlsplit(urljoin("http://testserver/accounts/login/", location.replace("\t", "")))
    assert resolved.scheme == "http" and resolved.netloc == "testserver"
    assert not location.startswith(("//", "/\\"))


def test_session_key_rotates_at_sign_in(client, member, password):
    client.get(URL)
    client.session["probe"] = 1
    session = client.session
    session["probe"] = 1
    session.save()
    before = session.session_key
    client.post(URL, {"username": "alice", "password": password})
    assert client.session.session_key != before


def test_logout_is_post_only_and_flushes_the_session(client, member, password):
    client.post(URL, {"username": "alice", "password": password})
    old_cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "You have been signed out." in response.content.decode()
    assert not response.context["user"].is_authenticated
    # Replaying the old cookie is anonymous.
    client.cookies[settings.SESSION_COOKIE_NAME] = old_cookie
    assert not client.get("/").context["user"].is_authenticated


def test_navigation_shows_sign_in_state(client, member):
    html = client.get("/").content.decode()
    assert "Sign in" in html and "Sign out" not in html
    client.force_login(member)
    html = client.get("/").content.decode()
    assert "Sign out" in html and 'action="/accounts/logout/"' in html


def test_unconfirmed_member_can_sign_in_and_is_gated(client, roles, password):
    UserFactory(username="fresh", email="fresh@example.com", confirmed=False)
    response = client.post(URL, {"username": "fresh", "password": password}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert client.get("/accounts/password/change/")["Location"] == "/accounts/unconfirmed/"


def test_unknown_user_costs_one_password_hash_like_a_wrong_password(client, member, monkeypatch):
    from django.contrib.auth.hashers import MD5PasswordHasher

    calls = []
    original = MD5PasswordHasher.encode

    def counting_encode(self, password, salt):
        calls.append(password)
        return original(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting_encode)
    client.post(URL, {"username": "alice", "password": "wrong one"})
    wrong = len(calls)
    calls.clear()
    client.post(URL, {"username": "nobody-at-all", "password": "wrong one"})
    assert wrong == len(calls) == 1


def test_a_username_with_an_at_sign_signs_in(client, roles, password):
    UserFactory(username="bob@home", email="bob@example.com")
    response = client.post(URL, {"username": "BOB@home", "password": password})
    assert response.status_code == 302


def test_sign_in_keeps_djangos_guards_csrf_no_caching_and_hidden_password(member, password):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    page = browser.get(URL)
    assert "no-store" in page["Cache-Control"] and "private" in page["Cache-Control"]
    forged = browser.post(URL, {"username": "alice", "password": password})
    assert forged.status_code == 403
    assert "_auth_user_id" not in browser.session
    token = page.context["csrf_token"]
    signed_in = browser.post(
        URL, {"username": "alice", "password": password, "csrfmiddlewaretoken": str(token)}
    )
    assert signed_in.status_code == 302
    assert "no-store" in signed_in["Cache-Control"]
    # Error reports leave every POST field out (sensitive_post_parameters).
    assert signed_in.wsgi_request.sensitive_post_parameters == "__ALL__"


def test_each_sign_in_form_has_fields_of_its_own(db):
    from accounts.forms import LoginForm

    first, second = LoginForm(), LoginForm()
    first.fields["username"].widget.attrs["class"] = "changed"
    first.fields["username"].error_messages["required"] = "changed"
    first.fields["username"].validators.append(lambda value: None)
    first.fields["password"].label = "changed"
    third = LoginForm()
    for form in (second, third):
        assert "class" not in form.fields["username"].widget.attrs
        assert form.fields["username"].error_messages["required"] != "changed"
        assert len(form.fields["username"].validators) == len(second.fields["username"].validators)
        assert form.fields["password"].label != "changed"
    assert 'autocomplete="username webauthn"' in str(third["username"])


def test_an_empty_posted_next_wins_over_the_query_s_as_in_django(client, member, password):
    """The form's `next` is read first, even empty: the query's is not used then."""
    response = client.post(
        f"{URL}?next=/accounts/password/change/",
        {"username": "alice", "password": password, "next": " "},
    )
    assert response["Location"] == "/"
