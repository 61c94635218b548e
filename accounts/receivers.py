"""Signal receivers: connected in `AccountsConfig.ready`."""

from accounts import services
from accounts.flows import reauthentication, usersessions


def count_failed_login(sender, credentials, request=None, **kwargs):
    services.login_failed(request, credentials.get("username") or "")


def on_sign_in(sender, request, user, **kwargs):
    """Signing in is a fresh password (or factor) check; the session gets its row."""
    if request is not None and hasattr(request, "session"):
        reauthentication.reauth_record(request)
        usersessions.user_session_signed_in(request)


def on_sign_out(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        usersessions.user_session_forget(request.session.session_key)
