"""Follows, posts, comments and content moderation as services: the rules per flag and role."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Permission
from social import services
from social.models import Comment, ContentAction, Follow, Post
from tests.factories import CommentFactory, PostFactory, UserFactory


@pytest.fixture
def bob(roles):
    return UserFactory(username="bob")


def without(role, flag):
    role.remove_permission(flag)
    role.save(update_fields=["permissions"])


# --- follows -----------------------------------------------------------------


def test_follow_and_unfollow(member, bob):
    assert services.follow_create(follower=member, followed=bob) is True
    assert services.follow_create(follower=member, followed=bob) is False
    assert Follow.objects.filter(follower=member, followed=bob).count() == 1
    assert services.follow_delete(follower=member, followed=bob) is True
    assert services.follow_delete(follower=member, followed=bob) is False


def test_cannot_follow_yourself(member):
    with pytest.raises(ValidationError, match="yourself"):
        services.follow_create(follower=member, followed=member)
    with pytest.raises(IntegrityError), transaction.atomic():
        Follow.objects.create(follower=member, followed=member)


def test_following_a_deleted_member_says_so(member, bob):
    bob_copy = type(bob).objects.get(pk=bob.pk)
    bob.delete()
    with pytest.raises(ValidationError, match="no longer exists"):
        services.follow_create(follower=member, followed=bob_copy)


def test_follow_needs_the_follow_flag(member, bob, roles):
    without(roles["User"], Permission.FOLLOW)
    member.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.follow_create(follower=member, followed=bob)


def test_suspended_member_acts_on_nothing(member, bob):
    post = PostFactory(author=bob)
    member.is_active = False
    member.save(update_fields=["is_active"])
    own = PostFactory(author=member)
    for act in (
        lambda: services.follow_create(follower=member, followed=bob),
        lambda: services.post_create(author=member, body="hi"),
        lambda: services.comment_create(post=post, author=member, body="hi"),
        lambda: services.post_update(post=own, editor=member, body="changed"),
        lambda: services.post_delete(post=own, actor=member),
    ):
        with pytest.raises(PermissionDenied):
            act()


# --- posts -------------------------------------------------------------------


def test_post_create_edit_delete(member):
    post = services.post_create(author=member, body="  Hello *world*  ")
    assert post.body == "Hello *world*" and post.edited_at is None
    services.post_update(post=post, editor=member, body="Hello again")
    post.refresh_from_db()
    assert post.body == "Hello again" and post.edited_at is not None
    services.post_delete(post=post, actor=member)
    assert not Post.objects.filter(pk=post.pk).exists()


def test_unchanged_edit_is_not_marked_edited(member):
    post = services.post_create(author=member, body="same")
    services.post_update(post=post, editor=member, body="same ")
    post.refresh_from_db()
    assert post.edited_at is None


@pytest.mark.parametrize(
    ("body", "message"), [("", "empty"), ("   ", "empty"), ("x" * 2001, "2,001 characters")]
)
def test_bad_post_bodies_are_refused_with_a_message(member, body, message):
    with pytest.raises(ValidationError, match=message):
        services.post_create(author=member, body=body)
    assert not Post.objects.exists()


def test_post_of_2000_characters_is_accepted(member):
    assert len(services.post_create(author=member, body="x" * 2000).body) == 2000


def test_only_the_author_edits_or_deletes_a_post(member, bob, moderator):
    post = PostFactory(author=bob)
    for actor in (member, moderator):
        with pytest.raises(PermissionDenied):
            services.post_update(post=post, editor=actor, body="mine now")
        with pytest.raises(PermissionDenied):
            services.post_delete(post=post, actor=actor)


def test_edit_writes_only_body_and_edited_at(member, django_assert_num_queries):
    post = services.post_create(author=member, body="before")
    with django_assert_num_queries(1) as captured:
        services.post_update(post=post, editor=member, body="after")
    sql = captured.captured_queries[0]["sql"]
    assert '"hidden"' not in sql and '"author_id"' not in sql


def test_post_needs_the_write_flag(member, roles):
    without(roles["User"], Permission.WRITE)
    member.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.post_create(author=member, body="hi")


# --- comments ----------------------------------------------------------------


def test_comment_and_delete_own(member, bob):
    post = PostFactory(author=bob)
    comment = services.comment_create(post=post, author=member, body="Nice")
    services.comment_delete(comment=comment, actor=member)
    assert not Comment.objects.exists()


def test_post_author_may_delete_comments_on_it_others_may_not(member, bob, roles):
    post = PostFactory(author=bob)
    comment = CommentFactory(post=post, author=member)
    stranger = UserFactory()
    with pytest.raises(PermissionDenied):
        services.comment_delete(comment=comment, actor=stranger)
    services.comment_delete(comment=comment, actor=bob)
    assert not Comment.objects.exists()


def test_comment_length_and_flag(member, bob, roles):
    post = PostFactory(author=bob)
    with pytest.raises(ValidationError, match="1,001 characters"):
        services.comment_create(post=post, author=member, body="y" * 1001)
    without(roles["User"], Permission.COMMENT)
    member.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.comment_create(post=post, author=member, body="hi")


def test_comment_on_a_deleted_post_says_so(member, bob):
    post = PostFactory(author=bob)
    Post.objects.filter(pk=post.pk).delete()
    with pytest.raises(ValidationError, match="no longer exists"):
        services.comment_create(post=post, author=member, body="hello?")


# --- moderation --------------------------------------------------------------


def test_moderator_hides_and_restores_with_a_reason_and_it_is_recorded(moderator, bob):
    post = PostFactory(author=bob)
    services.content_hide(actor=moderator, content=post, reason="Spam link")
    post.refresh_from_db()
    assert post.hidden and post.hidden_reason == "Spam link" and post.hidden_by == moderator
    services.content_restore(actor=moderator, content=post)
    post.refresh_from_db()
    assert not post.hidden and post.hidden_reason == ""
    kinds = list(ContentAction.objects.order_by("pk").values_list("kind", "member", "post"))
    assert kinds == [("hide", bob.pk, post.pk), ("restore", bob.pk, post.pk)]


def test_hiding_needs_a_reason(moderator, bob):
    comment = CommentFactory(author=bob)
    with pytest.raises(ValidationError, match="Say why"):
        services.content_hide(actor=moderator, content=comment, reason=" ")
    comment.refresh_from_db()
    assert not comment.hidden


def test_a_reason_longer_than_the_column_is_refused_with_a_message(moderator, bob):
    # Callers other than the site's form (the admin's action bar) pass it unchecked;
    # PostgreSQL would refuse the UPDATE with a DataError (a 500).
    post = PostFactory(author=bob)
    with pytest.raises(ValidationError, match="the most is 500"):
        services.content_hide(actor=moderator, content=post, reason="x" * 501)
    post.refresh_from_db()
    assert not post.hidden and not ContentAction.objects.exists()


def test_hiding_twice_records_once(moderator, bob):
    comment = CommentFactory(author=bob)
    services.content_hide(actor=moderator, content=comment, reason="rude")
    stale = Comment.objects.get(pk=comment.pk)
    stale.hidden = False  # a second moderator's page, loaded before the first acted
    with pytest.raises(ValidationError, match="Already hidden"):
        services.content_hide(actor=moderator, content=stale, reason="also rude")
    assert ContentAction.objects.count() == 1
    comment.refresh_from_db()
    assert comment.hidden_reason == "rude"


def test_members_cannot_hide(member, bob):
    with pytest.raises(PermissionDenied):
        services.content_hide(actor=member, content=PostFactory(author=bob), reason="mine")


def test_moderator_cannot_hide_an_administrators_content(moderator, administrator):
    post = PostFactory(author=administrator)
    with pytest.raises(PermissionDenied):
        services.content_hide(actor=moderator, content=post, reason="no")
    other_admin = UserFactory(role=administrator.role)
    services.content_hide(actor=other_admin, content=post, reason="an administrator may")
    post.refresh_from_db()
    assert post.hidden


def test_deleting_a_member_deletes_their_content_and_keeps_the_record(moderator, bob, member):
    post = PostFactory(author=bob)
    CommentFactory(post=post, author=member)
    services.follow_create(follower=member, followed=bob)
    services.content_hide(actor=moderator, content=post, reason="spam")
    bob.delete()
    assert not Post.objects.exists() and not Comment.objects.exists()
    assert not Follow.objects.exists()
    # The moderation record stays, the member shown as deleted (issue 13).
    record = ContentAction.objects.get()
    assert record.member is None and record.post is None and record.reason == "spam"
