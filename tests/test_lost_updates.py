"""No lost updates: a write touches only the columns it owns.

Real overlapping HTTP requests against the live server, on PostgreSQL. One
request is held at a barrier inside a slow step (the avatar decoding, a
form's validation) after it has loaded the member; a second request changes
the member meanwhile; then the first is released. The second change must
stand. Before the fix, the first request wrote back the whole row it had
loaded: a suspension, a demotion or a reset was silently undone.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/offbrand_<you> \\
        .venv/bin/pytest -q tests/test_lost_updates.py
"""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache
from django.db import connection, connections
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import forms as account_forms
from accounts import views as account_views
from accounts.models import EmailChangeRequest, ModerationAction, User
from accounts.tokens import make_email_change_token, password_reset_tokens
from tests.conftest import image_bytes
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.page_forms import form_on_page
from tests.servers import CSRF_INPUT, Client

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

HOLD_SECONDS = 30  # upper bound for the held request to reach, and leave, the barrier
RESET_PASSWORD = "a reset passphrase nobody knew 58"


class Held:
    """Wraps `owner.name` so the first call waits, mid-request, until released."""

    def __init__(self, monkeypatch, owner, name):
        self.entered, self.released = threading.Event(), threading.Event()
        original = getattr(owner, name)

        def held(*args, **kwargs):
            if not self.entered.is_set():
                self.entered.set()
                self.released.wait(HOLD_SECONDS)
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, held)


def overlap(held: Held, slow, meanwhile):
    """Start `slow()` in a thread; once it is held, run `meanwhile()`, then release it."""

    def guarded():
        try:
            return slow()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(guarded)
        assert held.entered.wait(HOLD_SECONDS), "the slow request never reached the barrier"
        try:
            meanwhile_reply = meanwhile()
        finally:
            held.released.set()
        return future.result(timeout=HOLD_SECONDS), meanwhile_reply


def browser(server, username, password=DEFAULT_PASSWORD) -> Client:
    client = Client(server.url, timeout=HOLD_SECONDS * 2)
    reply = client.sign_in(username, password)
    assert reply.status == 302, reply.text[:300]
    return client


def csrf(client, path) -> str:
    return CSRF_INPUT.search(client.get(path).text).group(1)


def multipart(fields: dict, files: dict) -> tuple[bytes, dict]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    for name, (filename, data, content_type) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def profile_save_with_an_avatar(client):
    """The member saves their profile with a picture (held while it decodes)."""
    token = csrf(client, "/accounts/profile/")
    body, headers = multipart(
        {
            "csrfmiddlewaretoken": token,
            "first_name": "Alice",
            "last_name": "Liddell",
            "about_me": "Saved while something else happened.",
        },
        {"avatar_upload": ("me.png", image_bytes(size=(600, 600)), "image/png")},
    )
    return client.request("POST", "/accounts/profile/", body=body, headers=headers)


def member_edit_form(member, **changes) -> dict:
    return {
        "username": member.username,
        "email": member.email,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "about_me": member.about_me,
        "role": member.role_id,
        "confirmed": "on" if member.confirmed else "",
        "is_active": "on" if member.is_active else "",
        **changes,
    }


@pytest.fixture
def server(live_server):
    return live_server


@pytest.fixture
def alice(roles):
    return UserFactory(username="alice", email="alice@example.com", role=roles["Moderator"])


@pytest.fixture
def staff(roles):
    return {
        "mod": UserFactory(username="mod", role=roles["Moderator"]),
        "boss": UserFactory(username="boss", role=roles["Administrator"]),
    }


def suspend(server, username):
    mod = browser(server, "mod")
    path = f"/moderate/users/{username}/suspend/"
    return mod.post(path, {"csrfmiddlewaretoken": csrf(mod, path), "reason": "spam"})


def demote(server, member, roles):
    boss = browser(server, "boss")
    path = f"/users/{member.username}/edit/"
    data = member_edit_form(member, role=roles["User"].pk)
    return boss.post(path, {"csrfmiddlewaretoken": csrf(boss, path), **data})


def reset_password(server, member):
    """The owner follows a reset link (made for the account as it is now)."""
    member = User.objects.get(pk=member.pk)
    uid = urlsafe_base64_encode(force_bytes(member.pk))
    client = Client(server.url, timeout=HOLD_SECONDS)
    opened = client.get(
        f"/accounts/password/reset/{uid}/{password_reset_tokens.make_token(member)}/"
    )
    token = csrf(client, opened.location)
    return client.post(
        opened.location,
        {
            "csrfmiddlewaretoken": token,
            "new_password1": RESET_PASSWORD,
            "new_password2": RESET_PASSWORD,
        },
    )


# --- Finding 3: a slow avatar upload overlapping a change by someone else ----


