"""Request-wide behaviour of accounts."""

from functools import partial

from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware as BaseMiddleware
from django.shortcuts import redirect
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


# Where a signed-in member whose address is not yet confirmed may go.
UNCONFIRMED_ALLOWED_VIEWS = {
    "index",
    "healthz",
    "accounts:unconfirmed",
    "accounts:register_done",
    "accounts:confirm",
    "accounts:confirm_resend",
    "accounts:logout",
}


class UnconfirmedGateMiddleware:
    """Send signed-in members with an unconfirmed address to the page explaining it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.confirmed:
            return None
        match = request.resolver_match
        if match.view_name in UNCONFIRMED_ALLOWED_VIEWS:
            return None
        if match.view_name == "profile" and view_kwargs.get("username") == user.username:
            return None
        return redirect("accounts:unconfirmed")
