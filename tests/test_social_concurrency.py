"""Races on members' content, on PostgreSQL: simultaneous transactions, held at a barrier.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/offbrand \\
        .venv/bin/pytest -q tests/test_social_concurrency.py
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from accounts.models import Role, User
from social import services
from social.models import Comment, ContentAction, Follow
from tests.factories import CommentFactory, UserFactory
from tests.test_concurrency import run_together

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]

THREADS = 8


def test_moderators_hiding_one_comment_at_once_record_it_once():
    Role.objects.create_missing()
    moderator_role = Role.objects.get(name="Moderator")
    moderators = [UserFactory(role=moderator_role) for _ in range(THREADS)]
    comment = CommentFactory()

    def hide(index, barrier):
        actor = User.objects.select_related("role").get(pk=moderators[index].pk)
        target = Comment.objects.select_related("author__role").get(pk=comment.pk)
        barrier.wait()
        try:
            services.content_hide(actor=actor, content=target, reason=f"reason {index}")
        except ValidationError as error:
            return error.messages[0]
        return "hidden"

    outcomes = run_together(THREADS, hide)

    assert sorted(map(str, outcomes)) == ["Already hidden."] * (THREADS - 1) + ["hidden"]
    assert ContentAction.objects.count() == 1
    comment.refresh_from_db()
    winner = ContentAction.objects.get()
    assert comment.hidden and comment.hidden_reason == winner.reason


def test_a_double_clicked_follow_makes_one_follow_and_no_error():
    Role.objects.create_missing()
    fan, star = UserFactory(), UserFactory()

    def follow(index, barrier):
        follower = User.objects.select_related("role").get(pk=fan.pk)
        barrier.wait()
        return services.follow_create(follower=follower, followed=star)

    outcomes = run_together(THREADS, follow)

    assert sorted(outcomes) == [False] * (THREADS - 1) + [True], outcomes
    assert Follow.objects.filter(follower=fan, followed=star).count() == 1
