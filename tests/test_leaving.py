"""Leaving: downloading your data, and deleting your account."""

import json
import threading
import time

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import mail
from django.db import connection, connections
from django.test import Client

from accounts.flows import leaving
from accounts.flows.reauthentication import SESSION_KEY
from accounts.models import ModerationAction, User, UserSession
from tests.conftest import image_bytes
from tests.factories import UserFactory

EXPORT = "/accounts/export/"
DELETE = "/accounts/delete/"


def sign_in(password, username="alice", agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"):
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR="203.0.113.9")
    assert client.post("/accounts/login/", {"username": username, "password": password})["Location"]
    return client


def test_the_export_holds_the_members_data_and_no_secret(member, password, moderator):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = sign_in(password)
    client.post(
        "/accounts/profile/",
        {
            "first_name": "Alice",
            "about_me": "Hello",
            "avatar_upload": SimpleUploadedFile("a.png", image_bytes(), "image/png"),
        },
    )
    ModerationAction.objects.create(actor=moderator, member=member, kind="clear_about", reason="r")
    response = client.get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="offbrand-')
    data = json.loads(response.content)
    assert data["profile"]["username"] == "alice"
    assert data["profile"]["email"] == "alice@example.com"
    assert data["profile"]["about_me"] == "Hello"
    assert data["avatar"]["content_type"] == "image/webp"
    assert len(data["avatar"]["base64"]) > 100
    assert [(s["device"], s["network"], s["this_device"]) for s in data["sessions"]] == [
        ("Firefox on Linux", "203.0.113.0/24", True)
    ]
    # The member's own changes are on the record too (services.member_save_fields).
    assert [(r["what"], r["reason"]) for r in data["moderation_records"]] == [
        ("Cleared about me", "r"),
        ("Changed avatar", ""),
        ("Changed about me", ""),
    ]
    text = response.content.decode()
    member.refresh_from_db()
    assert member.password not in text
    row = UserSession.objects.get()
    assert row.key_hash not in text and row.sealed_key not in text
    assert client.cookies[settings.SESSION_COOKIE_NAME].value not in text


def test_the_export_is_for_signed_in_members_only(client, member):
    assert client.get(EXPORT)["Location"].startswith("/accounts/login/")


def test_deleting_needs_a_recent_password_check(member_client):
    session = member_client.session
    session[SESSION_KEY] = int(time.time()) - 3600
    session.save()
    response = member_client.post(DELETE, {"username": "alice"})
    assert response["Location"].startswith("/accounts/reauthenticate/?next=/accounts/delete/")
    assert User.objects.filter(username="alice").exists()


def test_a_wrong_confirmation_deletes_nothing(member_client):
    response = member_client.post(DELETE, {"username": "bob"})
    assert response.status_code == 200
    assert "That isn&#x27;t your username." in response.content.decode()
    assert User.objects.filter(username="alice").exists()


def test_deletion_signs_out_everywhere_and_keeps_moderation_records(
    member, password, moderator, administrator
):
    elsewhere = sign_in(password)
    elsewhere_key = elsewhere.cookies[settings.SESSION_COOKIE_NAME].value
    client = sign_in(password)
    ModerationAction.objects.create(actor=moderator, member=member, kind="suspend", reason="spam")
    mail.outbox.clear()

    response = client.post(DELETE, {"username": "Alice"})
    assert response.status_code == 302
    assert not User.objects.filter(username="alice").exists()
    assert not client.get("/").context["user"].is_authenticated
    assert not elsewhere.get("/").context["user"].is_authenticated
    assert not Session.objects.filter(session_key=elsewhere_key).exists()
    assert not UserSession.objects.exists()
    (notice,) = mail.outbox
    assert notice.to == ["alice@example.com"]
    assert notice.subject == "[Offbrand] Your account was deleted"

    record = ModerationAction.objects.get(kind="suspend")
    assert record.member is None and record.reason == "spam"
    deleted = ModerationAction.objects.get(kind="deleted")
    assert deleted.member is None and deleted.via == "own_pages"
    admin = Client()
    admin.force_login(administrator)
    page = admin.get("/admin/accounts/moderationaction/").content.decode()
    assert "(deleted member)" in page and "spam" in page


