"""The signed-in pages of posts (the feed, a profile), each rendered once per version
of everything it shows.

Once the cards, the menu and the profile's card were kept (`{% post_cards %}`,
`{% nav_links %}`, `{% kept %}`), most of these pages' cost was the template
engine walking the page around them: `base.html`, the compose box, the blocks
and includes (bench/README.md, issue 16, fifth pass). A page's HTML depends
only on what `page_key` lists:

- the page's template (a new object when templates are reloaded);
- everything the menu shows (`nav_key`: the member's id, name, pictures,
  moderate and admin rights, the path, script prefix, URLconf and language);
- the full path (the forms' `next`, the `?before=` cursor), the time zone and
  the language;
- whether the compose box is shown (the role may write);
- each card's facts (a `PostRow`'s `facts`, the columns its card shows: with the
  viewer, time zone and language above, what its `card_key` holds) and the
  older-posts cursor;
- the view's own facts (the profile's `shown()`: the member's and the viewer's).

Each process keeps the pages it rendered under that key, as pieces split where
`{% csrf_token %}` put a stand-in for the token (never a search of the HTML for
token-shaped text, which a post may hold) and where a `{% fresh %}` part was (offbrand/
templatetags/kept.py: "last seen … ago", which follows the clock): every
response gets its own freshly masked token (BREACH; `offbrand.csrf.page_token`:
Django's `get_token`, the cookie re-sent at most once a day) and its fresh parts
rendered again, with the view's context. A page is rendered, not kept, for a visitor or a
member not confirmed yet (whose menu is rendered each time), when it has a
message to show, or when it used the CSP nonce. Nothing is invalidated: a
change of anything shown is a new key; at most `MAX_PAGES` pages, all dropped
when full or when settings change (tests/test_feed_pages.py,
tests/test_profile_card.py).
"""

from contextlib import contextmanager

from django.contrib.messages import get_messages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone, translation

from accounts.templatetags.accounts import NAV_TEMPLATE, nav_key
from offbrand.csrf import page_token
from offbrand.templatetags import kept
from social.rows import PostRow
from social.templatetags.posts import CARD_TEMPLATE, card_key

MAX_PAGES = 1024
_pages: dict[tuple, tuple[tuple, str]] = {}  # key -> (kept pieces, content type)


def page_key(request, template_name: str, context, *shown) -> tuple | None:
    """Everything the page shows besides the CSRF token and its fresh parts, `shown`
    being the view's own facts; None: render it afresh. The first item is the template."""
    user = request.user
    if not user.is_authenticated or not user.confirmed or get_messages(request):
        return None
    page = context["page"]
    template = get_template(template_name).template
    engine = template.engine
    cards = (
        engine.get_template(CARD_TEMPLATE),
        user.pk,
        timezone.get_current_timezone_name(),
        translation.get_language(),
    )
    return (
        template,
        nav_key(request, user, engine.get_template(NAV_TEMPLATE)),
        request.get_full_path(),
        context.get("form") is not None,  # the compose box: the role may write
        cards,  # the time zone and language, with no post shown too (the profile's dates)
        page.before,
        # A row's facts are its card's key without what `cards` holds (and whether
        # the viewer wrote it: the author's id is there).
        tuple(
            [post.facts if type(post) is PostRow else card_key(post, cards) for post in page.items]
        ),
        *shown,
    )


def respond(request, key: tuple | None, context: dict, render) -> HttpResponse:
    """The page under `key` (`page_key`'s), kept; or `render()`ed (a `TemplateResponse`)
    and kept if it may be. `{% fresh %}` parts are rendered with `context` (the view's)."""
    found = _pages.get(key) if key is not None else None
    if found is not None:
        pieces, content_type = found
        return HttpResponse(_join(request, pieces, key, context), content_type=content_type)
    if key is None:
        return render()
    # Rendered with a stand-in for the token, as a kept fragment is: the token goes
    # only where `{% csrf_token %}` put it, never where a post's text spells out
    # `name="csrfmiddlewaretoken" value="…"` (attack report F11).
    with kept.fresh_parts() as fresh, _token_stand_in(context):
        response = render().render()
    if response.status_code != 200:
        return render() if kept.CSRF_PLACEHOLDER in response.content.decode() else response
    pieces = kept.split(response.content.decode(), fresh, kept.CSRF_PLACEHOLDER)
    if pieces is None:  # not as expected: rendered again, as usual
        return render()
    # As bytes: a response's text need not be encoded again (the page is ~20 KB).
    pieces = tuple(piece.encode() if isinstance(piece, str) else piece for piece in pieces)
    response.content = _join(request, pieces, key, context)  # its token and fresh parts
    if not _used_nonce(request):
        if len(_pages) >= MAX_PAGES:
            _pages.clear()
        _pages[key] = (pieces, response["Content-Type"])
    return response


@contextmanager
def _token_stand_in(context: dict):
    """`{% csrf_token %}` (and the kept menu) render `kept.CSRF_PLACEHOLDER` meanwhile:
    the view's context is above the context processors' `csrf_token`."""
    had, before = "csrf_token" in context, context.get("csrf_token")
    context["csrf_token"] = kept.CSRF_PLACEHOLDER
    try:
        yield
    finally:
        if had:
            context["csrf_token"] = before
        else:
            del context["csrf_token"]


def _join(request, pieces: tuple, key: tuple, context: dict) -> bytes:
    """A kept page's bytes with this response's token and fresh parts."""
    token = page_token(request).encode() if kept.CSRF in pieces else b""
    return kept.join(pieces, token, _fresh_context(pieces, key, context))


def _fresh_context(pieces: tuple, key: tuple, context: dict) -> Context | None:
    """What `{% fresh %}` parts are rendered with: the view's context, in the page's template."""
    if not any(isinstance(piece, kept.FreshNode) for piece in pieces):
        return None
    fresh = Context(context)
    fresh.template = key[0]
    return fresh


def _used_nonce(request) -> bool:
    return bool(getattr(request, "_csp_nonce", None))


@receiver(setting_changed)
def _forget(**kwargs):
    """Templates, formats, URLs or avatars' settings changed (in tests): render again."""
    _pages.clear()
