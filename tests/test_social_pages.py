"""Posts, comments, follows and moderation through the pages: what each visitor sees and may do."""

import pytest
from django.test import Client

from accounts.models import Permission
from social.models import Comment, ContentAction, Follow, Post
from tests.factories import CommentFactory, FollowFactory, PostFactory, UserFactory


@pytest.fixture
def bob(roles):
    return UserFactory(username="bob")


def take_away(role, flag):
    role.remove_permission(flag)
    role.save(update_fields=["permissions"])


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the home feed and the landing page --------------------------------------


def test_feed_shows_followed_and_own_posts_newest_first_not_others(member_client, member, bob):
    stranger = UserFactory(username="stranger")
    FollowFactory(follower=member, followed=bob)
    PostFactory(author=bob, body="bob one")
    PostFactory(author=stranger, body="stranger post")
    PostFactory(author=member, body="my own")
    PostFactory(author=bob, body="bob two")
    page = member_client.get("/").content.decode()
    assert "stranger post" not in page
    positions = [page.index(text) for text in ("bob two", "my own", "bob one")]
    assert positions == sorted(positions)


def test_feed_leaves_out_hidden_posts_and_shows_comment_counts(member_client, member, bob):
    FollowFactory(follower=member, followed=bob)
    shown = PostFactory(author=bob, body="visible post")
    PostFactory(author=bob, body="hidden post", hidden=True, hidden_reason="spam")
    CommentFactory.create_batch(3, post=shown)
    CommentFactory(post=shown, hidden=True)
    page = member_client.get("/").content.decode()
    assert "visible post" in page and "hidden post" not in page
    assert "3 comments" in page


def test_feed_older_posts_by_keyset(member_client, member, bob):
    FollowFactory(follower=member, followed=bob)
    posts = [PostFactory(author=bob, body=f"numbered {n:02d}.") for n in range(25)]
    first = member_client.get("/")
    assert "numbered 24." in first.content.decode() and "numbered 04." not in first.content.decode()
    older = f"?before={posts[5].pk}"
    assert older in first.content.decode()
    second = member_client.get("/" + older).content.decode()
    assert "numbered 04." in second and "numbered 00." in second and "numbered 05." not in second
    assert "Older posts" not in second


def test_garbage_cursor_shows_the_first_page(member_client, member):
    PostFactory(author=member, body="mine")
    for cursor in ("abc", "-1", "99999999999999999999999", "\x00"):
        response = member_client.get("/", {"before": cursor})
        assert response.status_code == 200 and "mine" in response.content.decode()


def test_new_member_with_an_empty_feed_sees_who_to_follow(member_client, bob):
    PostFactory(author=bob)
    page = member_client.get("/").content.decode()
    assert "Who to follow" in page and "/users/bob/" in page and "Follow" in page


def test_anonymous_landing_says_what_offbrand_is_and_shows_recent_posts(client, bob):
    PostFactory(author=bob, body="a public thought")
    PostFactory(author=bob, body="a hidden thought", hidden=True)
    page = client.get("/").content.decode()
    assert "write short posts" in page and "a public thought" in page
    assert "a hidden thought" not in page
    assert "Create an account" in page


# --- writing -----------------------------------------------------------------


def test_compose_box_only_with_write(member_client, roles):
    assert 'action="/posts/new/"' in member_client.get("/").content.decode()
    take_away(roles["User"], Permission.WRITE)
    assert 'action="/posts/new/"' not in member_client.get("/").content.decode()
    response = member_client.post("/posts/new/", {"body": "sneaky"})
    assert response.status_code == 403 and not Post.objects.exists()


def test_write_a_post_with_markdown_and_a_clickable_safe_link(member_client, member):
    response = member_client.post(
        "/posts/new/",
        {
            "body": "Hi *all*: https://example.com <script>alert(1)</script> "
            "[x](javascript:alert(1))"
        },
    )
    post = Post.objects.get()
    assert response.status_code == 302 and post.author == member
    page = member_client.get(f"/posts/{post.pk}/").content.decode()
    assert "<em>all</em>" in page
    assert '<a href="https://example.com" rel="nofollow noopener ugc">' in page
    assert "<script>alert(1)" not in page and 'href="javascript' not in page


