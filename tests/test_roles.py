"""Permission flags and role arithmetic."""

import pytest
from django.db import IntegrityError

from accounts.models import MEMBER, ROLE_TABLE, Permission, Role


def test_permission_flags_have_the_documented_values():
    assert [(flag.name, flag.value) for flag in Permission] == [
        ("FOLLOW", 1),
        ("COMMENT", 2),
        ("WRITE", 4),
        ("MODERATE", 8),
        ("ADMIN", 16),
    ]


def test_new_role_has_no_permissions():
    role = Role(name="Guest")
    assert role.permissions == 0
    assert not any(role.grants(flag) for flag in Permission)


@pytest.mark.parametrize("flag", list(Permission))
def test_add_permission_twice_sets_the_bit_once(flag):
    role = Role(name="r")
    role.add_permission(flag)
    role.add_permission(flag)
    assert role.permissions == flag.value
    assert role.grants(flag)


@pytest.mark.parametrize("flag", list(Permission))
def test_remove_absent_permission_changes_nothing(flag):
    others = Permission.all() & ~flag
    role = Role(name="r", permissions=others)
    role.remove_permission(flag)
    assert role.permissions == others
    assert not role.grants(flag)


def test_remove_present_permission_clears_only_that_bit():
    role = Role(name="r", permissions=MEMBER)
    role.remove_permission(Permission.COMMENT)
    assert role.permissions == Permission.FOLLOW | Permission.WRITE


def test_reset_permissions_clears_everything():
    role = Role(name="r", permissions=Permission.all())
    role.reset_permissions()
    assert role.permissions == 0


def test_grants_needs_every_bit_of_a_combined_flag():
    role = Role(name="r", permissions=Permission.FOLLOW | Permission.WRITE)
    assert role.grants(Permission.FOLLOW | Permission.WRITE)
    assert not role.grants(Permission.FOLLOW | Permission.MODERATE)


EXPECTED = {
    "User": {"FOLLOW", "COMMENT", "WRITE"},
    "Moderator": {"FOLLOW", "COMMENT", "WRITE", "MODERATE"},
    "Administrator": {"FOLLOW", "COMMENT", "WRITE", "MODERATE", "ADMIN"},
}


@pytest.mark.parametrize("name", EXPECTED)
@pytest.mark.parametrize("flag", list(Permission))
def test_each_seeded_role_grants_exactly_its_flags(roles, name, flag):
    assert roles[name].grants(flag) == (flag.name in EXPECTED[name])


def test_role_table_has_exactly_one_default():
    assert [spec.name for spec in ROLE_TABLE if spec.default] == ["User"]


def test_database_refuses_a_second_default_role(roles):
    with pytest.raises(IntegrityError):
        Role.objects.create(name="Other", default=True)


def test_database_refuses_negative_permissions(db):
    with pytest.raises(IntegrityError):
        Role.objects.create(name="Broken", permissions=-1)
