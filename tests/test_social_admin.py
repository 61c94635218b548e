"""The admin's post, comment and content-record pages: administrators read, search,
hide and restore through the moderation service; nobody edits a body there."""

import pytest

from social.models import Comment, ContentAction, Post
from tests.factories import CommentFactory, PostFactory, UserFactory

PAGES = [
    "/admin/social/post/",
    "/admin/social/comment/",
    "/admin/social/contentaction/",
]


@pytest.fixture
def admin_client(client, administrator):
    client.force_login(administrator)
    return client


def act(client, model: str, action: str, pks, reason="spam"):
    return client.post(
        f"/admin/social/{model}/",
        {"action": action, "_selected_action": [str(pk) for pk in pks], "reason": reason},
        follow=True,
    )


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(("role_name", "status"), [("User", 403), ("Moderator", 403)])
def test_content_admin_is_for_administrators_only(client, roles, path, role_name, status):
    client.force_login(UserFactory(role=roles[role_name]))
    assert client.get(path).status_code == status


@pytest.mark.parametrize("path", PAGES)
def test_content_admin_asks_visitors_to_sign_in(client, roles, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_post_list_shows_posts_newest_first_with_author(admin_client, roles):
    old = PostFactory(body="Older words", author=UserFactory(username="olga"))
    new = PostFactory(body="Newer words", author=UserFactory(username="nina"))
    response = admin_client.get("/admin/social/post/")
    assert response.status_code == 200
    assert [post.pk for post in response.context["cl"].result_list] == [new.pk, old.pk]
    html = response.content.decode()
    assert "olga" in html and "Newer words" in html
    assert 'name="reason"' in html


def test_post_search_is_by_author_prefix(admin_client, roles):
    PostFactory(author=UserFactory(username="alberta"), body="mine")
    PostFactory(author=UserFactory(username="zed"), body="alberta is mentioned")
    response = admin_client.get("/admin/social/post/", {"q": "albe"})
    authors = [post.author.username for post in response.context["cl"].result_list]
    assert authors == ["alberta"]


def test_hidden_filter(admin_client, roles, moderator):
    shown, hidden = PostFactory(), PostFactory()
    act(admin_client, "post", "hide_selected", [hidden.pk])
    response = admin_client.get("/admin/social/post/", {"hidden__exact": "1"})
    assert [post.pk for post in response.context["cl"].result_list] == [hidden.pk]
    response = admin_client.get("/admin/social/post/", {"hidden__exact": "0"})
    assert [post.pk for post in response.context["cl"].result_list] == [shown.pk]


def test_hide_and_restore_posts_record_content_actions(admin_client, administrator, roles):
    posts = PostFactory.create_batch(2)
    response = act(admin_client, "post", "hide_selected", [p.pk for p in posts], reason="Spam")
    assert "2 posts hidden." in response.content.decode()
    for post in posts:
        post.refresh_from_db()
        assert post.hidden and post.hidden_reason == "Spam" and post.hidden_by == administrator
    actions = ContentAction.objects.filter(kind=ContentAction.Kind.HIDE)
    assert {a.post_id for a in actions} == {p.pk for p in posts}
    assert {a.actor_id for a in actions} == {administrator.pk}

    response = act(admin_client, "post", "restore_selected", [posts[0].pk], reason="")
    assert "1 post restored." in response.content.decode()
    posts[0].refresh_from_db()
    assert not posts[0].hidden and posts[0].hidden_reason == ""
    assert ContentAction.objects.filter(kind=ContentAction.Kind.RESTORE).count() == 1


def test_hide_comment_from_the_admin(admin_client, administrator, roles):
    comment = CommentFactory()
    response = act(admin_client, "comment", "hide_selected", [comment.pk], reason="Rude")
    assert "1 comment hidden." in response.content.decode()
    comment.refresh_from_db()
    assert comment.hidden and comment.hidden_reason == "Rude"
    action = ContentAction.objects.get()
    assert action.comment_id == comment.pk and action.member_id == comment.author_id


def test_hiding_without_a_reason_says_why_and_changes_nothing(admin_client, roles):
    post = PostFactory()
    response = act(admin_client, "post", "hide_selected", [post.pk], reason="  ")
    assert response.status_code == 200
    assert "Say why you are hiding it" in response.content.decode()
    post.refresh_from_db()
    assert not post.hidden
    assert not ContentAction.objects.exists()


def test_an_overlong_reason_is_refused_with_a_message(admin_client, roles):
    post = PostFactory()
    response = act(admin_client, "post", "hide_selected", [post.pk], reason="x" * 501)
    assert response.status_code == 200
    assert "the most is 500" in response.content.decode()
    post.refresh_from_db()
    assert not post.hidden


def test_hiding_what_is_hidden_already_is_a_message(admin_client, roles):
    post = PostFactory()
    act(admin_client, "post", "hide_selected", [post.pk])
    response = act(admin_client, "post", "hide_selected", [post.pk])
    assert response.status_code == 200
    assert "Already hidden. (1 left as they were)" in response.content.decode()
    assert ContentAction.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"action": "hide_selected", "_selected_action": ["not-a-number"], "reason": "x"},
        {"action": "no_such_action", "_selected_action": ["1"]},
        {"action": "hide_selected", "reason": "x"},
        {"action": "restore_selected", "_selected_action": ["99999999"]},
    ],
)
def test_bad_action_input_is_no_500(admin_client, roles, data):
    PostFactory()
    response = admin_client.post("/admin/social/post/", data, follow=True)
    assert response.status_code == 200
    assert not Post.objects.filter(hidden=True).exists()