def test_empty_or_too_long_post_keeps_the_text_and_says_why(member_client):
    response = member_client.post("/posts/new/", {"body": "   "})
    assert response.status_code == 400 and "Your post is empty." in response.content.decode()
    response = member_client.post("/posts/new/", {"body": "z" * 2001})
    page = response.content.decode()
    assert response.status_code == 400 and "the most is 2000" in page and "z" * 2001 in page
    assert not Post.objects.exists()


def test_edit_shows_edited_and_only_the_author_may(member_client, member, bob):
    post = PostFactory(author=member, body="first draft")
    assert member_client.post(f"/posts/{post.pk}/edit/", {"body": "second"}).status_code == 302
    page = member_client.get(f"/posts/{post.pk}/").content.decode()
    assert "second" in page and "edited" in page
    other = signed_in(bob)
    assert other.get(f"/posts/{post.pk}/edit/").status_code == 403
    assert other.post(f"/posts/{post.pk}/edit/", {"body": "hijack"}).status_code == 403
    assert other.post(f"/posts/{post.pk}/delete/").status_code == 403
    post.refresh_from_db()
    assert post.body == "second"


def test_delete_post_and_deleting_again_is_a_message_not_an_error(member_client, member):
    post = PostFactory(author=member)
    assert member_client.post(f"/posts/{post.pk}/delete/").status_code == 302
    response = member_client.post(f"/posts/{post.pk}/delete/", follow=True)
    assert response.status_code == 200 and "already deleted" in response.content.decode()
    assert member_client.get(f"/posts/{post.pk}/").status_code == 404


def test_profile_lists_the_members_posts(client, bob):
    PostFactory(author=bob, body="on my profile")
    assert "on my profile" in client.get("/users/bob/").content.decode()


# --- comments ----------------------------------------------------------------


def test_comment_oldest_first_and_the_post_author_may_delete_it(member_client, member, bob):
    post = PostFactory(author=bob)
    member_client.post(f"/posts/{post.pk}/", {"body": "first!"})
    member_client.post(f"/posts/{post.pk}/", {"body": "second!"})
    page = member_client.get(f"/posts/{post.pk}/").content.decode()
    assert page.index("first!") < page.index("second!")
    comment = Comment.objects.get(body="first!")
    assert signed_in(bob).post(f"/comments/{comment.pk}/delete/").status_code == 302
    assert not Comment.objects.filter(pk=comment.pk).exists()


def test_comment_without_the_flag_is_403_and_no_box(member_client, bob, roles):
    post = PostFactory(author=bob)
    take_away(roles["User"], Permission.COMMENT)
    page = member_client.get(f"/posts/{post.pk}/").content.decode()
    assert "Your comment" not in page
    assert member_client.post(f"/posts/{post.pk}/", {"body": "hi"}).status_code == 403
    assert not Comment.objects.exists()


def test_comment_on_a_missing_post_is_404_and_empty_comment_says_why(member_client, bob):
    assert member_client.post("/posts/999999/", {"body": "hello"}).status_code == 404
    post = PostFactory(author=bob)
    response = member_client.post(f"/posts/{post.pk}/", {"body": ""})
    assert response.status_code == 400 and "Your comment is empty." in response.content.decode()


def test_other_members_cannot_delete_a_comment(member_client, bob):
    comment = CommentFactory(author=bob)
    assert member_client.post(f"/comments/{comment.pk}/delete/").status_code == 403
    assert Comment.objects.filter(pk=comment.pk).exists()


# --- follows -----------------------------------------------------------------


def test_follow_and_unfollow_from_the_profile(member_client, member, bob):
    response = member_client.post("/users/bob/follow/", follow=True)
    assert "You follow bob." in response.content.decode()
    assert Follow.objects.filter(follower=member, followed=bob).exists()
    page = member_client.get("/users/bob/").content.decode()
    assert "Unfollow" in page
    member_client.post("/users/bob/unfollow/")
    assert not Follow.objects.exists()


