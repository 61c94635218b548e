"""A suspended member's posts and comments are hidden like hidden content (attack report F7).

The story: `ben` follows `anna` and sees her post; a moderator suspends her; on
ben's very next request (a kept feed page or not) her post is gone from his
feed, her post's page is a 404 and her comments are gone from under others'
posts. Moderators and administrators still see her post's page and comments,
to review the suspension. Reinstated, everything shows again.
"""

import pytest
from django.test import Client

from accounts.models import User
from social import kept_pages
from social.templatetags import posts as cards
from tests.factories import CommentFactory, FollowFactory, PostFactory, UserFactory


@pytest.fixture(autouse=True)
def no_pages_from_other_tests():
    kept_pages._pages.clear()
    cards._cards.clear()


@pytest.fixture
def anna(roles):
    return UserFactory(username="anna")


@pytest.fixture
def ben(roles, anna):
    ben = UserFactory(username="ben")
    FollowFactory(follower=ben, followed=anna)
    return ben


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def suspend(moderator, member: User) -> None:
    reply = signed_in(moderator).post(
        f"/moderate/users/{member.username}/suspend/", {"reason": "spam account"}
    )
    assert reply.status_code == 302
    member.refresh_from_db()
    assert not member.is_active


def reinstate(moderator, member: User) -> None:
    reply = signed_in(moderator).post(
        f"/moderate/users/{member.username}/reinstate/", {"reason": "appeal upheld"}
    )
    assert reply.status_code == 302


def test_a_followers_kept_feed_drops_a_suspended_authors_posts_and_shows_them_reinstated(
    moderator, anna, ben
):
    PostFactory(author=anna, body="words of anna")
    feed = signed_in(ben)
    assert "words of anna" in feed.get("/").content.decode()
    kept = feed.get("/")
    assert kept.templates == [] and "words of anna" in kept.content.decode()  # the kept page
    suspend(moderator, anna)
    assert "words of anna" not in feed.get("/").content.decode()
    assert "words of anna" not in feed.get("/?before=999999").content.decode()
    reinstate(moderator, anna)
    assert "words of anna" in feed.get("/").content.decode()


def test_a_suspended_authors_posts_leave_the_feed_of_moderators_too(moderator, anna):
    FollowFactory(follower=moderator, followed=anna)
    PostFactory(author=anna, body="words of anna")
    suspend(moderator, anna)
    assert "words of anna" not in signed_in(moderator).get("/").content.decode()


def test_the_feed_pages_past_a_suspended_authors_many_newer_posts(moderator, anna, ben):
    carol = UserFactory(username="carol")
    FollowFactory(follower=ben, followed=carol)
    PostFactory.create_batch(3, author=carol, body="words of carol")
    PostFactory.create_batch(25, author=anna, body="words of anna")
    suspend(moderator, anna)
    page = signed_in(ben).get("/")
    shown = page.content.decode()
    assert "words of anna" not in shown
    assert len(page.context["page"].items) == 3 and page.context["page"].before is None


def test_a_page_of_the_feed_is_filled_with_active_authors_when_suspended_ones_wrote_last(
    moderator, ben
):
    # More followed members than a page: the page's oldest post is judged among the
    # active ones only, or the suspended ones' newer posts would push active ones out.
    active = UserFactory.create_batch(22)
    suspended = UserFactory.create_batch(3)
    for author in active + suspended:
        FollowFactory(follower=ben, followed=author)
        PostFactory(author=author, body=f"words of {author.username}")
    for author in suspended:
        suspend(moderator, author)
    feed = signed_in(ben)
    first = feed.get("/").context["page"]
    older = feed.get(f"/?before={first.before}").context["page"]
    shown = [post.author_id for post in first.items + older.items]
    assert len(first.items) == 20 and older.before is None
    assert sorted(shown) == sorted(author.pk for author in active)


def test_a_suspended_authors_post_page_is_a_404_to_members_and_visitors(
    moderator, administrator, anna, ben
):
    post = PostFactory(author=anna, body="words of anna")
    assert signed_in(ben).get(f"/posts/{post.pk}/").status_code == 200
    suspend(moderator, anna)
    assert signed_in(ben).get(f"/posts/{post.pk}/").status_code == 404
    assert Client().get(f"/posts/{post.pk}/").status_code == 404
    for reviewer in (moderator, administrator):
        page = signed_in(reviewer).get(f"/posts/{post.pk}/")
        assert page.status_code == 200 and "words of anna" in page.content.decode()
        assert "anna is suspended" in page.content.decode()
    reinstate(moderator, anna)
    assert signed_in(ben).get(f"/posts/{post.pk}/").status_code == 200


