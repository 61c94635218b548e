"""Signal receivers: connected in `AccountsConfig.ready`."""

from django.utils import timezone

from accounts import ratelimits
from accounts.flows import reauthentication, usersessions
from offbrand import prepared


def record_sign_in_time(sender, request, user, **kwargs):
    """Django's `update_last_login`, with last seen in the same UPDATE: the
    `LastSeenMiddleware` of the sign-in's response then has nothing to write.
    A member signed in as their row is created (registration) had both
    written by its INSERT. In a request that `UserSessionMiddleware` serves,
    the UPDATE goes with the signed-in devices row's INSERT, in one statement
    (`usersessions.user_session_start`)."""
    if getattr(request, "offbrand_signed_in_at_creation", False):
        return
    now = timezone.now()
    if not usersessions.defer_sign_in_time(request, user, now):
        prepared.update(type(user), user.pk, last_login=now, last_seen=now)
    user.last_login = user.last_seen = now


def on_sign_in(sender, request, user, **kwargs):
    """Signing in is a fresh password (or factor) check; the session gets its row;
    the browser, once fully signed in (second factor included), is trusted."""
    if request is not None and hasattr(request, "session"):
        reauthentication.reauth_record(request)
        usersessions.user_session_signed_in(request, user)
        ratelimits.trust_device(request, user)


def on_sign_out(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        usersessions.user_session_forget(request.session.session_key)


def create_cache_table(sender, using, **kwargs):
    """`migrate` (hence `deploy`) creates the database cache's table when one is configured."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)