def test_follow_yourself_or_a_missing_member_says_so(member_client):
    response = member_client.post("/users/alice/follow/", follow=True)
    assert "You can&#x27;t follow yourself." in response.content.decode()
    response = member_client.post("/users/nobody/follow/", follow=True)
    assert response.status_code == 200 and "no longer exists" in response.content.decode()
    assert not Follow.objects.exists()


def test_follow_without_the_flag_is_403_and_no_button(member_client, bob, roles):
    take_away(roles["User"], Permission.FOLLOW)
    assert 'action="/users/bob/follow/"' not in member_client.get("/users/bob/").content.decode()
    assert member_client.post("/users/bob/follow/").status_code == 403
    assert not Follow.objects.exists()


def test_follow_redirects_only_to_this_site(member_client, bob):
    response = member_client.post("/users/bob/follow/", {"next": "https://evil.example/"})
    assert response.headers["Location"] == "/users/bob/"


def test_follower_lists_newest_first_with_counts(client, bob, roles):
    fans = [UserFactory(username=f"fan{n:02d}") for n in range(25)]
    for fan in fans:
        FollowFactory(follower=fan, followed=bob)
    profile = client.get("/users/bob/").content.decode()
    assert "25<span" in profile
    first = client.get("/users/bob/followers/").content.decode()
    assert first.index("fan24") < first.index("fan23") and "fan04" not in first
    assert "?before=" in first
    before = Follow.objects.get(follower=fans[5]).pk
    second = client.get(f"/users/bob/followers/?before={before}").content.decode()
    assert "fan04" in second and "fan05" not in second
    following = client.get("/users/fan00/following/").content.decode()
    assert "/users/bob/" in following


def test_follow_counts_are_capped_each_on_its_own(client, bob, roles, monkeypatch):
    from social import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    for fan in UserFactory.create_batch(5):
        FollowFactory(follower=fan, followed=bob)
    for idol in UserFactory.create_batch(2):
        FollowFactory(follower=bob, followed=idol)
    assert selectors.follow_counts(bob) == {"followers": 4, "following": 2}


# --- anonymous and suspended -------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/posts/new/", "/users/bob/follow/", "/users/bob/unfollow/", "/posts/1/"]
)
def test_anonymous_actions_are_sent_to_sign_in(client, bob, path):
    PostFactory(author=bob, pk=1)
    response = client.post(path, {"body": "hi"})
    assert response.status_code == 302 and response.headers["Location"].startswith(
        "/accounts/login/?next="
    )
    assert Post.objects.count() == 1 and not Comment.objects.exists()
    assert not Follow.objects.exists()


def test_anonymous_reads_posts_and_profiles_and_is_asked_to_sign_in(client, bob):
    post = PostFactory(author=bob, body="read me")
    page = client.get(f"/posts/{post.pk}/").content.decode()
    assert "read me" in page and "Sign in to comment" in page
    assert "Sign in to follow" in client.get("/users/bob/").content.decode()


# --- moderation --------------------------------------------------------------


def test_moderator_hides_a_comment_the_author_sees_why_others_do_not_see_it(moderator, member, bob):
    post = PostFactory(author=bob)
    comment = CommentFactory(post=post, author=member, body="rude words")
    mod = signed_in(moderator)
    assert mod.get(f"/moderate/comments/{comment.pk}/hide/").status_code == 200
    response = mod.post(f"/moderate/comments/{comment.pk}/hide/", {"reason": "Be kind"})
    assert response.status_code == 302
    author_view = signed_in(member).get(f"/posts/{post.pk}/").content.decode()
    assert "rude words" in author_view and "hidden by a moderator" in author_view
    assert "Be kind" in author_view
    for viewer in (signed_in(bob), Client()):
        page = viewer.get(f"/posts/{post.pk}/").content.decode()
        assert "rude words" not in page and "Be kind" not in page
    record = mod.get("/moderate/record/").content.decode()
    assert "Be kind" in record and "a comment" in record


