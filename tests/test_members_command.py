"""`manage.py members`: synthetic members for load tests."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User, email_hash
from tests.factories import UserFactory


def members(*args: str) -> tuple[str, str]:
    """Run the command; return what it wrote to stdout and stderr."""
    out, err = StringIO(), StringIO()
    call_command("members", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def synthetic():
    return User.objects.filter(username__startswith="synth-")


def test_fill_creates_confirmed_members_with_default_role_and_unique_emails(roles):
    members("fill", "50")

    assert synthetic().count() == 50
    assert set(synthetic().values_list("role", flat=True)) == {roles["User"].pk}
    emails = {email.lower() for email in synthetic().values_list("email", flat=True)}
    assert len(emails) == 50
    seventh = User.objects.get(username="synth-7")
    assert seventh.email == "Synth-7@Bench.invalid"
    assert seventh.avatar_hash == email_hash("synth-7@bench.invalid")
    assert seventh.confirmed and seventh.is_active
    assert not (seventh.is_staff or seventh.is_superuser)
    assert seventh.last_login is None and seventh.date_joined is not None


def test_fill_shows_progress_and_a_total(roles):
    out, err = members("fill", "30", "--batch", "10")

    assert "\r[##########" in err and "10/30 members" in err and "30/30 members" in err
    assert "Created 30 synthetic members (synth-1..synth-30)" in out


def test_synthetic_member_signs_in_with_the_shared_password(client, roles):
    members("fill", "7")

    for login in ("synth-1@bench.invalid", "SYNTH-7@bench.invalid", "synth-3"):
        response = client.post(
            "/accounts/login/", {"username": login, "password": "synthetic-password"}
        )
        assert response.status_code == 302, login
        client.logout()


def test_second_fill_continues_numbering(roles):
    members("fill", "5")
    members("fill", "5")

    expected = {f"synth-{n}" for n in range(1, 11)}
    assert set(synthetic().values_list("username", flat=True)) == expected


def test_without_role_leaves_role_null_for_seed_roles_to_fill(roles):
    members("fill", "5", "--without-role")

    assert synthetic().filter(role__isnull=True).count() == 5
    call_command("seed_roles", stdout=StringIO())
    assert set(synthetic().values_list("role", flat=True)) == {roles["User"].pk}


def test_remove_deletes_synthetic_members_only(roles, member):
    lookalike = UserFactory(username="synth-pop", email="synth-pop@example.com")
    members("fill", "20")
    Group.objects.create(name="testers").user_set.add(User.objects.get(username="synth-1"))

    out, _ = members("remove")

    assert "Removed 20 synthetic members" in out
    assert not synthetic().exclude(pk=lookalike.pk).exists()
    assert User.objects.filter(pk__in=[member.pk, lookalike.pk]).count() == 2
    assert not Group.objects.get(name="testers").user_set.exists()


@pytest.mark.parametrize("args", [("0",), ("-5",), ("many",), ("10", "--batch", "0")], ids=str)
def test_fill_refuses_a_count_that_is_not_positive(roles, args):
    with pytest.raises(CommandError, match="must be a positive whole number"):
        members("fill", *args)
    assert not synthetic().exists()


def test_an_action_is_required(db):
    with pytest.raises(CommandError, match="required"):
        members()
