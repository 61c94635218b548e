"""Sign in with a username or an email address, on the sign-in budget; permissions
from the role."""

import inspect

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.core.exceptions import PermissionDenied
from django.db.models import F, Q

from accounts import ratelimits, selectors, services
from accounts.models import Permission


class UsernameOrEmailBackend(ModelBackend):
    """Authenticate by username or email.

    A suspended (inactive) member with the right password is returned so the
    sign-in form can say why they cannot sign in; a wrong password never
    reveals anything. Sessions of inactive members are still refused by
    `get_user`, which keeps the base class's `user_can_authenticate` check.

    Django's per-member and group permissions are not consulted (no query
    either): what a member may do is their role's, answered by `RoleBackend`.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        User = get_user_model()
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not username or password is None:
            return None
        # Every path that signs in with a password (our form, the admin's, any
        # later one) comes through here: the attempt is counted before the
        # password is checked (`accounts.ratelimits`, the sign-in budget).
        key, user = services.login_target(username)
        attempt = ratelimits.account_attempt(request, name_key=key, user=user)
        if not attempt.allowed:
            raise PermissionDenied  # authenticate() stops; the middleware answers 429
        if user is None:
            # Hash anyway, so an unknown name takes as long as a wrong password.
            User().set_password(password)
            return None
        if user.check_password(password):
            # The browser is trusted once signed in (`receivers.on_sign_in`):
            # after the second factor, for members who have one.
            attempt.succeeded()
            return user
        return None

    # Django's `authenticate()` asks each backend's signature on every call (whether
    # it takes these credentials); `inspect` returns a function's `__signature__`
    # as it is instead of working it out again from the code (issue 16).
    authenticate.__signature__ = inspect.signature(authenticate)

    def get_user(self, user_id):
        # `User.objects.select_related("role").filter(pk=user_id).first()`, its SQL built once.
        user = selectors.user_with_role(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    # The async entry points run the sync ones: Django's own async versions
    # would look a member up by exact username only, and load no role.
    async def aauthenticate(self, request, username=None, password=None, **kwargs):
        return await sync_to_async(self.authenticate)(
            request, username=username, password=password, **kwargs
        )

    async def aget_user(self, user_id):
        return await sync_to_async(self.get_user)(user_id)

    def get_user_permissions(self, user_obj, obj=None):
        return set()

    async def aget_user_permissions(self, user_obj, obj=None):
        return set()

    def get_group_permissions(self, user_obj, obj=None):
        return set()

    async def aget_group_permissions(self, user_obj, obj=None):
        return set()

    def with_perm(self, perm, is_active=True, include_superusers=True, obj=None):
        return get_user_model()._default_manager.none()


class RoleBackend(BaseBackend):
    """Django's `has_perm` answered from the role: `accounts.follow`, `accounts.comment`,
    `accounts.write`, `accounts.moderate`, `accounts.admin`.

    So `{{ perms.accounts.moderate }}`, Django's `PermissionRequiredMixin` and
    `permission_required`, the admin and third-party apps agree with `User.can()`,
    which decides. Anonymous visitors and suspended members have none.
    """

    def get_all_permissions(self, user_obj, obj=None):
        if obj is not None or not user_obj.is_authenticated or not hasattr(user_obj, "can"):
            return set()
        return {name for flag in Permission if user_obj.can(flag) for name in flag.perm_names}

    async def aget_all_permissions(self, user_obj, obj=None):
        return await sync_to_async(self.get_all_permissions)(user_obj, obj)

    def has_module_perms(self, user_obj, app_label):
        return any(name.startswith(f"{app_label}.") for name in self.get_all_permissions(user_obj))

    async def ahas_module_perms(self, user_obj, app_label):
        return await sync_to_async(self.has_module_perms)(user_obj, app_label)

    def with_perm(self, perm, is_active=True, include_superusers=True, obj=None):
        """Members whose role grants `perm` (or ADMIN, which grants everything)."""
        User = get_user_model()
        flag = Permission.from_perm_name(perm) if isinstance(perm, str) else None
        if flag is None or obj is not None:
            return User._default_manager.none()
        members = User._default_manager.alias(
            flag_bits=F("role__permissions").bitand(int(flag)),
            admin_bits=F("role__permissions").bitand(int(Permission.ADMIN)),
        ).filter(Q(flag_bits=int(flag)) | Q(admin_bits=int(Permission.ADMIN)))
        if is_active is not None:
            members = members.filter(is_active=is_active)
        return members
