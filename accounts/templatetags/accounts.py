from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, resolve
from django.utils import translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from accounts.mixins import allows_unconfirmed
from accounts.models import Permission
from offbrand.urlcache import cached_reverse_or_none

register = template.Library()


@register.filter
def can(user, permission):
    """`{% if user|can:"moderate" %}` or `{% if user|can:Permission.MODERATE %}`."""
    if isinstance(permission, str):
        try:
            permission = Permission[permission.upper()]
        except KeyError:
            return False
    return bool(getattr(user, "can", None)) and user.can(permission)


def usable_url(request, view_names: str, args) -> str | None:
    """The URL of the first of `view_names` ("a|b|c") that exists and the member may open.

    A page another part of the site has not added yet is left out rather than
    breaking the menu; a page the unconfirmed gate would bounce is left out too.
    """
    user = getattr(request, "user", None)
    unconfirmed = user is not None and user.is_authenticated and not user.confirmed
    for view_name in view_names.split("|"):
        url = cached_reverse_or_none(view_name, args=args)
        if url is None:
            continue
        if unconfirmed:
            match = resolve(url)
            if not allows_unconfirmed(match.func, request, match.kwargs):
                return None
        return url
    return None


def current_marker(request, url: str) -> str | None:
    """`page` on the page itself, `true` on the pages below it (not below the home page)."""
    path = getattr(request, "path", "")
    if path == url:
        return "page"
    if url != "/" and path.startswith(url):
        return "true"
    return None


@register.simple_tag(takes_context=True)
def nav_link(context, view_names, text, *args, item=True, css_class=""):
    """A menu item marked with `aria-current` when it is the page being shown.

    `{% nav_link "accounts:password_change" "Password" %}`; several names
    separated by "|" use the first that exists. Renders nothing when no name
    exists or the member may not open the page yet.
    """
    request = context.get("request")
    url = usable_url(request, view_names, args)
    if url is None:
        return ""
    current = current_marker(request, url)
    link = format_html(
        '<a href="{}"{}{}>{}</a>',
        url,
        format_html(' class="{}"', css_class) if css_class else "",
        format_html(' aria-current="{}"', current) if current else "",
        text,
    )
    return format_html("<li>{}</li>", link) if item else link


@register.simple_tag(takes_context=True)
def first_url(context, view_names, *args):
    """`{% first_url "accounts:settings|accounts:profile_edit" as settings_url %}`."""
    return usable_url(context.get("request"), view_names, args) or ""


NAV_TEMPLATE = "includes/nav_links.html"
MAX_NAVS = 4096
# Stands in for the request's CSRF token while a menu is rendered to be kept: the
# token is set in per response, never kept. Escaping leaves it as it is, and no
# name or URL can hold a null character.
CSRF_PLACEHOLDER = "\x00csrf-token\x00"
_navs: dict[tuple, list[str]] = {}


def nav_key(request, user, nav_template) -> tuple:
    """Everything the signed-in menu shows, besides the CSRF token."""
    return (
        nav_template,
        user.pk,
        user.username,
        user.can(Permission.MODERATE),
        user.can(Permission.ADMIN),
        # What the small avatar's URL is made of (the stored names and the hash),
        # without making the URL; the settings it also reads empty the menus.
        user.avatar_key(),
        getattr(request, "path", ""),
        get_script_prefix(),
        get_urlconf(),
        translation.get_language(),
    )


@register.simple_tag(takes_context=True)
def nav_links(context):
    """`{% include "includes/nav_links.html" %}`, kept per process for a confirmed member
    under `nav_key`, with the response's own CSRF token set into the sign-out form.

    The menu (a dozen links reversed and marked, the avatar, the sign-out form)
    cost more than the rest of a short page. A visitor's menu, or an unconfirmed
    member's (which asks each page's view whether it lets them in), is rendered
    every time.
    """
    first = context.render_context.dicts[0]
    nav_template = first.get(NAV_TEMPLATE)
    if nav_template is None:
        nav_template = first[NAV_TEMPLATE] = context.template.engine.get_template(NAV_TEMPLATE)
    user, request = context.get("user"), context.get("request")
    token = context.get("csrf_token")
    if (
        request is None
        or user is None
        or not user.is_authenticated
        or not user.confirmed
        or token is None
        or str(token) in ("", "NOTPROVIDED")
    ):
        return nav_template.render(context)
    key = nav_key(request, user, nav_template)
    parts = _navs.get(key)
    if parts is None:
        with context.push(csrf_token=CSRF_PLACEHOLDER):
            parts = nav_template.render(context).split(CSRF_PLACEHOLDER)
        if len(_navs) >= MAX_NAVS:
            _navs.clear()
        _navs[key] = parts
    return mark_safe(conditional_escape(str(token)).join(parts))  # noqa: S308  # nosec B308 B703


@receiver(setting_changed)
def _forget_navs(**kwargs):
    """URLs, avatars or templates changed (in tests): render the menus again."""
    _navs.clear()


MEMBER_CARD_TEMPLATE = "accounts/includes/member_card.html"
MAX_MEMBER_CARDS = 4096
_member_cards: dict[tuple, str] = {}


def member_card_key(member, page: tuple) -> tuple:
    """Everything a member's card in the moderation list shows; `page` is what every
    card of the page shares (template, path, URL prefix and URLconf, language, and
    whether the viewer may see addresses)."""
    role = member.role
    return (
        page,
        member.pk,
        member.username,
        member.email,
        member.is_active,
        role.name if role is not None else None,
        member.avatar_key(),
        bool(getattr(member, "moderatable", False)),
    )


@register.simple_tag(takes_context=True)
def member_cards(context, members):
    """`{% include "accounts/includes/member_card.html" %}` for each of `members`, each
    card kept per process under `member_card_key`: the moderation list's 25 cards
    (an avatar URL, three reversed links and escaping each) were most of its cost.
    A renamed, suspended, re-roled or new-pictured member has a new key."""
    first = context.render_context.dicts[0]
    card_template = first.get(MEMBER_CARD_TEMPLATE)
    if card_template is None:
        card_template = context.template.engine.get_template(MEMBER_CARD_TEMPLATE)
        first[MEMBER_CARD_TEMPLATE] = card_template
    request = context.get("request")
    page = (
        card_template,
        request.get_full_path() if request is not None else None,
        get_script_prefix(),
        get_urlconf(),
        translation.get_language(),
        bool(context.get("shows_addresses")),
    )
    cards = []
    for member in members:
        key = member_card_key(member, page)
        html = _member_cards.get(key)
        if html is None:
            with context.push(member=member):
                html = card_template.render(context)
            if len(_member_cards) >= MAX_MEMBER_CARDS:
                _member_cards.clear()
            _member_cards[key] = html
        cards.append(html)
    # Each card is the template's output (escaped as it rendered), kept as it was.
    return mark_safe("  ".join(cards))  # noqa: S308  # nosec B308 B703


@receiver(setting_changed)
def _forget_member_cards(**kwargs):
    """URLs, avatars or templates changed (in tests): render the cards again."""
    _member_cards.clear()
