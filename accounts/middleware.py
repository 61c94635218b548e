"""Request-wide behaviour of accounts."""

from functools import partial

from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware as BaseMiddleware
from django.utils.functional import SimpleLazyObject

from accounts.models import AnonymousVisitor


def get_user(request):
    """The signed-in user, or an `AnonymousVisitor` that can do nothing."""
    if not hasattr(request, "_cached_user"):
        user = auth.get_user(request)
        request._cached_user = user if user.is_authenticated else AnonymousVisitor()
    return request._cached_user


async def auser(request):
    if not hasattr(request, "_acached_user"):
        user = await auth.aget_user(request)
        request._acached_user = user if user.is_authenticated else AnonymousVisitor()
    return request._acached_user


class AuthenticationMiddleware(BaseMiddleware):
    """Django's middleware, with an anonymous user that answers `can()`."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_user(request))
        request.auser = partial(auser, request)