def test_a_suspension_during_a_slow_sign_in_stands(server, alice, staff, monkeypatch):
    """A sign-in writes its last login and last seen after the password check (one
    UPDATE of those two columns, sent with the devices row's INSERT on PostgreSQL).
    A suspension made while the hash runs stands, and the session that sign-in
    opened lets nobody in."""
    from django.contrib.auth import base_user

    held = Held(monkeypatch, base_user, "check_password")
    client = Client(server.url, timeout=HOLD_SECONDS * 2)

    signed_in, suspended = overlap(
        held,
        lambda: client.sign_in("alice", DEFAULT_PASSWORD),
        lambda: suspend(server, "alice"),
    )

    assert suspended.status == 302
    alice.refresh_from_db()
    assert not alice.is_active, "the sign-in's write undid the suspension"
    assert alice.last_login is not None  # the sign-in's own columns were written
    assert ModerationAction.objects.filter(member=alice, kind="suspend").exists()
    page = client.get("/accounts/profile/")
    assert page.status == 302 and "/accounts/login/" in page.location


def test_a_suspension_during_a_slow_profile_save_stands(server, alice, staff, monkeypatch):
    held = Held(monkeypatch, account_forms, "render_avatar")
    client = browser(server, "alice")

    saved, suspended = overlap(
        held, lambda: profile_save_with_an_avatar(client), lambda: suspend(server, "alice")
    )

    assert suspended.status == 302 and saved.status == 302
    alice.refresh_from_db()
    assert not alice.is_active, "the profile save undid the suspension"
    assert alice.first_name == "Alice" and alice.avatar  # and the profile was saved
    assert ModerationAction.objects.filter(member=alice, kind="suspend").exists()
    assert "suspended" in Client(server.url).sign_in("alice", DEFAULT_PASSWORD).text.lower()


def test_a_demotion_during_a_slow_profile_save_stands(server, alice, staff, roles, monkeypatch):
    held = Held(monkeypatch, account_forms, "render_avatar")
    client = browser(server, "alice")

    saved, demoted = overlap(
        held, lambda: profile_save_with_an_avatar(client), lambda: demote(server, alice, roles)
    )

    assert demoted.status == 302 and saved.status == 302
    alice.refresh_from_db()
    assert alice.role.name == "User", "the profile save undid the demotion"
    assert alice.about_me == "Saved while something else happened."
    assert client.get("/moderate/users/").status == 403


def test_a_password_reset_during_a_slow_profile_save_stands(server, alice, monkeypatch):
    held = Held(monkeypatch, account_forms, "render_avatar")
    client = browser(server, "alice")

    saved, reset = overlap(
        held, lambda: profile_save_with_an_avatar(client), lambda: reset_password(server, alice)
    )

    assert reset.status == 302 and saved.status == 302
    alice.refresh_from_db()
    assert alice.check_password(RESET_PASSWORD), "the profile save undid the reset"
    assert Client(server.url).sign_in("alice", DEFAULT_PASSWORD).status == 200  # old one refused
    assert Client(server.url).sign_in("alice", RESET_PASSWORD).status == 302


# --- The same pattern elsewhere: the admin member edit, the password change --


def test_a_suspension_during_an_admin_member_edit_stands(server, alice, staff, roles, monkeypatch):
    held = Held(monkeypatch, account_forms.MemberAdminForm, "clean")
    boss = browser(server, "boss")
    path = "/users/alice/edit/"
    data = member_edit_form(alice, first_name="Al", csrfmiddlewaretoken=csrf(boss, path))

    edited, suspended = overlap(
        held, lambda: boss.post(path, data), lambda: suspend(server, "alice")
    )

    assert edited.status == 302 and suspended.status == 302
    alice.refresh_from_db()
    assert not alice.is_active and alice.first_name == "Al"


def test_a_reset_during_an_admin_member_edit_stands(server, alice, staff, roles, monkeypatch):
    held = Held(monkeypatch, account_forms.MemberAdminForm, "clean")
    boss = browser(server, "boss")
    path = "/users/alice/edit/"
    data = member_edit_form(alice, role=roles["User"].pk, csrfmiddlewaretoken=csrf(boss, path))

    edited, reset = overlap(
        held, lambda: boss.post(path, data), lambda: reset_password(server, alice)
    )

    assert edited.status == 302 and reset.status == 302
    alice.refresh_from_db()
    assert alice.role.name == "User" and alice.check_password(RESET_PASSWORD)


def test_a_demotion_during_a_password_change_stands(server, alice, staff, roles, monkeypatch):
    held = Held(monkeypatch, account_forms.PasswordChangeForm, "clean_old_password")
    client = browser(server, "alice")
    path = "/accounts/password/change/"
    new = "alice's own new passphrase 77"
    data = {
        "csrfmiddlewaretoken": csrf(client, path),
        "old_password": DEFAULT_PASSWORD,
        "new_password1": new,
        "new_password2": new,
    }

    changed, demoted = overlap(
        held, lambda: client.post(path, data), lambda: demote(server, alice, roles)
    )

    assert changed.status == 302 and demoted.status == 302
    alice.refresh_from_db()
    assert alice.role.name == "User" and alice.check_password(new)
    assert User.objects.get(pk=alice.pk).role.name == "User"


