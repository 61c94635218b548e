"""A kept page's CSRF token goes where Django's `{% csrf_token %}` put it, and nowhere
else (attack report F11): a post's text may hold `name="csrfmiddlewaretoken" value="…"`
itself (nh3 leaves quotes in text as they are), and a search of the HTML for that text
took the first one it met for the token."""

import re

import pytest
from django.middleware.csrf import CSRF_SECRET_LENGTH
from django.template import engines
from django.template.response import TemplateResponse
from django.test import Client

from offbrand import csrf as offbrand_csrf
from social import kept_pages
from social.templatetags import posts as cards
from tests.factories import FollowFactory, PostFactory, UserFactory

FAKE = "A" * 64
POST_TEXT = f'name="csrfmiddlewaretoken" value="{FAKE}"'
FORM_TOKEN = re.compile(r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">')


@pytest.fixture(autouse=True)
def no_pages_from_other_tests():
    kept_pages._pages.clear()
    cards._cards.clear()
    offbrand_csrf._renewed.clear()


def secret_of(token: str) -> str:
    return offbrand_csrf.unmask_cipher_token(token) if len(token) == 2 * CSRF_SECRET_LENGTH else ""


def test_a_posts_text_before_the_first_form_is_not_taken_for_the_token(rf, member):
    """A kept page whose first form comes after a post (none does today: the menu's
    sign-out form comes first)."""
    page = engines["django"].from_string(
        "<article><p>{{ text|safe }}</p></article><form method=post>{% csrf_token %}</form>"
    )
    context = {"text": POST_TEXT}
    replies = []
    for _ in range(2):
        request = rf.get("/")
        request.user = member
        request.META["CSRF_COOKIE"] = "s" * CSRF_SECRET_LENGTH  # as CsrfViewMiddleware reads it
        reply = kept_pages.respond(
            request, ("a page",), context, lambda r=request: TemplateResponse(r, page, context)
        )
        html = reply.content.decode()
        assert f"<p>{POST_TEXT}</p>" in html  # the post says what its author wrote
        (token,) = FORM_TOKEN.findall(html)
        assert secret_of(token) == "s" * CSRF_SECRET_LENGTH  # a token Django accepts
        replies.append(token)
    assert len(kept_pages._pages) == 1  # the second came from memory
    assert replies[0] != replies[1]  # each response masked anew (BREACH)


def test_a_post_holding_the_tokens_text_keeps_it_on_the_kept_feed(member, roles):
    bob = UserFactory(username="bob")
    FollowFactory(follower=member, followed=bob)
    PostFactory(author=bob, body=POST_TEXT)
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    pages = [client.get("/").content.decode() for _ in range(2)]
    for html in pages:
        assert FAKE in html
        tokens = FORM_TOKEN.findall(html)
        assert tokens and FAKE not in tokens and len(set(tokens)) == 1
    assert FORM_TOKEN.findall(pages[0])[0] != FORM_TOKEN.findall(pages[1])[0]
