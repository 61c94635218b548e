"""Post cards in lists are remembered (`social/templatetags/posts.py`): never a stale one."""

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory

from accounts.models import Role, User
from offbrand.prepared import PreparedQuerySet
from social import selectors, services
from social.forms import PostForm
from social.templatetags import posts as cards
from tests.conftest import posts_and_counts
from tests.factories import CommentFactory, FollowFactory, PostFactory, UserFactory


@pytest.fixture(autouse=True)
def no_cards_from_other_tests():
    cards._cards.clear()
    cards._blank_forms.clear()


@pytest.fixture
def bob(roles):
    return UserFactory(username="bob")


@pytest.fixture
def feed(member_client, member, bob):
    FollowFactory(follower=member, followed=bob)
    return lambda: member_client.get("/").content.decode()


def posts_section(page: str) -> str:
    return page[page.index('<section aria-label="Posts">') :].split("</section>")[0]


def test_a_card_is_rendered_once_then_remembered(feed, bob):
    PostFactory.create_batch(3, author=bob)
    first = posts_section(feed())
    assert len(cards._cards) == 3
    assert posts_section(feed()) == first
    assert len(cards._cards) == 3


def test_an_edited_post_shows_its_new_text_at_once(feed, bob):
    post = services.post_create(author=bob, body="before the edit")
    assert "before the edit" in feed()
    services.post_update(post=post, editor=bob, body="after the edit")
    page = feed()
    assert "after the edit" in page and "before the edit" not in page
    assert ">edited</span>" in page


def test_a_new_comment_changes_the_count_at_once(feed, bob):
    post = PostFactory(author=bob)
    assert "0 comments" in feed()
    CommentFactory(post=post)
    assert "1 comment<" in feed()


def test_a_renamed_author_or_new_picture_shows_at_once(feed, bob):
    PostFactory(author=bob)
    assert "/users/bob/" in feed()
    bob.username = "robert"
    bob.avatar_hash = "0" * 64
    bob.save(update_fields=["username", "username_key", "avatar_hash"])
    page = feed()
    assert "/users/robert/" in page and "/users/bob/" not in page


def test_a_hidden_post_tells_its_author_and_a_moderator_differently(bob, moderator, roles):
    post = PostFactory(author=bob, body="to be hidden")
    services.content_hide(actor=moderator, content=post, reason="off topic")
    as_author, as_moderator = Client(), Client()
    as_author.force_login(bob)
    as_moderator.force_login(moderator)
    mine = as_author.get("/users/bob/").content.decode()
    theirs = as_moderator.get("/users/bob/").content.decode()
    assert "only you and the moderators can see it" in mine
    assert "hidden by a moderator" in theirs
    assert "only you and the moderators can see it" not in theirs
    services.content_restore(actor=moderator, content=post)
    assert "hidden by a moderator" not in as_author.get("/users/bob/").content.decode()


def test_the_empty_compose_box_is_rendered_once_and_a_refused_post_keeps_its_errors(
    member_client, member
):
    feed = member_client.get("/").content.decode()
    profile = member_client.get(f"/users/{member.username}/").content.decode()
    assert 'name="body"' in feed and 'name="body"' in profile and "Your post" in feed
    assert len(cards._blank_forms) == 1
    refused = member_client.post("/posts/new/", {"body": ""})
    assert refused.status_code == 400
    assert "Your post is empty." in refused.content.decode()
    assert "Your post is empty." not in member_client.get("/").content.decode()


def test_a_form_that_does_not_say_it_renders_alike_is_not_remembered(member_client):
    from django.template import engines

    from social.forms import CommentForm

    template = engines["django"].from_string("{% load posts %}{% blank_form_fields form %}")
    assert 'name="body"' in template.render({"form": CommentForm()})
    assert cards._blank_forms == {}


def test_the_list_is_each_card_as_the_template_renders_it(feed, member, bob):
    PostFactory.create_batch(2, author=bob)
    PostFactory(author=member)
    shown = posts_section(feed())
    request = RequestFactory().get("/")
    request.user = member
    expected = "".join(
        render_to_string(cards.CARD_TEMPLATE, {"post": post}, request=request)
        for post in selectors.feed(user=member).items
    )
    assert shown == '<section aria-label="Posts">\n  ' + expected + "\n"


def test_an_uploaded_picture_shows_at_once_on_every_card(feed, bob):
    PostFactory.create_batch(2, author=bob)
    assert "avatars/bob-small.webp" not in feed()
    User.objects.filter(pk=bob.pk).update(
        avatar="avatars/bob.webp", avatar_small="avatars/bob-small.webp"
    )
    assert posts_section(feed()).count("avatars/bob-small.webp") == 2
    User.objects.filter(pk=bob.pk).update(avatar_small="avatars/bob-small-2.webp")
    assert posts_section(feed()).count("avatars/bob-small-2.webp") == 2


def test_the_profile_lists_its_posts_or_says_there_are_none(member_client, bob):
    assert '<p class="muted">No posts yet.</p>' in member_client.get("/users/bob/").content.decode()
    PostFactory(author=bob, body="a first post")
    page = member_client.get("/users/bob/").content.decode()
    assert "a first post" in page and "No posts yet." not in page


