"""`manage.py seed_roles`: idempotent roles and a set-based backfill."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Permission, Role, User
from tests.factories import UserFactory


def seed():
    out = StringIO()
    call_command("seed_roles", stdout=out)
    return out.getvalue()


def roleless_users(*emails, confirmed=False):
    users = [
        User(username=email.split("@")[0], email=email, confirmed=confirmed) for email in emails
    ]
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


def test_keeps_edited_permissions_and_default_and_reports_them(roles):
    Role.objects.filter(name="Moderator").update(permissions=Permission.FOLLOW)
    Role.objects.filter(name="User").update(default=False)
    Role.objects.filter(name="Moderator").update(default=True)
    output = seed()
    moderator = Role.objects.get(name="Moderator")
    assert moderator.permissions == Permission.FOLLOW
    assert list(Role.objects.filter(default=True).values_list("name", flat=True)) == ["Moderator"]
    assert "role 'Moderator' differs from the role table: it grants FOLLOW" in output
    assert "the default role is 'Moderator'; the table says 'User'" in output
    assert "--reset" in output


def test_reset_restores_the_table_and_says_what_changed(roles):
    Role.objects.filter(name="Moderator").update(permissions=Permission.FOLLOW)
    Role.objects.filter(name="User").update(default=False)
    Role.objects.filter(name="Moderator").update(default=True)
    out = StringIO()
    call_command("seed_roles", "--reset", stdout=out)
    output = out.getvalue()
    moderator = Role.objects.get(name="Moderator")
    assert (
        moderator.permissions
        == Permission.FOLLOW | Permission.COMMENT | Permission.WRITE | Permission.MODERATE
    )
    assert list(Role.objects.filter(default=True).values_list("name", flat=True)) == ["User"]
    assert "reset role 'Moderator': FOLLOW -> FOLLOW, COMMENT, WRITE, MODERATE" in output
    assert "made 'User' the default role (was 'Moderator')" in output
    assert "differs" not in output


def test_creates_a_default_when_no_role_is_the_default_without_touching_permissions(roles):
    Role.objects.filter(name="User").update(default=False, permissions=Permission.FOLLOW)
    output = seed()
    user_role = Role.objects.get(name="User")
    assert user_role.default
    assert user_role.permissions == Permission.FOLLOW
    assert "made 'User' the default role" in output


def test_a_missing_role_is_created_and_the_edited_ones_kept(roles):
    Role.objects.filter(name="Administrator").delete()
    Role.objects.filter(name="Moderator").update(permissions=Permission.FOLLOW)
    output = seed()
    assert Role.objects.get(name="Administrator").permissions == Permission.all()
    assert Role.objects.get(name="Moderator").permissions == Permission.FOLLOW
    assert "created role 'Administrator'" in output


def test_a_sign_up_without_a_default_role_leaves_edited_roles_alone(roles):
    """The reported story: Moderator set to FOLLOW only, default unticked, then a sign-up."""
    Role.objects.filter(name="Moderator").update(permissions=Permission.FOLLOW)
    Role.objects.filter(name="User").update(default=False, permissions=Permission.COMMENT)
    newcomer = UserFactory()
    assert newcomer.role.name == "User"
    assert Role.objects.get(name="Moderator").permissions == Permission.FOLLOW
    assert Role.objects.get(name="User").permissions == Permission.COMMENT


def test_a_role_edited_in_the_admin_survives_deploy(client, administrator, settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    moderator = Role.objects.get(name="Moderator")
    client.force_login(administrator)
    response = client.post(
        f"/admin/accounts/role/{moderator.pk}/change/",
        {"name": "Moderator", "permission_flags": ["1", "8"]},
    )
    assert response.status_code == 302
    out = StringIO()
    call_command("deploy", stdout=out)
    moderator.refresh_from_db()
    assert moderator.permissions == Permission.FOLLOW | Permission.MODERATE
    assert "role 'Moderator' differs from the role table" in out.getvalue()


def test_keeps_extra_roles_an_operator_created(roles):
    Role.objects.create(name="Editor", permissions=Permission.WRITE)
    seed()
    assert Role.objects.filter(name="Editor", permissions=Permission.WRITE).exists()


def backfill_queries(count) -> int:
    """Queries `seed_roles` makes to give `count` role-less members the default role."""
    roleless_users(*(f"roleless{count}-{n}@example.com" for n in range(count)))
    with CaptureQueriesContext(connection) as queries:
        output = seed()
    assert f"gave {count} member(s) the default role" in output
    assert not User.objects.filter(role__isnull=True).exists()
    return len(queries)


def test_gives_roleless_members_the_default_role_set_based(roles):
    # Set-based: 500 role-less members cost no more queries than 10.
    ten = backfill_queries(10)
    five_hundred = backfill_queries(500)
    assert five_hundred == ten
    assert set(User.objects.values_list("role__name", flat=True)) == {"User"}


def test_gives_offbrand_admin_the_administrator_role_in_any_case(roles, settings):
    settings.OFFBRAND_ADMIN = "Boss@Example.com"
    roleless_users("boss@example.COM", "pleb@example.com", confirmed=True)
    output = seed()
    assert User.objects.get(email="boss@example.COM").role.name == "Administrator"
    assert User.objects.get(email="pleb@example.com").role.name == "User"
    assert "gave 1 member(s) the Administrator role" in output


def test_an_unconfirmed_offbrand_admin_address_gets_the_default_role(roles, settings):
    """Registering (or importing) the address proves nothing about its mailbox."""
    settings.OFFBRAND_ADMIN = "boss@example.com"
    roleless_users("boss@example.com")
    seed()
    assert User.objects.get(email="boss@example.com").role.name == "User"


def test_does_not_touch_members_who_have_a_role(moderator, settings):
    settings.OFFBRAND_ADMIN = moderator.email
    seed()
    moderator.refresh_from_db()
    assert moderator.role.name == "Moderator"


def test_database_failure_is_a_clear_command_error(db, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("no such table: accounts_role")

    monkeypatch.setattr(Role.objects, "create_missing", broken)
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


def test_the_landing_page_shows_the_roles_as_administrators_set_them(client, roles):
    Role.objects.filter(name="Moderator").update(
        permissions=Permission.FOLLOW | Permission.MODERATE
    )
    Role.objects.create(name="Editor", permissions=Permission.WRITE)
    html = client.get("/").content.decode()
    assert "follow, moderate" in html
    assert "Editor" in html
