"""A suspension ends every session of the member for good (attack report F2).

The story: a thief holds a copy of a member's session cookie; a moderator
(or an administrator) suspends the account; later it is reinstated. The
copy made no request meanwhile. It must not sign anyone in again: the
suspension deleted it from the store, whatever its key had become since the
sign-in (confirming the address, or moving to a new one, gives the session a
new key).
"""

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from tests.conftest import links_in, path_of
from tests.page_forms import form_on_page
from tests.test_session_thief import thief_of

PASSWORD = "a long enough passphrase 31"


def registered_and_confirmed(username: str) -> Client:
    """A new member, signed in in their browser, who followed their confirmation link."""
    browser = Client(REMOTE_ADDR="198.51.100.95")
    reply = browser.post(
        "/accounts/register/",
        {"email": f"{username}@example.com", "username": username, "password1": PASSWORD},
    )
    assert reply.status_code == 302
    assert browser.post(path_of(links_in(mail.outbox[-1])[0])).status_code == 302
    return browser


def is_signed_in(client: Client) -> bool:
    return client.get("/accounts/settings/").status_code == 200


def staff(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def by_moderation_page(moderator, administrator, username: str, active: bool):
    action = "reinstate" if active else "suspend"
    reply = staff(moderator).post(f"/moderate/users/{username}/{action}/", {"reason": "stolen"})
    assert reply.status_code == 302


def by_member_editor(moderator, administrator, username: str, active: bool):
    boss = staff(administrator)
    path = f"/users/{username}/edit/"
    shown = form_on_page(boss.get(path).content.decode(), "username")
    shown.pop("is_active", None)
    reply = boss.post(path, {**shown, **({"is_active": "on"} if active else {})})
    assert reply.status_code == 302


@pytest.mark.parametrize(
    "engine", ["accounts.sessions", "django.contrib.sessions.backends.cached_db"]
)
@pytest.mark.parametrize("path", [by_moderation_page, by_member_editor])
def test_a_copied_session_unused_during_a_suspension_stays_signed_out_after_reinstatement(
    path, engine, settings, moderator, administrator, django_capture_on_commit_callbacks
):
    settings.SESSION_ENGINE = engine  # the site's store, and Django's behind the cache (Redis)
    owner = registered_and_confirmed("pia")
    thief = thief_of(owner)
    assert is_signed_in(thief)  # the copy works, as the owner's own session does

    with django_capture_on_commit_callbacks(execute=True):
        path(moderator, administrator, "pia", active=False)
    with django_capture_on_commit_callbacks(execute=True):
        path(moderator, administrator, "pia", active=True)

    assert User.objects.get(username="pia").is_active
    assert not is_signed_in(thief), "the stolen session came back with the reinstatement"
    assert not is_signed_in(owner)


def test_a_session_that_moved_to_a_new_address_is_ended_by_a_suspension(
    member, password, moderator, django_capture_on_commit_callbacks
):
    owner = Client(REMOTE_ADDR="198.51.100.96")
    owner.post("/accounts/login/", {"username": member.username, "password": password})
    owner.post(
        "/accounts/email/change/", {"new_email": "alice-new@example.com", "password": password}
    )
    assert owner.post(path_of(links_in(mail.outbox[-1])[0])).status_code == 302
    thief = thief_of(owner)
    assert is_signed_in(thief)

    with django_capture_on_commit_callbacks(execute=True):
        by_moderation_page(moderator, None, member.username, active=False)
    with django_capture_on_commit_callbacks(execute=True):
        by_moderation_page(moderator, None, member.username, active=True)

    assert not is_signed_in(thief)


def test_unconfirming_and_confirming_again_does_not_bring_back_a_copied_session(
    member, password, administrator, django_capture_on_commit_callbacks
):
    """The same class: sessions voided by an administrator's change of a credential
    (here the confirmation) are deleted, so undoing the change revives none."""
    owner = Client(REMOTE_ADDR="198.51.100.97")
    owner.post("/accounts/login/", {"username": member.username, "password": password})
    thief = thief_of(owner)
    boss = staff(administrator)
    path = f"/users/{member.username}/edit/"
    for confirmed in (False, True):
        shown = form_on_page(boss.get(path).content.decode(), "username")
        shown.pop("confirmed", None)
        with django_capture_on_commit_callbacks(execute=True):
            boss.post(path, {**shown, **({"confirmed": "on"} if confirmed else {})})

    assert User.objects.get(pk=member.pk).confirmed
    assert not is_signed_in(thief)
