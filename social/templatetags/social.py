from django import template

from social import markup

register = template.Library()


@register.filter
def markdown(text: str):
    """`{{ post.body|markdown }}`: the safe Markdown subset of social.markup."""
    return markup.render(text or "")
