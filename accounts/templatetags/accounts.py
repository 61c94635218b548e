from django import template
from django.urls import resolve
from django.utils.html import format_html

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
