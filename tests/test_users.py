"""The User model: roles on creation, unique identities, avatars, `can`."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction

from accounts.models import AnonymousVisitor, Permission, Role, User
from tests.factories import UserFactory


def test_new_user_gets_the_default_role(roles):
    user = UserFactory()
    assert user.role == roles["User"]
    assert user.can(Permission.WRITE)
    assert not user.can(Permission.MODERATE)


def test_offbrand_admin_email_gets_administrator_ignoring_case(roles, settings):
    settings.OFFBRAND_ADMIN = "Boss@Offbrand.co"
    user = UserFactory(email="boss@OFFBRAND.CO")
    assert user.role == roles["Administrator"]
    assert user.is_administrator()


def test_explicit_role_is_kept(roles, settings):
    settings.OFFBRAND_ADMIN = "boss@offbrand.co"
    user = UserFactory(email="boss@offbrand.co", role=roles["User"])
    assert user.role == roles["User"]


def test_first_user_on_an_empty_database_seeds_the_roles(db):
    assert not Role.objects.exists()
    user = UserFactory()
    assert user.role.name == "User"
    assert Role.objects.count() == 3


def test_createsuperuser_yields_an_administrator(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long enough password 42")
    call_command(
        "createsuperuser",
        "--noinput",
        "--username=root",
        "--email=root@example.com",
        verbosity=0,
    )
    user = User.objects.get(username="root")
    assert user.is_administrator()
    assert user.confirmed


def test_email_is_unique_ignoring_case_in_the_database(roles):
    UserFactory(email="Alice@Example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(email="alice@example.COM")


def test_username_is_unique_ignoring_case_in_the_database(roles):
    UserFactory(username="Alice")
    with pytest.raises(IntegrityError), transaction.atomic():
        UserFactory(username="aLICE")


def test_full_clean_reports_a_case_insensitive_duplicate(roles):
    UserFactory(username="alice", email="alice@example.com")
    twin = User(username="ALICE", email="ALICE@example.com", password="x")
    with pytest.raises(ValidationError) as raised:
        twin.full_clean()
    messages = str(raised.value)
    assert "username already exists" in messages
    assert "email address already exists" in messages


def test_email_is_required(roles):
    with pytest.raises(ValidationError) as raised:
        User(username="nobody", email="", password="x").full_clean()
    assert "email" in raised.value.message_dict


def test_avatar_hash_is_sha256_of_trimmed_lowercased_email(roles):
    user = UserFactory(email="  Alice@Example.COM ")
    assert user.avatar_hash == hashlib.sha256(b"alice@example.com").hexdigest()


def test_avatar_hash_follows_email_changes(roles):
    user = UserFactory(email="old@example.com")
    user.email = "new@example.com"
    user.save(update_fields=["email"])
    user.refresh_from_db()
    assert user.avatar_hash == hashlib.sha256(b"new@example.com").hexdigest()


def test_gravatar_url_is_secure_and_carries_the_options(roles):
    user = UserFactory(email="alice@example.com")
    url = user.gravatar(size=256, default="retro", rating="pg")
    assert url.startswith(f"https://www.gravatar.com/avatar/{user.avatar_hash}?")
    assert "s=256" in url and "d=retro" in url and "r=pg" in url
    assert "s=100" in user.gravatar() and "d=identicon" in user.gravatar()


def test_role_cannot_be_deleted_while_members_hold_it(member):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        member.role.delete()


def test_inactive_member_can_do_nothing(member):
    member.is_active = False
    assert not member.can(Permission.FOLLOW)


@pytest.mark.parametrize("flag", list(Permission))
def test_anonymous_visitor_can_do_nothing(flag):
    visitor = AnonymousVisitor()
    assert visitor.can(flag) is False
    assert visitor.is_administrator() is False


def test_anonymous_request_user_answers_can_in_views(client, db):
    response = client.get("/")
    user = response.wsgi_request.user
    assert user.is_authenticated is False
    assert user.can(Permission.FOLLOW) is False
    assert user.is_administrator() is False
