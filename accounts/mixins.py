"""Guards for views: a permission flag, or the administrator role.

Anonymous visitors are sent to sign in (with a safe `next`); signed-in members
without the permission get the 403 page. Both come from Django's own
`AccessMixin` and `user_passes_test`: only the check is ours.
"""

from django.contrib.auth import mixins
from django.contrib.auth.decorators import user_passes_test
from django.core.exceptions import PermissionDenied

from accounts import ratelimits
from accounts.models import Permission


class PermissionRequiredMixin(mixins.PermissionRequiredMixin):
    """Allow members whose role grants `permission_required` (a `Permission`)."""

    permission_required: Permission

    def has_permission(self):
        return self.request.user.can(self.permission_required)


class AdminRequiredMixin(PermissionRequiredMixin):
    permission_required = Permission.ADMIN


def permission_required(permission: Permission):
    """Decorator for function views: the same rule as `PermissionRequiredMixin`."""

    def check(user):
        if user.can(permission):
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
            )
            if refusal:
                return ratelimits.too_many_requests(request, refusal)
        return super().dispatch(request, *args, **kwargs)

    def rate_limit_key(self, scope: str) -> str:
        if scope == "ip":
            return ratelimits.client_ip(self.request)
        if scope == "user":
            return f"user:{self.request.user.pk}"
        return self.request.POST.get(scope, "").strip()
