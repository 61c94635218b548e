"""`{% kept key %}…{% endkept %}`: a fragment rendered once per process under `key`
(everything it shows, computed by the view), with `{% fresh %}…{% endfresh %}` parts
and the CSRF token rendered again for every response.

For fragments that cost more than the rest of a page and change rarely (the
profile's card). The view's `key` must hold everything the fragment shows; the
tag adds what every fragment depends on: the node and the page's top template
(a child template's blocks), the request's full path, the script prefix,
URLconf, language and time zone. A `None` or empty key renders as usual.

A `{% fresh %}` part (text that changes with the clock, such as "3 minutes ago")
is rendered with the context of the `{% kept %}` tag, so it may only read
variables available there, not a loop's or an include's own. The CSRF token
is never kept: the fragment is rendered with a placeholder and each response's
own masked token is set in (BREACH), as `{% nav_links %}` does.
"""

import re
from contextlib import contextmanager
from contextvars import ContextVar

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf
from django.utils import timezone, translation
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()

MAX_FRAGMENTS = 1024  # a profile card is 2-3 KB: at most about 3 MB per process
# Stand-ins while a fragment is rendered to be kept. No name, text or URL a page
# shows can hold a null character (forms refuse them, PostgreSQL cannot store them),
# and a fragment whose output does not split as expected is not kept.
FRESH_MARKER = "\x00kept-fresh\x00"
CSRF_PLACEHOLDER = "\x00kept-csrf-token\x00"
CSRF = object()  # where the response's token goes
_recording: ContextVar[list | None] = ContextVar("kept_recording", default=None)
_fragments: dict[tuple, tuple] = {}


class FreshNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        recording = _recording.get()
        if recording is None:
            return self.nodelist.render(context)
        recording.append(self)
        return FRESH_MARKER


class KeptNode(template.Node):
    def __init__(self, key, nodelist):
        self.key, self.nodelist = key, nodelist

    def render(self, context):
        key = self.key.resolve(context)
        if not key:
            return self.nodelist.render(context)
        request = context.get("request")
        key = (
            self,
            context.template,
            key,
            request.get_full_path() if request is not None else None,
            get_script_prefix(),
            get_urlconf(),
            translation.get_language(),
            timezone.get_current_timezone_name(),
            context.autoescape,
        )
        pieces = _fragments.get(key)
        if pieces is None:
            pieces = self.record(context)
            if pieces is None:
                return self.nodelist.render(context)
            if len(_fragments) >= MAX_FRAGMENTS:
                _fragments.clear()
            _fragments[key] = pieces
        token = ""
        if CSRF in pieces:
            token = str(context.get("csrf_token"))  # made only if a form is shown
            if token in ("", "None", "NOTPROVIDED"):  # no token: as Django renders it
                return self.nodelist.render(context)
        # The template's own output (escaped as it rendered) and the fresh parts'.
        return mark_safe(join(pieces, conditional_escape(token), context))  # noqa: S308  # nosec B308 B703

    def record(self, context) -> tuple | None:
        """The fragment as kept pieces: text, fresh parts and the token's places."""
        with fresh_parts() as fresh, context.push(csrf_token=CSRF_PLACEHOLDER):
            html = self.nodelist.render(context)
        return split(html, fresh, CSRF_PLACEHOLDER)


@contextmanager
def fresh_parts():
    """While rendering HTML to keep (a fragment, or a whole page: social/kept_pages.py):
    each `{% fresh %}` part, a kept fragment's too, leaves a marker in the output
    and is listed here."""
    fresh = []
    reset = _recording.set(fresh)
    try:
        yield fresh
    finally:
        _recording.reset(reset)


def split(html: str, fresh: list, token: str) -> tuple | None:
    """`html` rendered under `fresh_parts()` as kept pieces: text, the `fresh` parts
    (`FreshNode`s) and `CSRF` where `token` was; None if it does not split as expected."""
    pieces, parts = [], iter(fresh)
    for piece in re.split(f"({re.escape(FRESH_MARKER)}|{re.escape(token)})", html):
        if piece == FRESH_MARKER:
            piece = next(parts, None)
            if piece is None:
                return None
        elif piece == token:
            piece = CSRF
        elif "\x00" in piece:
            return None
        if piece != "":
            pieces.append(piece)
    if next(parts, None) is not None:
        return None
    return tuple(pieces)


def join(pieces: tuple, token: str | bytes, context) -> str | bytes:
    """Kept pieces as HTML: `token` where the CSRF token was, the fresh parts
    rendered with `context`; bytes when the token and the text pieces are (a kept page)."""
    out = []
    for piece in pieces:
        if piece is CSRF:
            out.append(token)
        elif isinstance(piece, FreshNode):
            html = piece.render(context)  # in a page being kept: its marker again
            out.append(html if isinstance(token, str) else html.encode())
        else:
            out.append(piece)
    return type(token)().join(out)


@register.tag
def kept(parser, token):
    """`{% kept key %}…{% endkept %}`."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("{% kept %} takes one argument: the key.")
    nodelist = parser.parse(("endkept",))
    parser.delete_first_token()
    return KeptNode(parser.compile_filter(bits[1]), nodelist)


@register.tag
def fresh(parser, token):
    """`{% fresh %}…{% endfresh %}`: rendered for every response inside `{% kept %}`."""
    nodelist = parser.parse(("endfresh",))
    parser.delete_first_token()
    return FreshNode(nodelist)


@receiver(setting_changed)
def _forget_fragments(**kwargs):
    """URLs, avatars, formats or templates changed (in tests): render them again."""
    _fragments.clear()