def test_nobody_comments_on_a_suspended_authors_post(moderator, anna, ben):
    post = PostFactory(author=anna)
    suspend(moderator, anna)
    reply = signed_in(ben).post(f"/posts/{post.pk}/", {"body": "hello anna"})
    assert reply.status_code == 404 and not post.comments.exists()


def test_a_suspended_members_comments_leave_others_posts_and_their_counts(moderator, anna, ben):
    post = PostFactory(author=ben, body="words of ben")
    CommentFactory(post=post, author=anna, body="comment of anna")
    CommentFactory(post=post, author=ben, body="comment of ben")
    feed = signed_in(ben)
    assert "2 comments" in feed.get("/").content.decode()
    assert "comment of anna" in feed.get(f"/posts/{post.pk}/").content.decode()
    suspend(moderator, anna)
    for viewer in (feed, Client()):
        page = viewer.get(f"/posts/{post.pk}/").content.decode()
        assert "comment of anna" not in page and "comment of ben" in page
        assert "1 comment<" in page
    assert "1 comment<" in feed.get("/").content.decode()  # the feed's card
    assert "1 comment<" in Client().get("/").content.decode()  # the landing's card
    review = signed_in(moderator).get(f"/posts/{post.pk}/").content.decode()
    assert "comment of anna" in review and "comment of ben" in review
    assert "badge-suspended" in review
    reinstate(moderator, anna)
    assert "comment of anna" in feed.get(f"/posts/{post.pk}/").content.decode()
    assert "2 comments" in feed.get("/").content.decode()


def test_a_suspended_members_kept_profile_is_a_404_to_members_and_marked_for_moderators(
    moderator, anna, ben
):
    PostFactory(author=anna, body="words of anna")
    member, reviewer = signed_in(ben), signed_in(moderator)
    for browser in (member, reviewer):
        browser.get("/users/anna/")
        kept = browser.get("/users/anna/")
        assert kept.templates == [] and "words of anna" in kept.content.decode()
    suspend(moderator, anna)
    assert member.get("/users/anna/").status_code == 404
    review = reviewer.get("/users/anna/").content.decode()
    assert "words of anna" in review and "badge-suspended" in review
    reinstate(moderator, anna)
    page = member.get("/users/anna/").content.decode()
    assert "words of anna" in page and "badge-suspended" not in page


@pytest.mark.parametrize("direction", ["followers", "following"])
def test_a_suspended_members_follow_lists_are_a_404_like_their_profile(
    moderator, administrator, anna, ben, direction
):
    """Attack report R3: a 200 where the profile answers 404 told anyone the name is
    suspended, and showed whom the member follows and who follows them."""
    FollowFactory(follower=anna, followed=ben)
    page = f"/users/anna/{direction}/"
    assert signed_in(ben).get(page).status_code == 200
    suspend(moderator, anna)
    assert Client().get(page).status_code == 404
    assert signed_in(ben).get(page).status_code == 404
    assert Client().get(f"/users/nobody-here/{direction}/").status_code == 404
    assert "ben" in signed_in(moderator).get(page).content.decode()
    assert signed_in(administrator).get(page).status_code == 200
    reinstate(moderator, anna)
    assert Client().get(page).status_code == 200
    assert "ben" in signed_in(ben).get(page).content.decode()


def test_a_suspended_member_leaves_others_follow_lists_for_members_and_visitors(
    moderator, anna, ben
):
    """Their name would link to a profile that is a 404 (attack report R3); moderators still
    see them listed. The counts are left as they are (hide.md: a join per follower)."""
    FollowFactory(follower=anna, followed=ben)  # anna follows ben, ben follows anna
    suspend(moderator, anna)
    for page in ("/users/ben/followers/", "/users/ben/following/"):
        assert "/users/anna/" not in Client().get(page).content.decode()
        assert "/users/anna/" not in signed_in(ben).get(page).content.decode()
        assert "/users/anna/" in signed_in(moderator).get(page).content.decode()
    reinstate(moderator, anna)
    assert "/users/anna/" in Client().get("/users/ben/followers/").content.decode()
