"""Remembered URLs (`offbrand.urlcache`): the same links as `reverse()`, and never stale."""

import pytest
from django.template import engines
from django.test import override_settings
from django.urls import NoReverseMatch, path, reverse

from offbrand import urlcache
from offbrand.urlcache import cached_reverse, cached_reverse_or_none


def _elsewhere(request):
    raise AssertionError("never called")


urlpatterns = [path("elsewhere/<str:username>/", _elsewhere, name="profile")]


def test_cached_reverse_gives_the_links_reverse_gives():
    assert cached_reverse("profile", args=["ann"]) == reverse("profile", args=["ann"])
    assert cached_reverse("social:post", args=[7]) == reverse("social:post", args=[7])
    assert cached_reverse("social:post", kwargs={"pk": 7}) == "/posts/7/"
    with pytest.raises(NoReverseMatch):
        cached_reverse("profile", args=[])


def test_links_follow_a_changed_urlconf_at_once():
    template = engines["django"].from_string("{% url 'profile' name %}")
    assert template.render({"name": "ann"}) == "/users/ann/"
    with override_settings(ROOT_URLCONF=__name__):
        assert template.render({"name": "ann"}) == "/elsewhere/ann/"
    assert template.render({"name": "ann"}) == "/users/ann/"


def test_url_tag_escapes_and_assigns_like_djangos():
    template = engines["django"].from_string(
        "{% url 'profile' name %}|{% url 'no-such-page' as missing %}[{{ missing }}]"
    )
    assert template.render({"name": "a&b"}) == "/users/a&amp;b/|[]"


def test_an_object_argument_is_not_remembered_by_identity():
    class Name:
        def __init__(self, text):
            self.text = text

        def __str__(self):
            return self.text

    assert cached_reverse("profile", args=[Name("ann")]) == "/users/ann/"
    assert cached_reverse("profile", args=[Name("bob")]) == "/users/bob/"


def test_a_missing_name_is_remembered_as_missing_until_the_urlconf_changes(monkeypatch):
    calls = []

    def counted(*args, **kwargs):
        calls.append(args)
        return reverse(*args, **kwargs)

    monkeypatch.setattr(urlcache, "reverse", counted)
    urlcache._reverse.cache_clear()
    urlcache._reverse_or_none.cache_clear()
    assert cached_reverse_or_none("no-such-page") is None
    assert cached_reverse_or_none("no-such-page") is None
    assert cached_reverse_or_none("profile", args=["ann"]) == "/users/ann/"
    assert cached_reverse_or_none("profile", args=["ann"]) == "/users/ann/"
    assert len(calls) == 2
    with override_settings(ROOT_URLCONF=__name__):
        assert cached_reverse_or_none("profile", args=["ann"]) == "/elsewhere/ann/"
        assert cached_reverse_or_none("social:post", args=[7]) is None
    assert cached_reverse_or_none("social:post", args=[7]) == "/posts/7/"
