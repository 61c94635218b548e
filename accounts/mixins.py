"""Guards for views: a permission flag, the administrator role, a recent password check.

Anonymous visitors are sent to sign in (with a safe `next`); signed-in members
without the permission get the 403 page. Both come from Django's own
`AccessMixin` and `user_passes_test`: only the check is ours.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth import mixins
from django.contrib.auth.decorators import user_passes_test
from django.contrib.auth.views import RedirectURLMixin, redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import iri_to_uri
from django.utils.http import url_has_allowed_host_and_scheme

from accounts import ratelimits
from accounts.flows.reauthentication import reauth_is_recent
from accounts.models import Permission


class PermissionRequiredMixin(mixins.PermissionRequiredMixin):
    """Django's mixin, also taking a `Permission` flag: `permission_required = Permission.MODERATE`.

    The flag becomes Django's names (`accounts.moderate`), so the check is
    Django's `has_perms`, answered by `RoleBackend` from `User.can()`.
    """

    permission_required: Permission | str | tuple[str, ...]

    def get_permission_required(self):
        if isinstance(self.permission_required, Permission):
            return tuple(self.permission_required.perm_names)
        return super().get_permission_required()


class AdminRequiredMixin(PermissionRequiredMixin):
    permission_required = Permission.ADMIN


def permission_required(permission: Permission):
    """Decorator for function views: the same rule as `PermissionRequiredMixin`."""
    names = permission.perm_names

    def check(user):
        if user.has_perms(names):
            return True
        if user.is_authenticated:
            raise PermissionDenied
        return False

    return user_passes_test(check)


def admin_required(view):
    return permission_required(Permission.ADMIN)(view)


@dataclass(frozen=True)
class RetryNotice:
    """What a refused member reads: when they can try again, never a dead end."""

    seconds: int
    at: datetime
    unavailable: bool = False
    reason: str = ""

    @classmethod
    def from_verdict(cls, verdict: ratelimits.Verdict, reason: str = "") -> "RetryNotice":
        seconds = max(1, verdict.retry_after)
        at = timezone.localtime() + timedelta(seconds=seconds)
        return cls(seconds=seconds, at=at, unavailable=verdict.unavailable, reason=reason)

    @property
    def text(self) -> str:
        """The notice in one sentence, for a message."""
        if self.unavailable:
            return f"We can't check this request safely right now. Try again in {self.wait}."
        return f"{self.reason} You can try again in {self.wait}, at {self.at:%H:%M}.".strip()

    @property
    def wait(self) -> str:
        """ "3 minutes", "45 seconds": the page's countdown takes over from this text."""
        if self.seconds < 60:
            return f"{self.seconds} second{'s' if self.seconds != 1 else ''}"
        minutes = -(-self.seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"


def safe_next(request, default: str) -> str:
    """The `next` the page posted, if it is a path on this site; else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


# The scopes of `RateLimitMixin.rate_limits` keyed on the signed-in member.
MEMBER_SCOPES = frozenset({"user", "member_browser"})

# Set on a request whose file was counted before its body was read.
FILE_COUNTED = "offbrand_file_counted"


class RateLimitMixin:
    """Count each POST against `rate_limits`; once one is used up, say when to come back.

    `rate_limits` maps a limit name (see `accounts.ratelimits.LIMITS`) to its
    key: "ip", "user", "member_browser" (per member and browser the account
    trusts: `ratelimits.member_browser_key`), or the name of a posted field
    (e.g. "email").

    Never a dead end: a refused form page is shown again, as the member filled
    it in (nothing validated or counted), with a notice saying when they can
    try again and a countdown (a 429 with Retry-After); a refused action
    without a form (follow, send again) goes back to the page it was pressed
    on, with that notice as a message. `rate_limit_reason` is its first words.
    """

    rate_limits: dict[str, str] = {}
    # A member's POSTs run one at a time: a second one while the first is still
    # running (e.g. decoding a picture) is refused before its body is read.
    one_at_a_time = False
    # Member-keyed limits counted for a POST that carries a file: before the body is
    # read when it is larger than a form without a file (FileUploadGuardMiddleware
    # says which), else once it is parsed (`file_rate_limit_refusal`).
    file_rate_limits: tuple[str, ...] = ()
    rate_limit_reason = "You've tried this too many times."

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST":
            refusal = self.file_rate_limit_refusal() or self.rate_limit_refusal()
            if refusal:
                return self.rate_limited(RetryNotice.from_verdict(refusal, self.rate_limit_reason))
        return super().dispatch(request, *args, **kwargs)

    def rate_limit_refusal(self) -> ratelimits.Verdict | None:
        member = self.request.user.is_authenticated
        scopes = self.rate_limits.values()
        network = "ip" in scopes and ratelimits.network_limit_applies(
            self.request, member_limited=not MEMBER_SCOPES.isdisjoint(scopes)
        )
        return ratelimits.first_refusal(
            ratelimits.hit(name, self.rate_limit_key(scope))
            for name, scope in self.rate_limits.items()
            # A member-keyed limit means nothing for a visitor (every one
            # would share "user:None"); the view's own guard turns them away.
            if (scope not in MEMBER_SCOPES or member) and (scope != "ip" or network)
        )

    def file_rate_limit_refusal(self) -> ratelimits.Verdict | None:
        """`file_rate_limits` for a POST that turned out to carry a file, though its
        body was too small to be counted before it was read: a small picture may be
        the dearest to decode (a 17 KB PNG of one colour, 2048 pixels a side).
        Each request is counted once, here or in `refusal_before_body`."""
        request = self.request
        if (
            not self.file_rate_limits
            or not request.user.is_authenticated
            or getattr(request, FILE_COUNTED, False)
            or not request.FILES
        ):
            return None
        key = f"user:{request.user.pk}"
        return ratelimits.first_refusal(ratelimits.hit(name, key) for name in self.file_rate_limits)

    @classmethod
    def refusal_before_body(cls, request, *, carries_file: bool = False):
        """The 429 of a limit already used up, of the member's previous POST still
        running (`one_at_a_time`), or of a picture too soon after the last one
        (`file_rate_limits`, counted when `carries_file`), known before the body is
        read (`FileUploadGuardMiddleware` asks, so a refused upload costs little)."""
        if not request.user.is_authenticated:
            return None
        key = f"user:{request.user.pk}"
        refusal = ratelimits.first_refusal(
            ratelimits.peek(
                name, key if scope == "user" else ratelimits.member_browser_key(request)
            )
            for name, scope in cls.rate_limits.items()
            if scope in MEMBER_SCOPES
        )
        if refusal is None and cls.one_at_a_time:
            refusal = ratelimits.hold(request, cls.__name__, key)
        if refusal is None and carries_file:
            setattr(request, FILE_COUNTED, True)
            refusal = ratelimits.first_refusal(
                ratelimits.hit(name, key) for name in cls.file_rate_limits
            )
        if refusal is None:
            return None
        if carries_file:
            # This session's next uploads are refused alike, from one cache read
            # in front of Django (offbrand.refusal_gate), while it holds.
            ratelimits.remember_refusal(request, refusal)
        return ratelimits.too_many_requests(request, refusal, unread=True)

    def rate_limit_key(self, scope: str) -> str:
        if scope == "ip":
            return ratelimits.client_key(self.request)
        if scope == "user":
            return f"user:{self.request.user.pk}"
        if scope == "member_browser":
            return ratelimits.member_browser_key(self.request)
        return self.request.POST.get(scope, "").strip()

    def rate_limited(self, notice: RetryNotice):
        if hasattr(self, "get_form_class"):
            return refused_form_page(self, notice)
        return back_with_notice(self.request, notice)


def back_with_notice(request, notice: RetryNotice):
    """Back to the page the action was pressed on (`next`, else the referring page
    on this site), with the notice as a message."""
    messages.error(request, notice.text)
    referer = request.headers.get("referer", "")
    same_site = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return redirect(safe_next(request, referer if same_site else "/"))


def refused_form_page(view, notice: RetryNotice):
    """A form view's page again, with an unbound form holding what was typed
    (passwords aside): nothing is validated or counted. A 429 with Retry-After."""
    kwargs = view.get_form_kwargs()
    kwargs.pop("data", None)
    kwargs.pop("files", None)
    typed = {
        name: value
        for name, value in view.request.POST.items()
        if "password" not in name and name != "csrfmiddlewaretoken"
    }
    kwargs["initial"] = {**kwargs.get("initial", {}), **typed}
    form = view.get_form_class()(**kwargs)
    response = view.render_to_response(
        view.get_context_data(form=form, rate_limit=notice), status=429
    )
    response["Retry-After"] = str(notice.seconds)
    return response


class EncodedRedirectURLMixin(RedirectURLMixin):
    """Django's `next` check, also on the URL as it will be sent (percent-encoded):
    a `next` short as typed can pass 2,048 characters once encoded, which Django
    calls unsafe."""

    def get_redirect_url(self):
        url = super().get_redirect_url()
        if url and not url_has_allowed_host_and_scheme(
            iri_to_uri(url),
            allowed_hosts=self.get_success_url_allowed_hosts(),
            require_https=self.request.is_secure(),
        ):
            return ""
        return url


def redirect_to_reauthenticate(request):
    """To the password check, coming back to this page afterwards."""
    return redirect_to_login(request.get_full_path(), reverse("accounts:reauthenticate"))


class RecentAuthRequiredMixin(mixins.LoginRequiredMixin):
    """Signed in, and the password (or a factor) checked within OFFBRAND_REAUTH_SECONDS.

    Otherwise the member is sent to re-authenticate and brought back here.
    """

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not self.has_recent_auth():
            return self.handle_stale_auth()
        return super().dispatch(request, *args, **kwargs)

    def has_recent_auth(self) -> bool:
        return reauth_is_recent(self.request)

    def handle_stale_auth(self):
        return redirect_to_reauthenticate(self.request)


def recent_auth_required(view):
    """Decorator for function views: the same rule as `RecentAuthRequiredMixin`."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not reauth_is_recent(request):
            return redirect_to_reauthenticate(request)
        return view(request, *args, **kwargs)

    return guarded


# --- The unconfirmed-member gate -----------------------------------------------
# A signed-in member whose address is not yet confirmed may use only the views
# that say so (`accounts.middleware.UnconfirmedGateMiddleware` reads this).


class UnconfirmedAllowedMixin:
    """A class-based view that members with an unconfirmed address may use.

    `allow_unconfirmed` may also be a static method `(request, **view_kwargs) -> bool`
    for a view open to them in part (their own profile, say).
    """

    allow_unconfirmed = True


def allow_unconfirmed(view):
    """Decorator for function views: the same as `UnconfirmedAllowedMixin`."""
    view.allow_unconfirmed = True
    return view


def allows_unconfirmed(view_func, request, view_kwargs) -> bool:
    """What the view declares, for the gate; views that say nothing are closed."""
    owner = getattr(view_func, "view_class", view_func)
    rule = getattr(owner, "allow_unconfirmed", False)
    return bool(rule(request, **view_kwargs)) if callable(rule) else rule is True
