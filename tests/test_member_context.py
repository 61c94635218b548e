"""Templates read the signed-in member itself, not its lazy wrapper
(`accounts.context_processors.member`), and see the same member."""

from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.utils.functional import LazyObject, SimpleLazyObject

from accounts.context_processors import member


def test_a_signed_in_page_is_rendered_with_the_member_itself(member_client, member):
    response = member_client.get("/")
    user = response.context["user"]
    assert not isinstance(user, LazyObject)
    assert user.pk == member.pk and user.is_authenticated
    assert f"/users/{member.username}/" in response.content.decode()


def test_a_visitors_page_still_has_a_visitor(client, roles):
    response = client.get("/")
    assert not response.context["user"].is_authenticated


def test_a_member_not_read_yet_stays_lazy_and_is_read_only_if_used():
    request = RequestFactory().get("/")
    reads = []
    request.user = SimpleLazyObject(lambda: reads.append(1) or AnonymousUser())
    assert member(request) == {}
    assert reads == []
    request.user.is_authenticated  # noqa: B018  # the request reads its member
    assert member(request)["user"] is request.user._wrapped
