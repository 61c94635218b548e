"""`manage.py seed_roles`: idempotent roles and a set-based backfill."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError

from accounts.models import Permission, Role, User


def seed():
    out = StringIO()
    call_command("seed_roles", stdout=out)
    return out.getvalue()


def roleless_users(*emails):
    users = [User(username=email.split("@")[0], email=email) for email in emails]
    for user in users:
        user.avatar_hash = "x"
    # bulk_create skips save(), as a data import or old rows would.
    User.objects.bulk_create(users)


def test_on_an_empty_database_creates_three_roles_with_one_default(db):
    output = seed()
    assert set(Role.objects.values_list("name", flat=True)) == {
        "User",
        "Moderator",
        "Administrator",
    }
    assert list(Role.objects.filter(default=True).values_list("name", flat=True)) == ["User"]
    assert "created role 'Administrator'" in output


def test_second_run_changes_nothing_and_says_so(db):
    seed()
    before = list(Role.objects.values_list("pk", "name", "permissions", "default"))
    output = seed()
    assert "nothing changed" in output
    assert list(Role.objects.values_list("pk", "name", "permissions", "default")) == before


def test_repairs_edited_permissions_and_default(roles):
    Role.objects.filter(name="Moderator").update(permissions=Permission.FOLLOW)
    Role.objects.filter(name="User").update(default=False)
    Role.objects.filter(name="Moderator").update(default=True)
    output = seed()
    moderator = Role.objects.get(name="Moderator")
    assert (
        moderator.permissions
        == Permission.FOLLOW | Permission.COMMENT | Permission.WRITE | Permission.MODERATE
    )
    assert list(Role.objects.filter(default=True).values_list("name", flat=True)) == ["User"]
    assert "updated role 'Moderator'" in output
    assert "made 'User' the default role" in output


def test_keeps_extra_roles_an_operator_created(roles):
    Role.objects.create(name="Editor", permissions=Permission.WRITE)
    seed()
    assert Role.objects.filter(name="Editor", permissions=Permission.WRITE).exists()


def test_gives_roleless_members_the_default_role(roles, django_assert_max_num_queries):
    roleless_users("a@example.com", "b@example.com", "c@example.com")
    assert User.objects.filter(role__isnull=True).count() == 3
    out = StringIO()
    # Set-based: the query count does not grow with the number of members.
    with django_assert_max_num_queries(12):
        call_command("seed_roles", stdout=out)
    assert "gave 3 member(s) the default role" in out.getvalue()
    assert set(User.objects.values_list("role__name", flat=True)) == {"User"}


def test_gives_offbrand_admin_the_administrator_role_in_any_case(roles, settings):
    settings.OFFBRAND_ADMIN = "Boss@Example.com"
    roleless_users("boss@example.COM", "pleb@example.com")
    output = seed()
    assert User.objects.get(email="boss@example.COM").role.name == "Administrator"
    assert User.objects.get(email="pleb@example.com").role.name == "User"
    assert "gave 1 member(s) the Administrator role" in output


def test_does_not_touch_members_who_have_a_role(moderator, settings):
    settings.OFFBRAND_ADMIN = moderator.email
    seed()
    moderator.refresh_from_db()
    assert moderator.role.name == "Moderator"


def test_database_failure_is_a_clear_command_error(db, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("no such table: accounts_role")

    monkeypatch.setattr(Role.objects, "sync_table", broken)
    with pytest.raises(CommandError, match="Could not seed roles.*migrate"):
        call_command("seed_roles", stdout=StringIO())


def test_deploy_migrates_seeds_and_collects_static(db, settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    out = StringIO()
    call_command("deploy", stdout=out)
    assert Role.objects.count() == 3
    assert (tmp_path / "static" / "css" / "offbrand.css").exists()
    assert "Deploy finished." in out.getvalue()


def test_deploy_failure_is_a_clear_command_error(db, monkeypatch):
    from accounts.management.commands import deploy

    def failing(name, **kwargs):
        raise DatabaseError("could not connect to server")

    monkeypatch.setattr(deploy, "call_command", failing)
    with pytest.raises(CommandError, match="deploy stopped at migrate: could not connect"):
        call_command("deploy", stdout=StringIO())
