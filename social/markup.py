"""Posts and comments as a small, safe Markdown subset.

markdown-it-py parses (raw HTML off, bare links made clickable by linkify),
nh3 (ammonia) sanitises what comes out: only the tags below survive, links
get rel="nofollow noopener ugc", and only http(s) and mailto URLs are kept.
Bodies are rendered on write: after changing anything here, run
`manage.py rerender_markdown` so stored posts and comments follow.
"""

from functools import lru_cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_SCHEMES = {"http", "https", "mailto"}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return (
        MarkdownIt("zero", {"linkify": True, "html": False, "breaks": True})
        .enable(["emphasis", "backticks", "link", "linkify", "newline", "list"])
        .enable(["blockquote", "fence", "code", "autolink", "escape", "entity"])
    )


def render(text: str) -> SafeString:
    html = _parser().render(text)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_SCHEMES,
        link_rel="nofollow noopener ugc",
    )
    # Safe: nh3 has just sanitised it against the allow-lists above.
    return mark_safe(clean)  # noqa: S308  # nosec B308 B703
