"""The landing page as visitors see it: rendered once per version of what it shows.

Every visitor who is not signed in gets the same page (the recent public posts
with their authors and comment counts, and the roles), so each process keeps
the last one it rendered, with the version it was rendered for. The version is
a random token in the shared cache, replaced by `landing_changed()` whenever
something the page shows changes; a visitor's request reads the token (one
cache round trip, no query) and is served the kept page while it matches.

What replaces the token:
- every save of a post, comment or role, and every save of a member that
  writes a field their cards show (name, picture, address, active state), and
  the deletion of a member or a role: Django's model signals, so the admin,
  the shell and the factories are covered as well as the services;
- the writes that send no signal: a post or comment deleted, hidden or
  restored (`social.services` calls `landing_changed()`), members changed in
  bulk and roles seeded (`accounts.signals`).

The token is replaced at once and again when the transaction commits: at once
so the next request of this process (or a test inside one transaction) never
sees the old page; on commit because a page rendered by another worker in
between read the old rows and must not be kept. A request reads the token
before it reads the database, so a page rendered from old rows is kept under
an old token, which no later request asks for. The token lives for
`VERSION_TTL` seconds: a change made where nothing replaces it (a bulk insert,
raw SQL, a change lost to a cache outage) shows within that time.

A page is kept only when it holds nothing of one visitor: no message, no CSRF
token, no CSP nonce (each checked after rendering); a visitor with a message
gets a page rendered for them.
"""

import logging
import secrets

from django.contrib.messages import get_messages
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import DatabaseError, connection, transaction
from django.dispatch import receiver
from django.http import HttpResponse
from django.utils import timezone, translation

from offbrand.cache import FAILURES

logger = logging.getLogger(__name__)

VERSION_KEY = "offbrand:landing:version"
VERSION_TTL = 60
CACHE_ERRORS = (*FAILURES, DatabaseError)
# The member fields a post card or the page shows (`social/includes/post.html`).
SHOWN_MEMBER_FIELDS = frozenset(
    {"username", "email", "avatar", "avatar_small", "avatar_hash", "is_active"}
)

_kept: tuple[tuple, bytes, str] | None = None  # (version key, content, content type)


def _new_version() -> None:
    try:
        cache.set(VERSION_KEY, secrets.token_hex(8), VERSION_TTL)
    except CACHE_ERRORS as error:
        logger.warning("The landing page's version could not be replaced: %s", error)
    global _kept
    _kept = None


def landing_changed() -> None:
    """Something the landing page shows changed: the next visitor gets it rendered again."""
    _new_version()
    if connection.in_atomic_block:
        transaction.on_commit(_new_version)


def _current_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        token = secrets.token_hex(8)
        version = token if cache.add(VERSION_KEY, token, VERSION_TTL) else cache.get(VERSION_KEY)
    return version


def _holds_nothing_of_the_visitor(request, response) -> bool:
    return (
        response.status_code == 200
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not getattr(request, "_csp_nonce", None)
        and not response.cookies
    )


def visitor_page(request, render) -> HttpResponse:
    """The landing page for a visitor who is not signed in; `render()` makes it afresh."""
    global _kept
    if get_messages(request):
        return render()
    try:
        version = _current_version()
    except CACHE_ERRORS:
        return render()
    key = (version, timezone.get_current_timezone_name(), translation.get_language())
    kept = _kept
    if kept is not None and kept[0] == key:
        return HttpResponse(kept[1], content_type=kept[2])
    response = render()
    if _holds_nothing_of_the_visitor(request, response):
        _kept = (key, response.content, response["Content-Type"])
    return response


# --- What changes it ---------------------------------------------------------


def on_content_saved(sender, **kwargs):
    landing_changed()


def on_member_saved(sender, instance, created, update_fields, **kwargs):
    """A new member has no posts yet; a sign-in's `last_login` shows nowhere."""
    if created:
        return
    if update_fields is None or SHOWN_MEMBER_FIELDS.intersection(update_fields):
        landing_changed()


def on_deleted(sender, **kwargs):
    landing_changed()


@receiver(setting_changed)
def _forget(**kwargs):
    """Templates, formats or URLs changed (in tests): render the page again."""
    global _kept
    _kept = None
