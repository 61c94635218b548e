"""The permission mixin and decorators: redirect, 403, or through."""

from urllib.parse import parse_qs, urlsplit

import pytest

from accounts.models import Permission
from tests.factories import UserFactory

pytestmark = pytest.mark.urls("tests.guard_urls")

KINDS = ["class", "function"]
ROLE_FLAGS = {
    "User": {"FOLLOW", "COMMENT", "WRITE"},
    "Moderator": {"FOLLOW", "COMMENT", "WRITE", "MODERATE"},
    "Administrator": {"FOLLOW", "COMMENT", "WRITE", "MODERATE", "ADMIN"},
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("flag", list(Permission))
def test_anonymous_is_sent_to_sign_in_with_next(client, db, kind, flag):
    url = f"/guard/{kind}/{flag.name}/?page=2"
    response = client.get(url)
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == "/accounts/login/"
    assert parse_qs(target.query)["next"] == [url]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("flag", list(Permission))
@pytest.mark.parametrize("role_name", ROLE_FLAGS)
def test_each_role_gets_through_or_a_friendly_403(client, roles, kind, flag, role_name):
    client.force_login(UserFactory(role=roles[role_name]))
    response = client.get(f"/guard/{kind}/{flag.name}/")
    if flag.name in ROLE_FLAGS[role_name]:
        assert response.status_code == 200
        assert response.content.decode() == f"{kind} {flag.name}"
    else:
        assert response.status_code == 403
        assert "You can't open this page" in response.content.decode()


@pytest.mark.parametrize("kind", KINDS)
def test_admin_guard(client, roles, kind):
    client.force_login(UserFactory(role=roles["Moderator"]))
    assert client.get(f"/guard/admin/{kind}/").status_code == 403
    client.force_login(UserFactory(role=roles["Administrator"]))
    response = client.get(f"/guard/admin/{kind}/")
    assert response.status_code == 200
    assert response.content.decode() == f"admin {kind}"


def test_demoted_member_loses_access_on_the_next_request(client, moderator, roles):
    client.force_login(moderator)
    assert client.get("/guard/class/MODERATE/").status_code == 200
    moderator.role = roles["User"]
    moderator.save(update_fields=["role"])
    assert client.get("/guard/class/MODERATE/").status_code == 403
