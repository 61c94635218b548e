"""`reverse()` remembered: the same name and arguments give the same URL.

Django's `reverse()` walks the resolver's patterns and reads several
context-locals on every call; a page lists dozens of links (the navigation, a
profile and a post link per post), which made URL reversing the largest
single Python cost of rendering a page. The answer only depends on the view
name, the arguments, the current app, the URLconf, the script prefix and the
language, so all of them are the cache key; only plain string and integer
arguments are cached (anything else goes to `reverse()` as before). The cache
is emptied whenever Django empties its own URL caches' inputs (a changed
ROOT_URLCONF or script prefix in tests, via `setting_changed`).
"""

from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

CACHEABLE = (str, int)


@lru_cache(maxsize=16384)
def _reverse(viewname, args, kwargs, current_app, urlconf, prefix, language, root):
    return reverse(
        viewname, urlconf=urlconf, args=args, kwargs=dict(kwargs), current_app=current_app
    )


@lru_cache(maxsize=16384)
def _reverse_or_none(viewname, args, kwargs, current_app, urlconf, prefix, language, root):
    try:
        return _reverse(viewname, args, kwargs, current_app, urlconf, prefix, language, root)
    except NoReverseMatch:
        return None


def cached_reverse(viewname, args=(), kwargs=None, current_app=None) -> str:
    """`reverse(viewname, args=..., kwargs=...)`, from memory when seen before."""
    return _cached(_reverse, viewname, args, kwargs, current_app, raises=True)


def cached_reverse_or_none(viewname, args=(), kwargs=None, current_app=None) -> str | None:
    """`cached_reverse`, or None where `reverse()` finds no match (remembered too:
    the navigation asks every page for names another part may not have added)."""
    return _cached(_reverse_or_none, viewname, args, kwargs, current_app, raises=False)


def _cached(remembered, viewname, args, kwargs, current_app, *, raises: bool):
    kwargs = kwargs or {}
    plain = isinstance(viewname, str) and all(
        type(value) in CACHEABLE for value in (*args, *kwargs.values())
    )
    if not plain or not (current_app is None or isinstance(current_app, str)):
        try:
            return reverse(viewname, args=args, kwargs=kwargs, current_app=current_app)
        except NoReverseMatch:
            if raises:
                raise
            return None
    return remembered(
        viewname,
        tuple(args),
        tuple(sorted(kwargs.items())),
        current_app,
        get_urlconf(),
        get_script_prefix(),
        get_language(),
        settings.ROOT_URLCONF,
    )


@receiver(setting_changed)
def _forget(*, setting, **kwargs):
    if setting in {"ROOT_URLCONF", "FORCE_SCRIPT_NAME", "INSTALLED_APPS"}:
        _reverse.cache_clear()
        _reverse_or_none.cache_clear()