def test_the_empty_compose_box_makes_its_form_only_until_its_html_is_kept(
    member_client, member, monkeypatch
):
    made = []
    original = PostForm.__init__

    def counting(self, *args, **kwargs):
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(PostForm, "__init__", counting)
    first = member_client.get("/").content.decode()
    assert len(made) == 1
    again = member_client.get("/").content.decode()
    profile = member_client.get(f"/users/{member.username}/").content.decode()
    assert len(made) == 1
    for page in (again, profile):
        assert 'name="body"' in page and "<title>Error" not in page
    assert first.split('name="body"')[1][:300] == again.split('name="body"')[1][:300]


def test_a_feed_row_keys_its_card_as_its_post_does(member, bob, moderator):
    """The feed's rows (`social/rows.py`) read the card's facts from the row: each
    must give the same key as the post object it stands for, picture and all."""
    FollowFactory(follower=member, followed=bob)
    User.objects.filter(pk=bob.pk).update(avatar="avatars/b.webp", avatar_small="avatars/b-s.webp")
    plain = PostFactory(author=bob)
    CommentFactory.create_batch(2, post=PostFactory(author=bob))
    edited = services.post_create(author=bob, body="first")
    services.post_update(post=edited, editor=bob, body="second")
    PostFactory(author=member)
    hidden = PostFactory(author=member)
    services.content_hide(actor=moderator, content=hidden, reason="off topic")
    page = ("template", member.pk, "UTC", "en")
    rows = selectors.feed(user=member).items
    assert [row.pk for row in rows] == [p.pk for p in selectors.feed(user=member).items]
    by_orm = {p.pk: p for p in selectors._posts().filter(pk__in=[r.pk for r in rows])}
    assert plain.pk in by_orm and edited.pk in by_orm
    for row in rows:
        assert cards.card_key(row, page) == cards.card_key(by_orm[row.pk], page)
        assert cards.card_key(row, page) == cards.card_key(row.post, page)


def test_the_feed_makes_its_posts_only_for_cards_not_kept(feed, bob, monkeypatch):
    PostFactory.create_batch(3, author=bob)
    made, make = [], PreparedQuerySet.make
    monkeypatch.setattr(
        PreparedQuerySet, "make", lambda self, row: made.append(row) or make(self, row)
    )
    first = posts_section(feed())
    assert len(made) == 3
    assert posts_section(feed()) == first
    assert len(made) == 3
    PostFactory(author=bob)
    feed()
    assert len(made) == 4


def test_whatever_changes_the_feed_shows_on_the_next_request(feed, member, bob, moderator):
    """Deletion, hiding, following and unfollowing, a role without WRITE and a
    suspension each show on the very next request, cards kept or not."""
    post = PostFactory(author=bob, body="bob writes")
    gone = PostFactory(author=bob, body="bob deletes")
    assert "bob writes" in feed() and "bob deletes" in feed()
    services.post_delete(post=gone, actor=bob)
    assert "bob deletes" not in feed()
    services.content_hide(actor=moderator, content=post, reason="off topic")
    assert "bob writes" not in feed()
    services.content_restore(actor=moderator, content=post)
    assert "bob writes" in feed()
    services.follow_delete(follower=member, followed=bob)
    assert "bob writes" not in feed()
    services.follow_create(follower=member, followed=bob)
    assert "bob writes" in feed()
    assert 'name="body"' in feed()
    reader = Role.objects.create(name="Reader", permissions=0)
    User.objects.filter(pk=member.pk).update(role=reader)
    assert 'name="body"' not in feed()
    User.objects.filter(pk=member.pk).update(is_active=False)
    assert "Your feed" not in feed()  # signed out: the visitors' page


def test_cards_rendered_the_first_time_read_nothing_more_from_the_database(
    member, bob, moderator, django_assert_num_queries
):
    """The lists' queries read only the columns a card shows (`social/rows.py`): a
    card of every kind (edited, hidden, commented, with an uploaded picture),
    rendered for the first time on the feed and on a profile seen by a moderator,
    reads no other column later (one query more per card if it did)."""
    FollowFactory(follower=member, followed=bob)
    User.objects.filter(pk=bob.pk).update(avatar="avatars/b.webp", avatar_small="avatars/b-s.webp")
    CommentFactory.create_batch(2, post=PostFactory(author=bob))
    edited = services.post_create(author=bob, body="first")
    services.post_update(post=edited, editor=bob, body="second")
    hidden = PostFactory(author=bob)
    services.content_hide(actor=moderator, content=hidden, reason="off topic")
    PostFactory(author=member)
    viewer = Client()
    viewer.force_login(moderator)
    viewer.get("/accounts/profile/")  # the first request records last-seen
    # The session, the moderator, the member shown, the posts and the follow counts,
    # "do I follow them": the same as with plain posts.
    with django_assert_num_queries(4 + posts_and_counts()):
        profile = viewer.get("/users/bob/").content.decode()
    assert "second" in profile and "off topic" in profile and "2 comments" in profile
    assert "b-s.webp" in profile
    cards._cards.clear()
    member_client = Client()
    member_client.force_login(member)
    member_client.get("/accounts/profile/")
    with django_assert_num_queries(3):  # the session, the member, the posts
        feed = member_client.get("/").content.decode()
    assert "second" in feed and "2 comments" in feed and "b-s.webp" in feed
