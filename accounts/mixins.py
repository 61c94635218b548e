"""Guards for views: a permission flag, the administrator role, a recent password check.

Anonymous visitors are sent to sign in (with a safe `next`); signed-in members
without the permission get the 403 page. Both come from Django's own
`AccessMixin` and `user_passes_test`: only the check is ours.
"""

from functools import wraps

from django.contrib.auth import mixins
from django.contrib.auth.decorators import user_passes_test
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse

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


class RateLimitMixin:
    """Count each POST against `rate_limits`, answering 429 once one is used up.

    `rate_limits` maps a limit name (see `accounts.ratelimits.LIMITS`) to its
    key: "ip", "user", or the name of a posted field (e.g. "email").
    """

    rate_limits: dict[str, str] = {}

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST":
            refusal = ratelimits.first_refusal(
                ratelimits.hit(name, self.rate_limit_key(scope))
                for name, scope in self.rate_limits.items()
                # A member-keyed limit means nothing for a visitor (every one
                # would share "user:None"); the view's own guard turns them away.
                if scope != "user" or request.user.is_authenticated
            )
            if refusal:
                return ratelimits.too_many_requests(request, refusal)
        return super().dispatch(request, *args, **kwargs)

    @classmethod
    def refusal_before_body(cls, request):
        """The 429 of a limit already used up, known before the body is read
        (`FileUploadGuardMiddleware` asks, so a refused upload costs nothing)."""
        if not request.user.is_authenticated:
            return None
        refusal = ratelimits.first_refusal(
            ratelimits.peek(name, f"user:{request.user.pk}")
            for name, scope in cls.rate_limits.items()
            if scope == "user"
        )
        return ratelimits.too_many_requests(request, refusal) if refusal else None

    def rate_limit_key(self, scope: str) -> str:
        if scope == "ip":
            return ratelimits.client_key(self.request)
        if scope == "user":
            return f"user:{self.request.user.pk}"
        return self.request.POST.get(scope, "").strip()


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