def test_hide_without_a_reason_is_refused_with_a_message(moderator, bob):
    post = PostFactory(author=bob)
    response = signed_in(moderator).post(f"/moderate/posts/{post.pk}/hide/", {"reason": ""})
    assert response.status_code == 200 and "Say why" in response.content.decode()
    post.refresh_from_db()
    assert not post.hidden


def test_hidden_post_is_404_to_others_and_shown_to_its_author_with_the_reason(
    moderator, member_client, member, bob
):
    post = PostFactory(author=member, body="my hidden post")
    signed_in(moderator).post(f"/moderate/posts/{post.pk}/hide/", {"reason": "off-topic"})
    page = member_client.get(f"/posts/{post.pk}/").content.decode()
    assert "my hidden post" in page and "off-topic" in page
    assert signed_in(bob).get(f"/posts/{post.pk}/").status_code == 404
    assert "my hidden post" not in signed_in(bob).get("/users/alice/").content.decode()
    signed_in(moderator).post(f"/moderate/posts/{post.pk}/restore/", {"reason": ""})
    assert signed_in(bob).get(f"/posts/{post.pk}/").status_code == 200
    assert ContentAction.objects.count() == 2


def test_moderator_cannot_hide_an_administrators_post(moderator, administrator):
    post = PostFactory(author=administrator)
    mod = signed_in(moderator)
    assert mod.get(f"/moderate/posts/{post.pk}/hide/").status_code == 403
    assert mod.post(f"/moderate/posts/{post.pk}/hide/", {"reason": "x"}).status_code == 403
    assert "Hide the post by" not in mod.get(f"/posts/{post.pk}/").content.decode()
    post.refresh_from_db()
    assert not post.hidden


def test_members_cannot_moderate_content(member_client, bob):
    post = PostFactory(author=bob)
    assert (
        member_client.post(f"/moderate/posts/{post.pk}/hide/", {"reason": "x"}).status_code == 403
    )
    assert member_client.get("/moderate/record/").status_code == 403


def test_unknown_moderation_action_or_content_is_404(moderator):
    mod = signed_in(moderator)
    assert mod.get("/moderate/posts/1/delete/").status_code == 404
    assert mod.get("/moderate/posts/999/hide/").status_code == 404


# --- rate limits -------------------------------------------------------------


def test_posting_is_rate_limited(member_client, clock):
    clock.at(0)  # all within one window, however slow the machine
    statuses = [
        member_client.post("/posts/new/", {"body": f"post {n}"}).status_code for n in range(11)
    ]
    assert statuses[:10] == [302] * 10 and statuses[10] == 429
    assert Post.objects.count() == 10


def test_commenting_and_following_are_rate_limited(member_client, bob, settings, clock):
    clock.at(0)  # all within one minute's window
    post = PostFactory(author=bob)
    codes = [
        member_client.post(f"/posts/{post.pk}/", {"body": "hi"}).status_code for _ in range(21)
    ]
    assert codes[-1] == 429 and Comment.objects.count() == 20
    assert (
        "You&#x27;ve commented a lot in a short time."
        in member_client.post(f"/posts/{post.pk}/", {"body": "one more"}).content.decode()
    )
    for _ in range(60):
        member_client.post("/users/bob/follow/")
    # Following is an action without a page: back where it was pressed, with when.
    refused = member_client.post(
        "/users/bob/follow/", HTTP_REFERER="http://testserver/users/bob/", follow=True
    )
    assert refused.redirect_chain == [("http://testserver/users/bob/", 302)]
    assert "You can try again in 1 minute" in refused.content.decode()


def test_moderation_list_links_to_the_record_of_member_and_content_actions(moderator, bob):
    mod = signed_in(moderator)
    assert "/moderate/record/" in mod.get("/moderate/users/").content.decode()
    mod.post("/moderate/users/bob/suspend/", {"reason": "spam account"})
    comment = CommentFactory(author=moderator)
    mod.post(f"/moderate/comments/{comment.pk}/hide/", {"reason": "off-topic"})
    record = mod.get("/moderate/record/").content.decode()
    assert record.index("off-topic") < record.index("spam account")  # newest first
