from django import template

from accounts.models import Permission

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
