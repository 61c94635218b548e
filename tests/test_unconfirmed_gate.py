"""A signed-in member with an unconfirmed address sees only a few pages."""

import pytest


@pytest.mark.parametrize(
    "path", ["/accounts/password/change/", "/accounts/profile/", "/moderate/users/", "/admin/"]
)
def test_other_pages_redirect_to_the_unconfirmed_page(client, unconfirmed, path):
    client.force_login(unconfirmed)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/unconfirmed/"


def test_allowed_pages(client, unconfirmed):
    client.force_login(unconfirmed)
    assert client.get("/").status_code == 200
    response = client.get("/accounts/unconfirmed/")
    assert response.status_code == 200
    html = response.content.decode()
    assert unconfirmed.email in html and "Send again" in html
    assert client.post("/accounts/logout/").status_code == 302


def test_confirmed_member_is_not_gated(member_client):
    assert member_client.get("/accounts/password/change/").status_code == 200
    assert member_client.get("/accounts/unconfirmed/").status_code == 302


def test_a_mistyped_address_can_be_fixed_before_confirming(client, unconfirmed, password):
    from django.core import mail

    from tests.conftest import links_in, path_of

    client.force_login(unconfirmed)
    response = client.post(
        "/accounts/email/change/", {"new_email": "right@example.com", "password": password}
    )
    assert response.status_code == 302
    client.post(path_of(links_in(mail.outbox[0])[0]))
    unconfirmed.refresh_from_db()
    assert unconfirmed.email == "right@example.com"
    assert unconfirmed.confirmed


@pytest.mark.urls("tests.guard_urls")
@pytest.mark.parametrize(
    ("path", "opens"),
    [
        ("/guard/unconfirmed/class/", True),
        ("/guard/unconfirmed/function/", True),
        ("/guard/unconfirmed/closed/", False),
    ],
)
def test_the_view_declares_whether_unconfirmed_members_may_use_it(client, unconfirmed, path, opens):
    client.force_login(unconfirmed)
    response = client.get(path)
    if opens:
        assert response.status_code == 200
    else:
        assert response["Location"] == "/accounts/unconfirmed/"


def test_own_profile_is_open_but_not_anothers(client, unconfirmed, member):
    client.force_login(unconfirmed)
    assert client.get(f"/users/{unconfirmed.username}/").status_code == 200
    assert client.get(f"/users/{member.username}/")["Location"] == "/accounts/unconfirmed/"
