"""Request-wide behaviour of accounts."""

from contextlib import suppress
from datetime import timedelta
from functools import partial

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.middleware import AuthenticationMiddleware as BaseMiddleware
from django.db import DatabaseError
from django.forms.utils import ErrorDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.functional import SimpleLazyObject

from accounts import ratelimits, selectors
from accounts.emails import run_after_response
from accounts.flows import usersessions
from accounts.mixins import RetryNotice, allows_unconfirmed
from accounts.models import AnonymousVisitor, User
from accounts.selectors import suspension_message


def get_user(request):
    """The signed-in user, or an `AnonymousVisitor` that can do nothing.

    Built once per request: when the database fails, the same error is raised
    again to every later reader (middleware, view, template), without a new
    connection attempt each time.
    """
    if hasattr(request, "_user_error"):
        raise request._user_error
    if not hasattr(request, "_cached_user"):
        try:
            ask_session_to_read_along(request)
            # The member as the session's own query read them, if it did (`accounts.sessions`).
            with selectors.reading_members_with(request.session):
                user = auth.get_user(request)
            if not user.is_authenticated:
                sign_out_if_suspended(request)
                user = AnonymousVisitor()
        except DatabaseError as error:
            request._user_error = error
            raise
        request._cached_user = user
    return request._cached_user


def ask_session_to_read_along(request) -> None:
    """The resolved view's `read_with_session(request)`, if it has one: a query the
    session's read sends in its own round trip (`accounts.sessions.ReadAlong`)."""
    match = getattr(request, "resolver_match", None)
    if match is None or request.session.session_key is None:  # no session to read
        return
    view = getattr(match.func, "view_class", match.func)
    wanted = getattr(view, "read_with_session", None)
    if wanted is not None:
        request.session.along = wanted(request)


def sign_out_if_suspended(request) -> None:
    """End the session of a member suspended since signing in, and say why."""
    user_id = request.session.get(auth.SESSION_KEY)
    if user_id is None:
        # A session the suspension already deleted from the store: its marker says who.
        suspended = usersessions.session_ended_by_suspension(request)
        if suspended is not None:
            messages.error(request, suspension_message(suspended, "you have been signed out"))
        return
    suspended = User.objects.filter(pk=user_id, is_active=False).first()
    request.session.flush()
    if suspended is not None:
        messages.error(request, suspension_message(suspended, "you have been signed out"))


async def auser(request):
    """`get_user` for async code: the same user, the same suspended-member sign-out."""
    return await sync_to_async(get_user)(request)


class AuthenticationMiddleware(BaseMiddleware):
    """Django's middleware, with an anonymous user that answers `can()`."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_user(request))
        request.auser = partial(auser, request)


class UnconfirmedGateMiddleware:
    """Send signed-in members with an unconfirmed address to the page explaining it,
    unless the view declares them welcome (`accounts.mixins.UnconfirmedAllowedMixin`,
    `allow_unconfirmed`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or user.confirmed:
            return None
        if allows_unconfirmed(view_func, request, view_kwargs):
            return None
        return redirect("accounts:unconfirmed")


class LastSeenMiddleware:
    """Record when a signed-in member was last seen: one UPDATE per interval at most."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = request.user
        if user.is_authenticated:
            now = timezone.now()
            interval = timedelta(seconds=settings.OFFBRAND_LAST_SEEN_INTERVAL)
            if user.last_seen is None or now - user.last_seen >= interval:
                # Best effort: a page is not refused for want of a timestamp.
                with suppress(DatabaseError):
                    User.objects.filter(pk=user.pk).update(last_seen=now)
                user.last_seen = now
        return response


class UserSessionMiddleware:
    """Keep the signed-in devices list true: a row for a new sign-in (and the
    new-device notice), last activity at most once per interval."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        usersessions.expect_sign_in_time(request)
        key_before = request.session.session_key  # the cookie's; nothing is read
        response = self.get_response(request)
        user = request.user
        if user.is_authenticated:
            # Best effort, like last-seen: a page is not refused for want of a row.
            with suppress(DatabaseError):
                if getattr(request, "offbrand_signed_in", False):
                    usersessions.user_session_start(request=request, user=user)
                elif (
                    not hasattr(request, "offbrand_signed_in")  # no sign-in in this request
                    and key_before
                    and request.session.session_key != key_before
                ):
                    usersessions.user_session_follow_key(request, key_before)
                else:
                    usersessions.user_session_touch(request)
        # Not best effort: a sign-in's last login voids the reset links mailed before it.
        usersessions.write_sign_in_time(request)
        return response


class PrivatePagesMiddleware:
    """Pages for a signed-in member are theirs alone: never stored by shared caches."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated:
            patch_vary_headers(response, ("Cookie",))
            if not response.has_header("Cache-Control"):
                patch_cache_control(response, private=True, no_store=True)
        return response


class SignInBudgetMiddleware:
    """The HTTP side of the sign-in budget (`accounts.ratelimits`), for every view.

    A view whose request met a refused attempt (a sign-in form, the admin's,
    a "current password" field) answers the one sign-in 429, whatever it
    rendered; a browser that just proved the password gets its device cookie;
    the attempts that were right are given back by the time the response leaves.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ratelimits.expect_give_backs(request)
        try:
            response = self.get_response(request)
        finally:
            # Right attempts not yet given back with a later count (a new-sign-in
            # notice's cap counts in the same round trip).
            ratelimits.give_back_pending(request)
        refusal = ratelimits.signin_refusal(request)
        if refusal is not None:
            response = refused_page_again(request, response, refusal)
        ratelimits.set_device_cookie(request, response)
        return response


class AfterResponseMiddleware:
    """Work queued with `accounts.emails.after_response` runs once the answer is sent."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        run_after_response(request, response)
        return response


SIGN_IN_PAUSED = "Too many wrong passwords have been tried."


def refused_page_again(request, response, refusal):
    """The sign-in 429 as the page the member was on: its form as they filled it
    in, with no verdict on a password that was never checked, and when they can
    try again. A page without a form gets the plain 429 page."""
    context = getattr(response, "context_data", None) or {}
    form = context.get("form")
    if form is None or not getattr(response, "template_name", None):
        return ratelimits.too_many_requests(request, refusal)
    form._errors = ErrorDict()  # the attempt was refused before any check
    notice = RetryNotice.from_verdict(refusal, SIGN_IN_PAUSED)
    page = TemplateResponse(
        request,
        response.template_name,
        {**context, "form": form, "rate_limit": notice, "last_attempt_warning": None},
        status=429,
    ).render()
    page["Retry-After"] = str(refusal.retry_after)
    return page
