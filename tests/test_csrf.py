"""Every state-changing POST is refused without a CSRF token, and changes nothing.

Each client holds a well-formed CSRF cookie, so the refusal is for the missing
token itself, not for a missing cookie.
"""

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import EmailChangeRequest, ModerationAction, User
from accounts.tokens import (
    make_confirmation_token,
    make_email_change_token,
    password_reset_tokens,
)
from offbrand import views as site_views
from social.models import Comment, Follow, Post
from tests.factories import CommentFactory, PostFactory, UserFactory


def csrf_client(user=None) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.CSRF_COOKIE_NAME] = "a" * 32
    if user is not None:
        client.force_login(user)
    return client


def assert_refused(response):
    assert response.status_code == 403
    assert mail.outbox == []


def test_register_without_token_is_refused(roles):
    before = User.objects.count()
    response = csrf_client().post(
        "/accounts/register/",
        {
            "email": "new@example.com",
            "username": "newcomer",
            "password1": "a long unusual passphrase",
            "password2": "a long unusual passphrase",
        },
    )
    assert_refused(response)
    assert User.objects.count() == before


def test_sign_in_without_token_is_refused(member, password):
    client = csrf_client()
    response = client.post("/accounts/login/", {"username": "alice", "password": password})
    assert_refused(response)
    assert "_auth_user_id" not in client.session
    member.refresh_from_db()
    assert member.last_login is None


def test_sign_out_without_token_is_refused(member):
    client = csrf_client(member)
    assert_refused(client.post("/accounts/logout/"))
    assert client.session["_auth_user_id"] == str(member.pk)
    assert client.get("/accounts/profile/").status_code == 200


def test_resending_the_confirmation_without_token_is_refused(unconfirmed):
    assert_refused(csrf_client(unconfirmed).post("/accounts/confirm/resend/"))


def test_confirming_an_address_without_token_is_refused(unconfirmed):
    token = make_confirmation_token(unconfirmed)
    response = csrf_client().post(f"/accounts/confirm/{token}/")
    assert_refused(response)
    unconfirmed.refresh_from_db()
    assert unconfirmed.confirmed is False


def test_requesting_an_email_change_without_token_is_refused(member, password):
    response = csrf_client(member).post(
        "/accounts/email/change/", {"new_email": "alice@new.example", "password": password}
    )
    assert_refused(response)
    assert not EmailChangeRequest.objects.exists()


def test_confirming_an_email_change_without_token_is_refused(member):
    change = EmailChangeRequest.objects.create(user=member, new_email="alice@new.example")
    token = make_email_change_token(change)
    response = csrf_client().post(f"/accounts/email/confirm/{token}/")
    assert_refused(response)
    member.refresh_from_db()
    assert member.email == "alice@example.com"
    assert EmailChangeRequest.objects.filter(pk=change.pk).exists()


def test_changing_the_password_without_token_is_refused(member, password):
    response = csrf_client(member).post(
        "/accounts/password/change/",
        {
            "old_password": password,
            "new_password1": "another long passphrase",
            "new_password2": "another long passphrase",
        },
    )
    assert_refused(response)
    member.refresh_from_db()
    assert member.check_password(password)


def test_asking_for_a_password_reset_without_token_is_refused(member):
    response = csrf_client().post("/accounts/password/reset/", {"email": "alice@example.com"})
    assert_refused(response)


def test_setting_a_new_password_from_a_reset_link_without_token_is_refused(member, password):
    uid = urlsafe_base64_encode(force_bytes(member.pk))
    token = password_reset_tokens.make_token(member)
    data = {"new_password1": "another long passphrase", "new_password2": "another long passphrase"}
    client = csrf_client()
    assert_refused(client.post(f"/accounts/password/reset/{uid}/{token}/", data))
    assert_refused(client.post(f"/accounts/password/reset/{uid}/set-password/", data))
    member.refresh_from_db()
    assert member.check_password(password)


def test_editing_ones_profile_without_token_is_refused(member):
    response = csrf_client(member).post(
        "/accounts/profile/", {"first_name": "Mallory", "last_name": "", "about_me": "pwned"}
    )
    assert_refused(response)
    member.refresh_from_db()
    assert (member.first_name, member.about_me) == ("", "")


def test_an_administrators_member_edit_without_token_is_refused(roles, member, administrator):
    response = csrf_client(administrator).post(
        "/users/alice/edit/",
        {
            "username": "mallory",
            "email": "mallory@example.com",
            "role": roles["Administrator"].pk,
            "confirmed": "on",
            "is_active": "on",
        },
    )
    assert_refused(response)
    member.refresh_from_db()
    assert (member.username, member.email, member.role_id) == (
        "alice",
        "alice@example.com",
        roles["User"].pk,
    )