def test_deletion_removes_the_avatar_files(
    member_client, member, media_root, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    member_client.post(
        "/accounts/profile/",
        {"avatar_upload": SimpleUploadedFile("a.png", image_bytes(), "image/png")},
    )
    member.refresh_from_db()
    assert any(media_root.rglob("*.webp"))
    with django_capture_on_commit_callbacks(execute=True):
        member_client.post(DELETE, {"username": "alice"})
    assert not any(media_root.rglob("*.webp"))


def test_the_last_administrator_cannot_delete_themselves(administrator):
    client = Client()
    client.force_login(administrator)
    response = client.post(DELETE, {"username": "boss"})
    assert response.status_code == 200
    assert "You are the last administrator" in response.content.decode()
    assert User.objects.filter(username="boss").exists()


def test_an_administrator_with_a_colleague_can_leave(administrator, roles):
    UserFactory(username="other-boss", role=roles["Administrator"])
    client = Client()
    client.force_login(administrator)
    assert client.post(DELETE, {"username": "boss"}).status_code == 302
    assert not User.objects.filter(username="boss").exists()


def test_a_suspended_administrator_does_not_count_as_a_colleague(administrator, roles):
    UserFactory(username="gone-boss", role=roles["Administrator"], is_active=False)
    with pytest.raises(leaving.LastAdministrator):
        leaving.user_delete(user=administrator)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_last_administrators_deleting_at_once_leave_one():
    from accounts.models import Role

    Role.objects.create_missing()
    admin_role = Role.objects.administrator()
    admins = [UserFactory(username=f"boss{n}", role=admin_role) for n in range(2)]
    barrier = threading.Barrier(2, timeout=30)
    outcomes = [None, None]

    def delete(index):
        try:
            user = User.objects.select_related("role").get(pk=admins[index].pk)
            barrier.wait()
            leaving.user_delete(user=user)
            outcomes[index] = "deleted"
        except leaving.LastAdministrator:
            outcomes[index] = "refused"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=delete, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["deleted", "refused"]
    assert User.objects.filter(role=admin_role).count() == 1


def test_the_export_holds_the_members_posts_comments_and_follows(member_client, member, moderator):
    from social import services as social

    post = social.post_create(author=member, body="My first post")
    social.comment_create(post=post, author=member, body="And a comment")
    social.follow_create(follower=member, followed=moderator)
    social.content_hide(actor=moderator, content=post, reason="off topic")
    data = json.loads(member_client.get(EXPORT).content)["social"]
    assert [p["body"] for p in data["posts"]] == ["My first post"]
    assert data["posts"][0]["hidden_reason"] == "off topic"
    assert [c["body"] for c in data["comments"]] == ["And a comment"]
    assert data["following"] == ["mod"]
    assert [r["reason"] for r in data["content_moderation_records"]] == ["off topic"]


def test_content_moderation_records_outlive_the_member(member_client, member, moderator):
    from social import services as social
    from social.models import ContentAction

    post = social.post_create(author=member, body="Spam spam")
    social.content_hide(actor=moderator, content=post, reason="spam")
    ModerationAction.objects.create(actor=moderator, member=member, kind="suspend", reason="x")
    member_client.post(DELETE, {"username": "alice"})
    record = ContentAction.objects.get()
    assert record.member is None and record.reason == "spam"
    mod = Client()
    mod.force_login(moderator)
    page = mod.get("/moderate/record/")
    assert page.status_code == 200
    # The suspension, the deletion itself and the hidden post.
    assert page.content.decode().count("(deleted member)") == 3
