"""Sign in with a username or an email address, in any case."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UsernameOrEmailBackend(ModelBackend):
    """Authenticate by username or email.

    A suspended (inactive) member with the right password is returned so the
    sign-in form can say why they cannot sign in; a wrong password never
    reveals anything. Sessions of inactive members are still refused by
    `get_user`, which keeps the base class's `user_can_authenticate` check.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        User = get_user_model()
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not username or password is None:
            return None
        user = User.objects.get_by_login(username)
        if user is None:
            # Hash anyway, so an unknown name takes as long as a wrong password.
            User().set_password(password)
            return None
        if user.check_password(password):
            return user
        return None

    def get_user(self, user_id):
        User = get_user_model()
        user = User.objects.select_related("role").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
