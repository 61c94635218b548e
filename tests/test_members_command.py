"""`manage.py members`: synthetic members for load tests."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, OperationalError
from django.db.models import Count, F

from accounts.models import User, email_hash
from bench.management.commands import members as command
from social.models import Comment, Follow, Post
from tests.factories import CommentFactory, FollowFactory, PostFactory, UserFactory


@pytest.fixture(autouse=True)
def bench_installed(settings):
    """The command belongs to the benchmark's app, which only bench/settings.py installs."""
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "bench.apps.BenchConfig"]


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


def test_the_site_itself_has_no_members_command(settings):
    settings.INSTALLED_APPS = [a for a in settings.INSTALLED_APPS if not a.startswith("bench")]
    with pytest.raises(CommandError, match="Unknown command"):
        call_command("members", "remove")


def test_fill_builds_a_skewed_graph_with_posts_and_comments(roles):
    out, err = members("fill", "60", "--follows", "5", "--posts", "3", "--comments", "0.5")

    people = synthetic()
    follows = Follow.objects.filter(follower__in=people)
    assert follows.count() > 150
    assert not follows.filter(follower=F("followed")).exists()
    most = follows.values("followed").annotate(n=Count("pk")).order_by("-n").first()["n"]
    assert most >= 4 * (follows.count() / 60)  # a few members are far more followed
    posts = Post.objects.filter(author__in=people)
    assert posts.count() == 180
    assert Comment.objects.filter(post__in=posts).count() == 90
    newest_first = list(posts.order_by("-pk").values_list("created_at", flat=True)[:10])
    assert newest_first == sorted(newest_first, reverse=True)
    assert "180/180 posts" in err and "Created 180 posts" in out


def test_remove_takes_their_content_and_leaves_everyone_elses(roles, member):
    members("fill", "20", "--follows", "3", "--posts", "2", "--comments", "1")
    mine = PostFactory(author=member)
    CommentFactory(post=mine, author=synthetic().first())
    FollowFactory(follower=member, followed=synthetic().first())
    kept = CommentFactory(post=mine, author=member)

    members("remove")

    assert not synthetic().exists()
    assert list(Post.objects.all()) == [mine]
    assert list(Comment.objects.all()) == [kept]
    assert not Follow.objects.exists()


def test_negative_content_options_are_refused(roles):
    with pytest.raises(CommandError, match="cannot be negative"):
        members("fill", "3", "--posts", "-1")


@pytest.mark.postgres
def test_large_fill_rebuilds_every_index_and_constraint_it_dropped(roles, monkeypatch):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")

    def definitions():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indrelid::regclass::text LIKE 'social_%' ORDER BY 1"
            )
            return cursor.fetchall()

    before = definitions()
    monkeypatch.setattr(command, "REBUILD_INDEXES_FROM", 1)
    members("fill", "30", "--follows", "3", "--posts", "2", "--comments", "1")
    assert definitions() == before
    assert Post.objects.filter(author__in=synthetic()).count() == 60
    with pytest.raises(IntegrityError):
        follow = Follow.objects.filter(follower__in=synthetic()).first()
        Follow.objects.create(follower_id=follow.follower_id, followed_id=follow.followed_id)


def test_a_statement_timeout_says_how_to_lift_it(roles, monkeypatch):
    def cancelled(self, *args, **kwargs):
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr(command.Command, "fill", cancelled)
    with pytest.raises(
        CommandError, match="DATABASE_STATEMENT_TIMEOUT=0 DATABASE_CLIENT_TIMEOUT=0"
    ):
        members("fill", "3")
