"""The landing page as visitors see it is remembered (`social/landing.py`): never a stale one.

Each story loads the landing first, so the page is remembered, then changes
what it shows the way a member, a moderator or an administrator would, and
checks the very next visitor's page.
"""

import io

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.management import call_command
from django.test import Client, RequestFactory
from redis.exceptions import ConnectionError as RedisConnectionError

from accounts import services as account_services
from accounts.models import Role, User
from social import landing as landing_module
from social import services
from social.landing import landing_changed
from social.models import Post
from tests.factories import PostFactory, UserFactory


@pytest.fixture
def bob(roles):
    return UserFactory(username="bob")


def landing() -> str:
    response = Client().get("/")
    assert response.status_code == 200
    return response.content.decode()


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_moderator_hides_a_post_and_the_next_visitor_does_not_see_it(bob, moderator):
    post = PostFactory(author=bob, body="hide me please")
    assert "hide me please" in landing()
    assert "hide me please" in landing()  # served as remembered
    reply = signed_in(moderator).post(f"/moderate/posts/{post.pk}/hide/", {"reason": "spam"})
    assert reply.status_code == 302
    assert "hide me please" not in landing()
    services.content_restore(actor=moderator, content=post)
    assert "hide me please" in landing()


def test_suspended_author_posts_leave_the_landing(bob, moderator):
    PostFactory(author=bob, body="words of a spammer")
    PostFactory(body="words of a good member")
    assert "words of a spammer" in landing()
    reply = signed_in(moderator).post("/moderate/users/bob/suspend/", {"reason": "spam account"})
    assert reply.status_code == 302
    page = landing()
    assert "words of a spammer" not in page and "words of a good member" in page


def test_authors_suspended_in_bulk_leave_the_landing(bob, administrator):
    PostFactory(author=bob, body="words of a spammer")
    assert "words of a spammer" in landing()
    account_services.members_update(
        members=User.objects.filter(pk=bob.pk), actor=administrator, via="admin", is_active=False
    )
    assert "words of a spammer" not in landing()


def test_new_edited_and_deleted_posts_show_at_once(bob):
    assert "first words" not in landing()
    post = services.post_create(author=bob, body="first words")
    assert "first words" in landing()
    services.post_update(post=post, editor=bob, body="second thoughts")
    page = landing()
    assert "second thoughts" in page and "first words" not in page
    services.post_delete(post=post, actor=bob)
    assert "second thoughts" not in landing()


def test_comment_counts_show_at_once(bob, member, moderator):
    post = PostFactory(author=bob)
    assert "0 comments" in landing()
    comment = services.comment_create(post=post, author=member, body="nice")
    assert "1 comment<" in landing()
    services.content_hide(actor=moderator, content=comment, reason="rude")
    assert "0 comments" in landing()


def test_renamed_author_and_new_picture_show_at_once(bob, moderator):
    PostFactory(author=bob)
    assert "/users/bob/" in landing()
    bob.username = "robert"
    bob.save(update_fields=["username"])
    page = landing()
    assert "/users/robert/" in page and "/users/bob/" not in page
    old_picture = page.split('class="nav-avatar" src="')[1].split('"')[0]
    bob.email = "robert@example.com"  # a new address: a new identicon
    bob.save(update_fields=["email"])
    assert old_picture not in landing()


def test_deleted_author_posts_leave_the_landing(bob):
    PostFactory(author=bob, body="gone with the account")
    assert "gone with the account" in landing()
    bob.delete()
    assert "gone with the account" not in landing()


def test_a_role_changed_by_an_administrator_shows_at_once(roles):
    assert "Gardener" not in landing()
    role = Role.objects.get(name="Moderator")
    role.name = "Gardener"
    role.save()
    assert "Gardener" in landing()


def test_a_visitor_with_a_message_sees_it_and_others_do_not(bob):
    landing()
    visitor = Client()
    storage = CookieStorage(RequestFactory().get("/"))
    visitor.cookies[storage.cookie_name] = storage._encode(
        [Message(constants.SUCCESS, "You have signed out.")]
    )
    assert "You have signed out." in visitor.get("/").content.decode()
    assert "You have signed out." not in landing()


def test_each_visitor_gets_their_own_csp_header_and_no_nonce_in_the_page(bob):
    PostFactory(author=bob)
    first, second = Client().get("/"), Client().get("/")
    assert first.content == second.content
    assert "nonce" not in second.content.decode()
    assert "Content-Security-Policy" in second.headers


def test_signed_in_members_never_get_the_visitors_page(bob, member):
    landing()
    page = signed_in(member).get("/").content.decode()
    assert "Create an account" not in page and "alice" in page


def test_posts_rendered_again_by_the_command_show_at_once(bob):
    post = PostFactory(author=bob, body="Now **bold**")
    Post.objects.filter(pk=post.pk).update(body_html="<p>rendered by an older version</p>")
    landing_changed()  # as a deploy starts from a fresh page
    assert "rendered by an older version" in landing()
    call_command("rerender_markdown", stdout=io.StringIO(), stderr=io.StringIO())
    assert "<strong>bold</strong>" in landing()


class DownCache:
    """A cache whose server is unreachable: every call fails as Redis's would."""

    def __getattr__(self, name):
        def down(*args, **kwargs):
            raise RedisConnectionError("Redis is down")

        return down


def test_without_the_cache_the_landing_is_rendered_for_each_visitor(bob, monkeypatch):
    landing()
    # The module's own name, not the shared proxy: patching the proxy would
    # patch whichever backend the settings name at teardown.
    monkeypatch.setattr(landing_module, "cache", DownCache())
    PostFactory(author=bob, body="written during the outage")
    assert "written during the outage" in landing()
