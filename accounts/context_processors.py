from django.utils.functional import empty

from accounts.models import Permission


def permissions(request):
    """Make `Permission` available, e.g. `{% if user|can:Permission.MODERATE %}`."""
    return {"Permission": Permission}


def member(request):
    """`user` as Django's `auth` context processor (before this one) gives it, but the
    member object itself once the request has read it. `request.user` is a lazy wrapper, and
    each `user.…` a template reads (dozens a page: the menu's key, the cards'
    viewer, the title, the banners) went through its attribute proxy. A request
    that has not read its member yet keeps the lazy one, read only if used."""
    wrapped = getattr(getattr(request, "user", None), "_wrapped", None)
    if wrapped is None or wrapped is empty:
        return {}
    return {"user": wrapped}
