"""Signed-in devices: a row per session of a member, so they can see where they
are signed in and end any of those sessions.

Works on any server-side session store (database, or database behind the
Redis cache): ending a session deletes it from the store through the store's
own `delete`, so the cookie that carried it signs nobody in any more.
"""

import base64
import hashlib
import time
from contextlib import nullcontext
from datetime import timedelta
from functools import lru_cache
from importlib import import_module

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts import ratelimits
from accounts.devices import network_of, user_agent_of
from accounts.models import User, UserSession
from accounts.notices import SecurityEvent, send_security_notice
from offbrand import prepared

SEEN_KEY = "_offbrand_session_seen_at"  # in the session: when its row was last touched


def session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def key_hash(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()


def _fernet() -> MultiFernet:
    return _fernet_for((settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS))


@lru_cache(maxsize=4)
def _fernet_for(secrets: tuple[str, ...]) -> MultiFernet:
    """The keys derived once per set of secrets (a rotation makes a new set)."""
    return MultiFernet(
        [
            Fernet(
                base64.urlsafe_b64encode(
                    salted_hmac(
                        "offbrand.usersession", "seal", secret=secret, algorithm="sha256"
                    ).digest()
                )
            )
            for secret in secrets
        ]
    )


def seal_key(session_key: str) -> str:
    return _fernet().encrypt(session_key.encode()).decode()


def unseal_key(sealed: str) -> str | None:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except (InvalidToken, ValueError):
        return None  # sealed with a secret no longer configured


def _session_key(request) -> str:
    if request.session.session_key is None:
        request.session.save()
    return request.session.session_key


# --- Recording sessions ----------------------------------------------------------


def user_session_signed_in(request, user: User) -> None:
    """At sign-in (the `user_logged_in` signal): the response will record the session.

    Whether the browser is new to the account is read here, from the signed
    device cookie of the sign-in limits, before this sign-in marks it known.
    """
    request.session[SEEN_KEY] = int(time.time())
    request.offbrand_signed_in = True
    request.offbrand_new_device = ratelimits.device_nonce(request, user) is None


# On a request `UserSessionMiddleware` serves: (member pk, time) of a sign-in whose
# last login and last seen the devices row's INSERT writes.
SIGN_IN_TIME = "offbrand_sign_in_time"


def expect_sign_in_time(request) -> None:
    """`UserSessionMiddleware`, before the view: a sign-in's time may wait for the row."""
    setattr(request, SIGN_IN_TIME, None)


def defer_sign_in_time(request, user: User, now) -> bool:
    """Leave a sign-in's last login and last seen to `user_session_start`, in the
    statement that inserts the devices row: whether the request's middleware takes it."""
    if request is None or not hasattr(request, SIGN_IN_TIME):
        return False  # `login()` outside a request (the test client's): written at once
    setattr(request, SIGN_IN_TIME, (user.pk, now))
    return True


def write_sign_in_time(request) -> None:
    """A deferred sign-in time that no devices row carried (its INSERT failed, or
    none was made): written on its own, as before."""
    pending = getattr(request, SIGN_IN_TIME, None)
    if pending is not None:
        setattr(request, SIGN_IN_TIME, None)
        pk, now = pending
        prepared.update(User, pk, last_login=now, last_seen=now)


def user_session_start(*, request, user: User, first_sign_in: bool = False) -> UserSession:
    """Record the session a sign-in just made; mail a notice if the device is new."""
    session = request.session
    session[SEEN_KEY] = int(time.time())
    session_key = _session_key(request)
    # One INSERT (compiled once), outside any transaction: a sign-in always makes
    # a new key (`login()` cycles it), so no row can be under it yet. The sign-in's
    # last login and last seen, and the new session's own row, go in the same
    # statement (one round trip, issue 16).
    record = UserSession(
        user=user,
        key_hash=key_hash(session_key),
        sealed_key=seal_key(session_key),
        user_agent=user_agent_of(request),
        network=network_of(ratelimits.client_ip(request)),
    )
    pending = getattr(request, SIGN_IN_TIME, None)
    times = None
    if pending is not None and pending[0] == user.pk:
        times = prepared.Update(User, user.pk, {"last_login": pending[1], "last_seen": pending[1]})
    if not _insert_with_session_row(session, record, times):
        prepared.insert(record, with_update=times)
    if times is not None:
        setattr(request, SIGN_IN_TIME, None)
    remember_member = getattr(session, "remember_member", None)
    if remember_member is not None:  # the store that reads a page along (accounts.sessions)
        remember_member(record.key_hash, user.pk)
    request.offbrand_signed_in = False  # recorded: the middleware has nothing left to do
    if not first_sign_in and getattr(request, "offbrand_new_device", False):
        send_security_notice(user, SecurityEvent.NEW_DEVICE, request)
    return record


def _insert_with_session_row(session, record: UserSession, times) -> bool:
    """The devices row inserted in the statement that inserts its session's new
    row (`offbrand.sessions`): whether it was. Not when the session has its row
    already, or another store keeps it; nor when the statement failed on a key
    (a session key drawn twice): then no row was written, the session is saved
    on its own (drawing another key, as its `save()` does) and the devices row
    follows its key."""
    new_row = getattr(session, "new_row", None)
    row = new_row() if new_row is not None else None
    if row is None:
        return False
    using = router.db_for_write(UserSession, instance=record)
    connection = connections[using]
    # One statement on PostgreSQL; elsewhere three, made one transaction. Inside
    # a transaction, a savepoint, so that a failed statement leaves it usable.
    atomic = connection.in_atomic_block or connection.vendor != "postgresql"
    try:
        with transaction.atomic(using=using) if atomic else nullcontext():
            prepared.insert(record, using=using, with_update=times, with_insert=row)
    except IntegrityError:
        session.save()
        session_key = session.session_key
        record.key_hash, record.sealed_key = key_hash(session_key), seal_key(session_key)
        return False
    session.row_written()
    return True


def user_session_touch(request, *, force: bool = False) -> None:
    """Note activity on the current session, at most once per interval (unless `force`).

    A session with no row (made before rows were kept, or re-keyed) gets one.
    """
    now = int(time.time())
    seen = request.session.get(SEEN_KEY)
    recent = isinstance(seen, int) and 0 <= now - seen < settings.OFFBRAND_LAST_SEEN_INTERVAL
    if recent and not force:
        return
    session_key = _session_key(request)
    touched = UserSession.objects.filter(key_hash=key_hash(session_key), user=request.user).update(
        last_activity=timezone.now()
    )
    if not touched:
        UserSession.objects.filter(key_hash=key_hash(session_key)).delete()
        UserSession.objects.create(
            user=request.user,
            key_hash=key_hash(session_key),
            sealed_key=seal_key(session_key),
            user_agent=user_agent_of(request),
            network=network_of(ratelimits.client_ip(request)),
        )
    request.session[SEEN_KEY] = now


def user_session_rekey(request, old_key: str | None) -> int:
    """The session got a new key (e.g. after a password change): follow it.
    Returns how many rows followed (0 or 1)."""
    if not old_key or old_key == request.session.session_key:
        return 0
    new_key = _session_key(request)
    return UserSession.objects.filter(key_hash=key_hash(old_key)).update(
        key_hash=key_hash(new_key), sealed_key=seal_key(new_key)
    )


def user_session_follow_key(request, old_key: str | None) -> None:
    """At the end of a request whose signed-in session got a new key without a
    sign-in (a confirmed address, a change of address, anything that calls
    `update_session_auth_hash` or `cycle_key`): its row follows the new key, or
    one is made. A session left without a row under its key is one a
    suspension cannot find and end (attack report F2)."""
    if not user_session_rekey(request, old_key):
        user_session_touch(request, force=True)


def user_session_forget(session_key: str | None) -> None:
    """Drop the row of a session that ended (sign-out)."""
    if session_key:
        UserSession.objects.filter(key_hash=key_hash(session_key)).delete()


# --- Listing and ending ----------------------------------------------------------


def current_key_hash(request) -> str:
    key = request.session.session_key
    return key_hash(key) if key else ""


def _end(records, *, suspended: bool = False) -> int:
    """Delete each session from the store, then its row.

    For a suspension the row stays as a marker instead (no key, `suspended_at`
    set): the next request carrying that session's cookie finds it and is
    told why it was signed out (`session_ended_by_suspension`).
    """
    store = session_store()
    ended = 0
    for record in records:
        session_key = unseal_key(record.sealed_key) if record.sealed_key else None
        if session_key:
            store(session_key=session_key).delete()
        if suspended:
            UserSession.objects.filter(pk=record.pk).update(
                sealed_key="", suspended_at=timezone.now()
            )
        else:
            UserSession.objects.filter(pk=record.pk).delete()
        ended += 1
    if suspended:
        # Markers outlive no cookie: drop those older than the longest session.
        UserSession.objects.filter(suspended_at__lt=_stale_before()).delete()
    return ended


def session_ended_by_suspension(request) -> User | None:
    """The suspended member whose session this request's cookie carried, if any.

    Only asked when the cookie named a session the store no longer has (one
    indexed query, never on an ordinary request). The marker is used once.
    """
    cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not cookie or request.session.session_key is not None:
        return None
    marker = (
        UserSession.objects.filter(
            key_hash=key_hash(cookie), suspended_at__isnull=False, user__is_active=False
        )
        .select_related("user")
        .first()
    )
    if marker is None:
        return None
    UserSession.objects.filter(pk=marker.pk).delete()
    return marker.user


def _stale_before():
    longest = max(settings.SESSION_COOKIE_AGE, settings.OFFBRAND_REMEMBER_DAYS * 24 * 3600)
    return timezone.now() - timedelta(seconds=longest)


def _signs_in(data: dict, user: User) -> bool:
    """Would this session's data sign `user` in? (Not after a credential change.)"""
    if data.get(SESSION_KEY) != str(user.pk):
        return False
    session_hash = data.get(HASH_SESSION_KEY) or ""
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return any(constant_time_compare(session_hash, candidate) for candidate in hashes)


def _sort_live(user: User, current: str) -> tuple[list[UserSession], list[UserSession]]:
    """The rows of `user`'s sessions: those that still sign them in, and the rest."""
    store = session_store()
    live, dead = [], []
    for record in UserSession.objects.filter(user=user, suspended_at=None):
        record.is_current = record.key_hash == current
        if record.is_current:
            live.append(record)
            continue
        session_key = unseal_key(record.sealed_key)
        data = store(session_key=session_key).load() if session_key else {}
        if record.last_activity >= _stale_before() and _signs_in(data, user):
            live.append(record)
        else:
            dead.append(record)
    return live, dead


def user_sessions_list(*, request) -> list[UserSession]:
    """The member's live sessions, this one first.

    A row whose session is gone, or no longer signs the member in (voided by
    a credential change), is ended and dropped.
    """
    user_session_touch(request, force=True)  # this device is always on its own list
    live, dead = _sort_live(request.user, current_key_hash(request))
    _end(dead)
    live.sort(key=lambda record: not record.is_current)
    return live


def user_sessions_end_voided(*, user: User, request=None) -> int:
    """After a credential change: end, in the store, the sessions it voided."""
    current = current_key_hash(request) if request is not None else ""
    return _end(_sort_live(user, current)[1])


def user_session_end(*, request, session_id: int) -> bool:
    """End one of the member's own sessions (not this one: that is signing out)."""
    records = UserSession.objects.filter(
        pk=session_id, user=request.user, suspended_at=None
    ).exclude(key_hash=current_key_hash(request))
    return _end(list(records)) > 0


def user_sessions_end_others(*, request) -> int:
    """End every session of the member except the one making the request."""
    records = UserSession.objects.filter(user=request.user, suspended_at=None).exclude(
        key_hash=current_key_hash(request)
    )
    return _end(list(records))


def user_sessions_end_for(*, user_ids) -> int:
    """End every recorded session of these members (a bulk suspension)."""
    records = UserSession.objects.filter(user_id__in=user_ids, suspended_at=None)
    return _end(list(records), suspended=True)


def user_sessions_end_all(*, user: User, request=None, suspended: bool = False) -> int:
    """End every recorded session of `user` (account deletion, suspension, reset),
    except the one making `request`, which its own response is about to save.
    A suspension leaves markers behind (see `_end`)."""
    records = UserSession.objects.filter(user=user, suspended_at=None)
    if request is not None and request.session.session_key:
        records = records.exclude(key_hash=current_key_hash(request))
    return _end(list(records), suspended=suspended)
