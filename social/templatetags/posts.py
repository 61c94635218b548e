"""`{% post_cards posts %}`: the posts of a list, each rendered once per version of what it shows.

A feed, profile or landing page lists up to twenty posts, and rendering each
card through the template engine (two dates, links, the avatar, escaping) was
the largest single cost of those pages. A card's HTML depends only on what
`card_key` lists: the fields `social/includes/post.html` reads, whether the
viewer wrote the post (the hidden notice says so), the template, the time zone
and the language. The same key gives the same HTML, so each process keeps the
cards it rendered last; a post or author changed in any of those fields has a
new key, so nothing stale is ever shown. A new field read by the template must
be added to `card_key`.
"""

from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from social.forms import BlankForm
from social.rows import PostRow

register = template.Library()

CARD_TEMPLATE = "social/includes/post.html"
FORM_TEMPLATE = "includes/form.html"
MAX_CARDS = 4096
_cards: dict[tuple, str] = {}
_blank_forms: dict[tuple, str] = {}


def _template(context, name: str):
    """The template `name`, looked up once per render (as `{% include %}` does)."""
    first = context.render_context.dicts[0]
    found = first.get(name)
    if found is None:
        found = first[name] = context.template.engine.get_template(name)
    return found


def page_key(context) -> tuple:
    """What every card of a page shares in its key: the template, the viewer, the
    time zone and the language (read once a page, not once a card)."""
    user = context.get("user")
    return (
        _template(context, CARD_TEMPLATE),
        getattr(user, "pk", None),
        timezone.get_current_timezone_name(),
        translation.get_language(),
    )


def card_key(post, page: tuple) -> tuple:
    """Everything the card's HTML depends on; `page` is `page_key`'s."""
    author = post.author
    viewer_pk = page[1]
    return (
        page,
        post.pk,
        post.body_html,
        post.created_at,
        post.edited_at,
        post.hidden,
        post.hidden_reason,
        getattr(post, "comment_count", None),
        author.pk,
        author.username,
        author.avatar_key(),
        viewer_pk is not None and viewer_pk == post.author_id,
    )


def _card(context, post, page: tuple) -> str:
    key = card_key(post, page)
    html = _cards.get(key)
    if html is None:
        # A feed's `PostRow` makes its post only here, for a card not kept yet.
        with context.push(post=post.post if isinstance(post, PostRow) else post):
            html = page[0].render(context)
        if len(_cards) >= MAX_CARDS:
            _cards.clear()
        _cards[key] = html
    return html


@register.simple_tag(takes_context=True)
def post_cards(context, posts):
    """`{% include "social/includes/post.html" %}` for each of `posts`, each card
    remembered by `card_key`; what the cards of a page share is read once."""
    page = page_key(context)
    html = "".join([_card(context, post, page) for post in posts])
    # Each card is the template's output (escaped as it rendered), kept as it was.
    return mark_safe(html)  # noqa: S308  # nosec B308 B703


@register.simple_tag(takes_context=True)
def blank_form_fields(context, form):
    """`{% include "includes/form.html" %}`, remembered per process for a form that is
    neither bound nor given initial values nor a prefix, and whose class says an
    empty one always renders the same (`renders_alike_when_blank`): the compose
    box shows every member the same empty field. A `BlankForm` is made into its
    form only when its HTML is not kept yet."""
    form_template = _template(context, FORM_TEMPLATE)
    lazy = isinstance(form, BlankForm)
    blank = getattr(form, "renders_alike_when_blank", False) and (
        lazy or (not form.is_bound and not form.initial and not form.prefix)
    )
    form_class = form.form_class if lazy else type(form)
    key = (form_class, form_template, context.get("summary"), translation.get_language())
    html = _blank_forms.get(key) if blank else None
    if html is None:
        with context.push(form=form.form if lazy else form):
            html = form_template.render(context)
        if blank:
            _blank_forms[key] = html
    return html


@receiver(setting_changed)
def _forget(**kwargs):
    """Formats, time zone or URLs changed (in tests): render the cards again."""
    _cards.clear()
    _blank_forms.clear()