def test_bodies_cannot_be_edited_or_deleted_in_the_admin(admin_client, roles):
    post = PostFactory(body="Original")
    page = admin_client.get(f"/admin/social/post/{post.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Original" in html and "<textarea" not in html
    assert f"/moderate/posts/{post.pk}/hide/" in html
    admin_client.post(f"/admin/social/post/{post.pk}/change/", {"body": "Changed"})
    post.refresh_from_db()
    assert post.body == "Original"
    assert admin_client.get(f"/admin/social/post/{post.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/social/post/add/").status_code == 403
    assert Post.objects.count() == 1


def test_comment_page_links_to_restore_when_hidden(admin_client, roles):
    comment = CommentFactory()
    act(admin_client, "comment", "hide_selected", [comment.pk])
    html = admin_client.get(f"/admin/social/comment/{comment.pk}/change/").content.decode()
    assert f"/moderate/comments/{comment.pk}/restore/" in html
    assert Comment.objects.get().hidden


@pytest.mark.parametrize(("model", "factory"), [("post", PostFactory), ("comment", CommentFactory)])
def test_content_lists_cost_the_same_for_few_and_many_rows(
    admin_client, roles, model, factory, django_assert_max_num_queries
):
    factory.create_batch(3)
    admin_client.get(f"/admin/social/{model}/")
    with django_assert_max_num_queries(20) as small:
        few = admin_client.get(f"/admin/social/{model}/")
    factory.create_batch(60)
    with django_assert_max_num_queries(len(small.captured_queries)):
        many = admin_client.get(f"/admin/social/{model}/")
    assert len(few.context["cl"].result_list) == 3
    assert len(many.context["cl"].result_list) == 50


def test_content_record_list_costs_the_same_for_few_and_many(
    admin_client, roles, django_assert_max_num_queries
):
    posts = PostFactory.create_batch(40)
    act(admin_client, "post", "hide_selected", [p.pk for p in posts[:2]])
    admin_client.get("/admin/social/contentaction/")
    with django_assert_max_num_queries(20) as small:
        admin_client.get("/admin/social/contentaction/")
    # Read now: the next request clears the connection's query log.
    budget = len(small.captured_queries)
    act(admin_client, "post", "hide_selected", [p.pk for p in posts[2:]])
    with django_assert_max_num_queries(budget):
        response = admin_client.get("/admin/social/contentaction/")
    assert len(response.context["cl"].result_list) == 40