# --- The editor saved after the page went stale (attack report F1) ------------


def test_a_suspension_landing_while_the_editor_save_is_in_flight_stands(
    server, alice, staff, monkeypatch
):
    """The save is held before it loads the member: measured against the row it
    loads, every value the page showed back would look changed."""
    boss = browser(server, "boss")
    path = "/users/alice/edit/"
    shown = form_on_page(boss.get(path).text, "username")
    held = Held(monkeypatch, account_views, "get_member")

    edited, suspended = overlap(
        held,
        lambda: boss.post(path, {**shown, "first_name": "Al", "reason": "fix name"}),
        lambda: suspend(server, "alice"),
    )

    assert edited.status == 302 and suspended.status == 302
    alice.refresh_from_db()
    assert not alice.is_active and alice.first_name == "Al"
    kinds = ModerationAction.objects.filter(member=alice).values_list("kind", "actor__username")
    assert (ModerationAction.Kind.REINSTATE, "boss") not in set(kinds)


def test_the_members_own_edit_during_the_editor_save_is_refused_not_overwritten(
    server, alice, staff, monkeypatch
):
    boss = browser(server, "boss")
    path = "/users/alice/edit/"
    shown = form_on_page(boss.get(path).text, "username")
    held = Held(monkeypatch, account_forms.MemberAdminForm, "clean")
    owner = browser(server, "alice")

    def own_edit():
        token = csrf(owner, "/accounts/profile/")
        data = {"csrfmiddlewaretoken": token, "first_name": "Alicia", "about_me": "Mine."}
        return owner.post("/accounts/profile/", data)

    edited, own = overlap(held, lambda: boss.post(path, {**shown, "first_name": "Al"}), own_edit)

    assert own.status == 302
    assert edited.status == 200 and "changed by someone else" in edited.text
    assert "“Alicia”" in edited.text
    alice.refresh_from_db()
    assert (alice.first_name, alice.about_me) == ("Alicia", "Mine.")


# --- A kept link racing the owner's reset --------------------------------------


def test_a_kept_email_change_link_racing_the_owners_reset_never_both_win(server, alice):
    """Mallory (who knew the password) posts her kept link at the moment Alice resets."""
    rounds = []
    for round_ in range(5):
        cache.clear()  # the per-member limits on email changes are not under test
        member = User.objects.get(pk=alice.pk)
        member.set_password(DEFAULT_PASSWORD)
        member.email = "alice@example.com"
        member.save(update_fields=["password", "email"])
        mallory = browser(server, "alice")
        path = "/accounts/email/change/"
        new_email = f"mallory{round_}@evil.example"
        data = {"csrfmiddlewaretoken": csrf(mallory, path), "new_email": new_email}
        assert mallory.post(path, {**data, "password": DEFAULT_PASSWORD}).status == 302
        change = EmailChangeRequest.objects.get(user=alice)
        link = f"/accounts/email/confirm/{make_email_change_token(change)}/"
        anonymous = Client(server.url, timeout=HOLD_SECONDS)
        link_token = csrf(anonymous, link)
        member = User.objects.get(pk=alice.pk)
        uid = urlsafe_base64_encode(force_bytes(member.pk))
        owner = Client(server.url, timeout=HOLD_SECONDS)
        opened = owner.get(
            f"/accounts/password/reset/{uid}/{password_reset_tokens.make_token(member)}/"
        )
        reset_token = csrf(owner, opened.location)
        barrier = threading.Barrier(2, timeout=HOLD_SECONDS)

        def use_link(link=link, token=link_token, client=anonymous, barrier=barrier):
            barrier.wait()
            return client.post(link, {"csrfmiddlewaretoken": token, "password": DEFAULT_PASSWORD})

        def reset(where=opened.location, token=reset_token, client=owner, barrier=barrier):
            barrier.wait()
            fresh = {"new_password1": RESET_PASSWORD, "new_password2": RESET_PASSWORD}
            return client.post(where, {"csrfmiddlewaretoken": token, **fresh})

        with ThreadPoolExecutor(max_workers=2) as pool:
            linked, was_reset = pool.submit(use_link), pool.submit(reset)
            linked, was_reset = linked.result(HOLD_SECONDS), was_reset.result(HOLD_SECONDS)
        connections.close_all()
        link_won = linked.status == 302
        reset_won = was_reset.location == "/accounts/password/reset/complete/"
        rounds.append((link_won, reset_won))
        assert not (link_won and reset_won), rounds
        member = User.objects.get(pk=alice.pk)
        assert (member.email == new_email) == link_won
        assert member.check_password(RESET_PASSWORD) == reset_won
    print("link won, reset won per round:", rounds)