@pytest.mark.parametrize("action", ["suspend", "clear_about", "clear_avatar"])
def test_moderation_actions_without_token_are_refused(member, moderator, action):
    member.about_me = "hello"
    member.save()
    response = csrf_client(moderator).post(f"/moderate/users/alice/{action}/", {"reason": "spam"})
    assert_refused(response)
    member.refresh_from_db()
    assert member.is_active
    assert member.about_me == "hello"
    assert not ModerationAction.objects.exists()


def test_reinstating_without_token_is_refused(member, moderator):
    member.is_active = False
    member.save()
    assert_refused(csrf_client(moderator).post("/moderate/users/alice/reinstate/"))
    member.refresh_from_db()
    assert not member.is_active


def test_the_admin_refuses_a_change_without_token(member, administrator):
    response = csrf_client(administrator).post(
        f"/admin/accounts/user/{member.pk}/change/", {"username": "mallory"}
    )
    assert_refused(response)
    member.refresh_from_db()
    assert member.username == "alice"


def test_with_the_token_the_same_post_goes_through(member):
    """The control: the refusals above are about the token, nothing else."""
    client = csrf_client(member)
    response = client.post(
        "/accounts/profile/",
        {"first_name": "Alice", "last_name": "", "about_me": "hi"},
        headers={"X-CSRFToken": "a" * 32},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.first_name == "Alice"


def test_the_error_page_never_shows_a_traceback(db, client, monkeypatch):
    def explode(self, request, *args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(site_views.IndexView, "get", explode)
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "Traceback" not in body
    assert "RuntimeError" not in body
    assert "secret internals" not in body


def test_a_file_sent_to_a_page_that_takes_none_is_refused_before_it_is_stored(
    client, db, monkeypatch
):
    """300 MB to the sign-in page would be streamed to a temporary file."""
    from django.core.files import uploadhandler

    stored = []
    for handler in (
        uploadhandler.MemoryFileUploadHandler,
        uploadhandler.TemporaryFileUploadHandler,
    ):
        original = handler.receive_data_chunk
        monkeypatch.setattr(
            handler,
            "receive_data_chunk",
            lambda self, raw, start, original=original: (
                stored.append(len(raw)) or original(self, raw, start)
            ),
        )
    big = SimpleUploadedFile("big.bin", b"\0" * (3 * 1024 * 1024))
    response = client.post("/accounts/login/", {"username": "x", "password": "y", "f": big})
    assert response.status_code == 413
    assert stored == []


def test_ending_a_session_without_token_is_refused(member, password):
    from accounts.models import UserSession

    other = Client()
    other.post("/accounts/login/", {"username": "alice", "password": password})
    mail.outbox.clear()
    session = UserSession.objects.get()
    client = csrf_client(member)
    assert_refused(client.post(f"/accounts/sessions/{session.pk}/end/"))
    assert_refused(client.post("/accounts/sessions/end-others/"))
    assert other.get("/").context["user"] == member


def test_deleting_the_account_without_token_is_refused(member):
    assert_refused(csrf_client(member).post("/accounts/delete/", {"username": "alice"}))
    assert User.objects.filter(pk=member.pk).exists()


def test_reauthenticating_without_token_is_refused(member, password):
    client = csrf_client(member)
    assert_refused(client.post("/accounts/reauthenticate/", {"password": password}))


def test_removing_a_members_factors_without_token_is_refused(administrator, member):
    from accounts.mfa.services import has_factors
    from tests.mfa import enable_totp

    enable_totp(member)
    response = csrf_client(administrator).post("/users/alice/factors/remove/", {"reason": "x"})
    assert_refused(response)
    assert has_factors(member)


def test_social_actions_without_token_are_refused(member, moderator, roles):
    bob = UserFactory(username="bob")
    own = PostFactory(author=member, body="mine")
    theirs = PostFactory(author=bob)
    comment = CommentFactory(post=own, author=member)
    client = csrf_client(member)
    for path, data in [
        ("/posts/new/", {"body": "forged"}),
        (f"/posts/{theirs.pk}/", {"body": "forged comment"}),
        (f"/posts/{own.pk}/edit/", {"body": "forged edit"}),
        (f"/posts/{own.pk}/delete/", {}),
        (f"/comments/{comment.pk}/delete/", {}),
        ("/users/bob/follow/", {}),
        ("/users/bob/unfollow/", {}),
    ]:
        assert_refused(client.post(path, data))
    assert_refused(csrf_client(moderator).post(f"/moderate/posts/{own.pk}/hide/", {"reason": "x"}))
    assert Post.objects.count() == 2 and Post.objects.get(pk=own.pk).body == "mine"
    assert Comment.objects.count() == 1 and not Follow.objects.exists()
    assert not Post.objects.get(pk=own.pk).hidden


def test_an_upload_declared_larger_than_the_limit_is_refused_unread(member_client, settings):
    settings.OFFBRAND_AVATAR_MAX_BYTES = 100 * 1024
    big = SimpleUploadedFile("big.jpg", b"\xff" * (300 * 1024), content_type="image/jpeg")
    response = member_client.post("/accounts/profile/", {"avatar_upload": big})
    assert response.status_code == 413
