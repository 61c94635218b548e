"""The signed-in feed page, rendered once per version of everything it shows.

Once the cards and the menu were kept (`{% post_cards %}`, `{% nav_links %}`),
most of the feed's cost was the template engine walking the page around them:
`base.html`, the compose box, the blocks and includes (bench/README.md, issue
16, fifth pass). The page's HTML depends only on what `page_key` lists:

- the feed template (a new object when templates are reloaded);
- everything the menu shows (`nav_key`: the member's id, name, pictures,
  moderate and admin rights, the path, script prefix, URLconf and language);
- whether the member is confirmed and may write (the compose box);
- the full path (the compose box's `next`, the `?before=` cursor);
- each card's `card_key` (post, author and viewer facts, time zone, language)
  and the older-posts cursor.

Each process keeps the pages it rendered under that key, as bytes split where
the response's CSRF token was: every response still gets its own freshly
masked token (BREACH), and `get_token` marks the CSRF cookie used as the
template would have. A page is rendered, not kept, when it has a message to
show, no posts (the suggestions), or used the CSP nonce. Nothing is
invalidated: a change of anything shown is a new key; at most `MAX_PAGES`
pages, all dropped when full or when settings change (tests).
"""

import re

from django.contrib.messages import get_messages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.utils import timezone, translation

from accounts.templatetags.accounts import NAV_TEMPLATE, nav_key
from social.templatetags.posts import CARD_TEMPLATE, card_key

MAX_PAGES = 1024
# The masked token as Django renders it in a form (letters and digits only).
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"')
_pages: dict[tuple, tuple[list[bytes], str]] = {}  # key -> (parts around the token, type)


def page_key(request, template_name: str, context) -> tuple | None:
    """Everything the feed page shows besides the CSRF token; None: render it afresh."""
    page = context.get("page")
    if page is None or not page.items or get_messages(request):
        return None
    user = request.user
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
        user.confirmed,
        context.get("form") is not None,  # the compose box: the role may write
        request.get_full_path(),
        page.before,
        tuple([card_key(post, cards) for post in page.items]),
    )


def respond(request, template_name: str, context, render) -> HttpResponse:
    """The feed page: kept, or `render()`ed (a `TemplateResponse`) and kept if it may be."""
    key = page_key(request, template_name, context)
    kept = _pages.get(key) if key is not None else None
    if kept is not None:
        parts, content_type = kept
        token = get_token(request).encode() if len(parts) > 1 else b""
        return HttpResponse(token.join(parts), content_type=content_type)
    response = render().render()
    if key is not None and response.status_code == 200 and not _used_nonce(request):
        content = response.content
        found = CSRF_INPUT.search(content.decode())
        parts = content.split(found[1].encode()) if found else [content]
        if len(_pages) >= MAX_PAGES:
            _pages.clear()
        _pages[key] = (parts, response["Content-Type"])
    return response


def _used_nonce(request) -> bool:
    return bool(getattr(request, "_csp_nonce", None))


@receiver(setting_changed)
def _forget(**kwargs):
    """Templates, formats, URLs or avatars' settings changed (in tests): render again."""
    _pages.clear()
