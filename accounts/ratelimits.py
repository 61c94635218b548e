"""Rate limits on account actions, counted in the shared cache.

Each limit allows `count` attempts per `period` seconds for one key (a client
network, an account, an email address), in fixed windows aligned to the clock
(a 15-minute limit counts from :00, :15, :30 and :45; the window's number is in
the cache key). A refusal's wait is the time left in the window: the real wait,
the same for every counter of that period whichever refused, and known on
every cache backend without asking for a TTL. A counter is incremented
atomically *before* the action it guards, so N simultaneous attempts get at
most `count` through. When the cache is unreachable the limiter fails closed:
the action is refused with a clear message rather than left open to brute
force.

The sign-in budget
------------------
Every check of an account's secret -- the sign-in form, the admin's sign-in,
the "current password" of the password-change and email-change forms,
re-authentication, and second factors -- draws on one sign-in budget
through `account_attempt()`, following OWASP's "Slow Down Online Guessing
Attacks with Device Cookies":

- a browser that signed in to the account before carries a signed device
  cookie (`trust_device()`, bound to the account and to its password: a
  password change or reset revokes the trust of every browser but the one
  that made it); its guesses count per (account, device), and on the budget
  of the account's trusted browsers together (`signin_trusted`), so failures
  from elsewhere -- even from its own network -- never lock the owner out
  there, and minting cookies buys no more than that shared figure;
- every other browser shares one budget per name typed (`signin_account`:
  the username, or the address, every spelling of it; known or not, so the
  lock seen through one name says nothing about the account's other name),
  and its attempts also count per client network (`signin_ip`: an IPv4
  address, or an IPv6 /64), which caps a stranger's guesses over many names;
- a sign-in with a passkey alone names no account until it is verified: it
  counts on the client network, unless its answer names an account the
  browser signed in to before (`passkey_attempt()`), so that browser's own
  budget is again all that limits it.

So a stranger gets at most 10 guesses per 15-minute window per name of an
account (its username and its address: 20, 80 in any clock hour), whatever
their addresses; the account's trusted browsers 30 more per window together.
Every sign-in refusal answers the same 429, with `Retry-After` set to the time
left in the window (at most 900 s), whichever counter refused.

Use it for any new secret (a TOTP code, a recovery code)::

    attempt = ratelimits.account_attempt(
        request, name_key=services.member_name_key(user), user=user
    )
    if not attempt.allowed:
        return ratelimits.too_many_requests(request, attempt.verdict)
    if secret_is_right:
        attempt.succeeded()          # gives the attempt back
        ratelimits.trust_device(request, user)   # after a full sign-in only

A refused attempt is also recorded on the request, and
`accounts.middleware.SignInBudgetMiddleware` turns the response of any view
that met it into that 429, so a form that only saw "wrong password" (Django's
`authenticate()` returns None when a backend refuses) answers alike.
"""

import hashlib
import ipaddress
import logging
import math
import secrets
import time
from dataclasses import dataclass, field, replace
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.crypto import constant_time_compare

from offbrand.hmacs import salted_hmac

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    count: int
    period: int  # seconds; windows start when the clock's time is a multiple of it

    def window(self) -> tuple[int, int]:
        """The window now: its number, and the whole seconds left in it (at least 1)."""
        now = time.time()
        number = int(now // self.period)
        return number, max(1, math.ceil((number + 1) * self.period - now))


SIGN_IN_WINDOW = 15 * 60

# django-allauth's defaults are the reference for these figures.
LIMITS = {
    # The sign-in budget: attempts, counted before the secret is checked;
    # a right answer gives its attempt back. One window for all three, so
    # their 429s are alike.
    "signin_ip": Limit(30, SIGN_IN_WINDOW),
    "signin_account": Limit(10, SIGN_IN_WINDOW),
    "signin_device": Limit(10, SIGN_IN_WINDOW),
    # Every trusted browser of one account together (attack F3): three browsers'
    # worth, however many browsers signed in with the current password.
    "signin_trusted": Limit(30, SIGN_IN_WINDOW),
    "signup_ip": Limit(20, 60),
    "password_reset_ip": Limit(20, 60),
    "password_reset_email": Limit(5, 300),
    # Anyone can ask for a member's reset: a few mails an hour, not 60.
    "password_reset_email_hour": Limit(10, 3600),
    # "Someone tried to register with your address" mails, per address.
    "registration_notice_email": Limit(3, 3600),
    # "New sign-in to your account" mails, per account (accounts/notices.py).
    "new_device_notice_user": Limit(3, 3600),
    "profile_edit_user": Limit(10, 60),
    # A picture (a body over the form allowance) at most once per 6 s window: the
    # minute's edits cannot be spent as ten decodes at once (two upload loops).
    "avatar_upload_user": Limit(1, 6),
    "confirm_resend_ip": Limit(10, 60),
    "confirm_resend_user": Limit(1, 180),
    # Whoever registered an address can press "send again": not 20 links an hour.
    "confirm_resend_user_hour": Limit(5, 3600),
    "email_change_ip": Limit(10, 60),
    "email_change_user": Limit(3, 300),
    # Mail to one address from change requests (a link, or a notice to its owner).
    "email_change_mail_email": Limit(3, 3600),
    # The ceiling on all account mail to one address that a stranger could cause
    # (accounts/emails.py `send_email`): confirmations, "taken" and "changed"
    # notices, reset links, new sign-ins, whatever path or account asks.
    "mail_to_address": Limit(10, 3600),
    "password_change_ip": Limit(10, 60),
    "password_change_user": Limit(5, 60),
    # Members' content (the social app).
    "post_create_user": Limit(10, 60),
    "comment_create_user": Limit(20, 60),
    "follow_user": Limit(60, 60),
}


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # seconds to wait, at most
    unavailable: bool = False  # the cache could not be asked
    remaining: int | None = None  # attempts still allowed after this one
    window: int | None = None  # the window it was counted in (for `give_back`)
    in_progress: bool = False  # refused because the same action is still running
    ends_at: float = 0.0  # a used-up limit: when its window ends (time.time())
    hold: str = ""  # an action still running: the cache key of its hold


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the proxy-added X-Forwarded-For entry
    when OFFBRAND_TRUSTED_PROXIES says how many proxies stand in front."""
    proxies = settings.OFFBRAND_TRUSTED_PROXIES
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def client_key(request) -> str:
    """The rate-limit key of the client: its IPv4 address, or its IPv6 /64.

    One IPv6 subscriber holds a whole /64 (2^64 addresses), so counting per
    address would let them rotate forever.
    """
    return _network_key(client_ip(request))


@lru_cache(maxsize=1024)
def _network_key(ip: str) -> str:
    """`client_key` of an address, kept per address (parsing it is most of the cost)."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip
    if address.version == 6 and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _cache_key(name: str, key: str, window: int) -> str:
    digest = hashlib.sha256(key.casefold().encode()).hexdigest()[:32]
    return f"ratelimit:{name}:{window}:{digest}"


def peek(name: str, key: str) -> Verdict:
    """Would one more attempt be allowed? Counts nothing."""
    limit = LIMITS[name]
    window, left = limit.window()
    try:
        used = cache.get(_cache_key(name, key, window), 0)
    except Exception:
        logger.exception("Rate limiter: cache unavailable; refusing %s", name)
        return Verdict(allowed=False, retry_after=60, unavailable=True)
    if used >= limit.count:
        return _refused(limit, window, left)
    return Verdict(allowed=True, window=window)


def hit(name: str, key: str, request=None) -> Verdict:
    """Count one attempt; refused once the limit is used up in this window.
    `request`: its sign-in attempts still to give back go in the same round trip."""
    return hit_many([(name, key)], request)[0]


def _hit_key_by_key(name: str, key: str) -> Verdict:
    """`hit` on a cache without `count_attempts`: an add, then an incr."""
    limit = LIMITS[name]
    window, left = limit.window()
    cache_key = _cache_key(name, key, window)
    try:
        # The count lives until its window ends (no later attempt reads it).
        cache.add(cache_key, 0, left)
        used = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, left)
        used = 1
    except Exception:
        logger.exception("Rate limiter: cache unavailable; refusing %s", name)
        return Verdict(allowed=False, retry_after=60, unavailable=True)
    return _verdict(limit, used, window, left)


def _verdict(limit: Limit, used: int, window: int, left: int) -> Verdict:
    if used > limit.count:
        return _refused(limit, window, left)
    return Verdict(allowed=True, remaining=limit.count - used, window=window)


def _refused(limit: Limit, window: int, left: int) -> Verdict:
    ends_at = float((window + 1) * limit.period)
    return Verdict(allowed=False, retry_after=left, window=window, ends_at=ends_at)


def hit_many(checks: list[tuple[str, str]], request=None) -> list[Verdict]:
    """`hit` each (name, key) in turn, stopping after the first refusal.

    On Redis it is one round trip for all (`offbrand.cache.RedisCache.count_attempts`,
    atomic), where `hit` makes two each. The sign-in attempts `request` still has
    to give back (`Attempt.succeeded`) are given back first, in that round trip.
    """
    give_back = _take_give_backs(request)
    count_attempts = getattr(cache, "count_attempts", None)
    if count_attempts is None:
        if give_back:
            give_back_many(give_back)
        verdicts = []
        for name, key in checks:
            verdicts.append(_hit_key_by_key(name, key))
            if not verdicts[-1].allowed:
                break
        return verdicts
    counters = []
    for name, key in checks:
        limit = LIMITS[name]
        window, left = limit.window()
        counters.append((limit, window, left, _cache_key(name, key, window)))
    try:
        counts = count_attempts(
            [(ck, limit.count, left) for limit, _, left, ck in counters],
            give_back=[_counted_key(*counted) for counted in give_back],
        )
    except Exception:
        logger.exception("Rate limiter: cache unavailable; refusing %s", checks[0][0])
        return [Verdict(allowed=False, retry_after=60, unavailable=True)]
    return [
        _verdict(limit, used, window, left)
        for (limit, window, left, _), used in zip(counters, counts, strict=False)
    ]


def give_back_many(counted: list[tuple[str, str, int | None]]) -> None:
    """`give_back` each (name, key, window): one round trip on Redis."""
    give_back_attempts = getattr(cache, "give_back_attempts", None)
    if give_back_attempts is None:
        for name, key, window in counted:
            give_back(name, key, window)
        return
    keys = [_counted_key(*each) for each in counted]
    try:
        give_back_attempts(keys)
    except Exception:
        logger.exception("Rate limiter: cache unavailable; could not give back %s", keys)


def _counted_key(name: str, key: str, window: int | None) -> str:
    return _cache_key(name, key, LIMITS[name].window()[0] if window is None else window)


def give_back(name: str, key: str, window: int | None = None) -> None:
    """Undo one counted attempt (it turned out to be the owner's), in the window
    it was counted in (`Verdict.window`; by default the current one)."""
    if window is None:
        window = LIMITS[name].window()[0]
    try:
        cache.decr(_cache_key(name, key, window))
    except ValueError:  # the window ended meanwhile
        pass
    except Exception:
        logger.exception("Rate limiter: cache unavailable; could not give back %s", name)


def clear(name: str, key: str) -> None:
    try:
        cache.delete(_cache_key(name, key, LIMITS[name].window()[0]))
    except Exception:
        logger.exception("Rate limiter: cache unavailable; could not clear %s", name)


# --- One at a time ----------------------------------------------------------

# How long a hold lasts at most if its request never releases it (a worker killed at
# gunicorn's timeout): then the member can act again.
HOLD_SECONDS = 30
HOLDS_ATTRIBUTE = "offbrand_holds"
IN_PROGRESS = Verdict(allowed=False, retry_after=5, in_progress=True)


def hold(request, name: str, key: str) -> Verdict | None:
    """Mark `name` as running for `key` until this request ends; the refusal if it
    already is (another request of the same member is still at it).

    `release_holds(request)` (FileUploadGuardMiddleware calls it) lets go.
    """
    digest = hashlib.sha256(key.casefold().encode()).hexdigest()[:32]
    cache_key, token = f"ratelimit:hold:{name}:{digest}", secrets.token_hex(8)
    try:
        taken = cache.add(cache_key, token, HOLD_SECONDS)
    except Exception:
        logger.exception("Rate limiter: cache unavailable; refusing %s", name)
        return Verdict(allowed=False, retry_after=60, unavailable=True)
    if not taken:
        return replace(IN_PROGRESS, hold=cache_key)
    setattr(request, HOLDS_ATTRIBUTE, [*getattr(request, HOLDS_ATTRIBUTE, []), (cache_key, token)])
    return None


def release_holds(request) -> None:
    for cache_key, token in getattr(request, HOLDS_ATTRIBUTE, []):
        try:
            if cache.get(cache_key) == token:  # not a later request's, after ours expired
                cache.delete(cache_key)
        except Exception:
            logger.exception("Rate limiter: cache unavailable; %s expires by itself", cache_key)
    setattr(request, HOLDS_ATTRIBUTE, [])


def first_refusal(verdicts) -> Verdict | None:
    return next((v for v in verdicts if not v.allowed), None)


def too_many_requests(request, verdict: Verdict, *, unread: bool = False):
    """The 429 page, saying when to try again.

    `unread`: the POST was refused before its body was read (a loop of uploads
    meets this over and over), so the page is a small one of its own, without
    the site's navigation to build, linking back to the page.
    """
    if unread:
        body, headers = unread_refusal(verdict, request.path)
        response = HttpResponse(body, status=429)
        for name, value in headers:
            response[name] = value
        return response
    facts = (verdict.retry_after, verdict.unavailable, verdict.in_progress)
    response = render(request, "429.html", _context(*facts), status=429)
    response["Retry-After"] = str(verdict.retry_after)
    return response


def unread_refusal(verdict: Verdict, back: str) -> tuple[bytes, list[tuple[str, str]]]:
    """The small 429 page of a POST refused unread, linking back to `back`, and its
    Retry-After: for `too_many_requests`, and for `offbrand.refusal_gate`, which
    answers without a Django response."""
    page = _unread_page(verdict.retry_after, verdict.unavailable, verdict.in_progress, back)
    return page, [("Retry-After", str(verdict.retry_after))]


def _context(seconds: int, unavailable: bool, in_progress: bool) -> dict:
    return {
        "seconds": seconds,
        "minutes": max(1, -(-seconds // 60)),
        "unavailable": unavailable,
        "in_progress": in_progress,
    }


@lru_cache(maxsize=256)
def _unread_page(seconds: int, unavailable: bool, in_progress: bool, back: str) -> bytes:
    """The small 429 page, rendered once per process for each wait (a loop meets
    the same few over and over; it depends on no request but its path)."""
    context = _context(seconds, unavailable, in_progress) | {"back": back}
    return render_to_string("429_unread.html", context).encode(settings.DEFAULT_CHARSET)


# --- Refusals remembered per session ------------------------------------------


def _remembered_key(request) -> str | None:
    """The cache key of the refusals remembered for this session cookie and page."""
    session = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not session:
        return None
    digest = hashlib.sha256(f"{session}\0{request.path}".encode()).hexdigest()[:32]
    return f"ratelimit:refused:{digest}"


def remember_refusal(request, verdict: Verdict) -> None:
    """Let `remembered_refusal` answer this session's next uploads to this page,
    for as long as `verdict` holds: until its window ends, or while the hold that
    refused it is held. The limits and the hold decide; this only remembers.

    Only for a signed-in member's refused request: the key is the session cookie that
    request carried, so nobody can have a refusal remembered for another session.
    """
    key = _remembered_key(request)
    if verdict.ends_at:
        value, timeout = (verdict.ends_at, ""), math.ceil(verdict.ends_at - time.time())
    elif verdict.hold:
        value, timeout = (0.0, verdict.hold), HOLD_SECONDS
    else:
        return  # the cache could not be asked: nothing to remember
    if key is None or timeout <= 0:
        return
    try:
        cache.set(key, value, timeout)
    except Exception:
        logger.exception("Rate limiter: cache unavailable; refusal not remembered")


def remembered_refusal(request) -> Verdict | None:
    """The refusal `remember_refusal` remembered for this session and page, if it
    still holds; None otherwise, or when the cache cannot say (the full checks then
    run, and fail closed). One cache read; two while an action is still running.
    Asked by `offbrand.refusal_gate` before Django's handler, for uploads only."""
    key = _remembered_key(request)
    if key is None:
        return None
    try:
        ends_at, hold = cache.get(key) or (0.0, "")
        if hold:
            return IN_PROGRESS if cache.get(hold) is not None else None
    except Exception:
        logger.exception("Rate limiter: cache unavailable; the full checks decide")
        return None
    left = ends_at - time.time()
    if left <= 0:
        return None
    return Verdict(allowed=False, retry_after=max(1, math.ceil(left)), ends_at=ends_at)


# --- The sign-in budget ---------------------------------------------------------

DEVICE_COOKIE = "offbrand_device"
DEVICE_SALT = "offbrand.ratelimits.device"
DEVICE_MAX_AGE = 365 * 24 * 3600
DEVICE_ACCOUNTS = 5  # accounts one browser is remembered for
REFUSAL_ATTRIBUTE = "offbrand_signin_refusal"
REMAINING_ATTRIBUTE = "offbrand_signin_remaining"
DEVICE_ATTRIBUTE = "offbrand_device_cookie"
DEVICES_READ_ATTRIBUTE = "offbrand_devices_read"
DEVICE_TAGS_ATTRIBUTE = "_offbrand_device_tags"  # on a member: tags made for it (`_device_tag`)


def _devices(request) -> dict[str, str]:
    """{account pk: nonce} from the browser's signed device cookie (a copy: the
    cookie is checked once per request, its signature and age at sign-in).
    A nonce is trusted only while its tag matches the account's password
    (`device_nonce`)."""
    if request is None:
        return {}
    read = getattr(request, DEVICES_READ_ATTRIBUTE, None)
    if read is None:
        read = _read_devices(getattr(request, "COOKIES", {}).get(DEVICE_COOKIE))
        setattr(request, DEVICES_READ_ATTRIBUTE, read)
    return dict(read)


def _read_devices(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    try:
        data = signing.loads(raw, salt=DEVICE_SALT, max_age=DEVICE_MAX_AGE)
    except signing.BadSignature:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(pk): str(nonce) for pk, nonce in data.items()}


def _device_tag(user, token: str) -> str:
    """Binds a browser's trust to the account's password hash (Django's
    `get_session_auth_hash` pattern): a new password, set by a change or a
    reset, voids every tag made before it (attack F3).

    Kept on the member's object for its exact inputs: a known browser's sign-in
    asked for the same tag three times (its budget, whether the device is new,
    trusting it again), each an HMAC (issue 16). The object lives for one
    request; a changed password or secret is another input."""
    value = f"{user.pk}\x1f{token}\x1f{user.password}"
    tags = user.__dict__.setdefault(DEVICE_TAGS_ATTRIBUTE, {})
    key = (value, settings.SECRET_KEY)
    tag = tags.get(key)
    if tag is None:
        tag = tags[key] = salted_hmac(DEVICE_SALT, value, algorithm="sha256").hexdigest()[:32]
    return tag


def device_accounts(request) -> list[str]:
    """The accounts (their pks) this browser says it signed in to before; each
    is only trusted once `device_nonce` has checked it against the account."""
    pending = getattr(request, DEVICE_ATTRIBUTE, None)
    return list(pending[1] if pending else _devices(request))


def device_nonce(request, user) -> str | None:
    """This browser's nonce for `user`'s account, if it signed in to it with the
    password the account has now (or was trusted since it was set)."""
    if user is None or user.pk is None:
        return None
    pending = getattr(request, DEVICE_ATTRIBUTE, None)
    nonce = (pending[1] if pending else _devices(request)).get(str(user.pk))
    token, _, tag = (nonce or "").partition(".")
    if not tag or not constant_time_compare(tag, _device_tag(user, token)):
        return None
    return nonce


def trust_device(request, user) -> None:
    """Remember this browser for `user` (it just proved the password, or the
    mailbox) with the password the account has now. The middleware writes the
    cookie on the response."""
    if request is None:
        return
    devices = getattr(request, DEVICE_ATTRIBUTE, (None, None))[1] or _devices(request)
    token = devices.pop(str(user.pk), "").partition(".")[0] or secrets.token_urlsafe(16)
    devices[str(user.pk)] = f"{token}.{_device_tag(user, token)}"  # most recent last
    devices = dict(list(devices.items())[-DEVICE_ACCOUNTS:])
    setattr(request, DEVICE_ATTRIBUTE, (signing.dumps(devices, salt=DEVICE_SALT), devices))


def set_device_cookie(request, response) -> None:
    pending = getattr(request, DEVICE_ATTRIBUTE, None)
    if pending:
        response.set_cookie(
            DEVICE_COOKIE,
            pending[0],
            max_age=DEVICE_MAX_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )


def network_limit_applies(request, *, member_limited: bool) -> bool:
    """Whether a limit keyed on the client network counts this request.

    Not for a signed-in member in a browser their account trusts (its device
    cookie) on an action their own per-member limits bound (`member_limited`):
    strangers sharing the network (a NAT, an IPv6 /64) must not be able to stop
    the owner changing her password or address there, and her limits still
    bound that browser. A session without the cookie meets the network's limit.
    """
    user = getattr(request, "user", None)
    trusted = user is not None and user.is_authenticated and device_nonce(request, user)
    return not (member_limited and trusted)


def member_browser_key(request) -> str:
    """The key of a per-member limit that must not let a stranger slow the owner's
    own browser (the password and address changes): per (member, browser) in a
    browser the account trusts (its device cookie), else one key every other
    browser of the member shares. A stolen copy of a session carries no device
    cookie, so it spends that shared count, never the owner's browser's (attack
    2026-12-06 F12; issue 11's rule for sign-in)."""
    user = request.user
    nonce = device_nonce(request, user)
    if nonce:
        # The token alone: it stays when a password change tags it anew.
        return f"{account_key(user.pk)}:browser:{nonce.partition('.')[0]}"
    return account_key(user.pk)


def account_key(user_pk) -> str:
    """An account's key in the budgets of the browsers it trusts."""
    return f"user:{user_pk}"


# On a request `SignInBudgetMiddleware` serves: the (name, key, window) of
# attempts that turned out right, given back with the request's next count
# (a new-sign-in notice's cap: one round trip for both) or when it ends.
GIVE_BACKS_ATTRIBUTE = "offbrand_signin_give_backs"


@dataclass
class Attempt:
    """One counted guess at an account's secret."""

    verdict: Verdict
    counted: list[tuple[str, str, int | None]] = field(default_factory=list)
    request: object = field(default=None, repr=False)

    @property
    def allowed(self) -> bool:
        return self.verdict.allowed

    def succeeded(self) -> None:
        """The secret was right: the owner's attempt does not use up the budget.

        In a request the middleware serves, given back later in that request
        (until then the budget counts it: stricter, never looser); elsewhere at once.
        """
        pending = getattr(self.request, GIVE_BACKS_ATTRIBUTE, None)
        if pending is None:
            give_back_many(self.counted)
        else:
            pending.extend(self.counted)
        self.counted = []


def expect_give_backs(request) -> None:
    """`SignInBudgetMiddleware`, before the view: right attempts may be given back later."""
    setattr(request, GIVE_BACKS_ATTRIBUTE, [])


def give_back_pending(request) -> None:
    """The attempts `request` still has to give back (its end): one round trip."""
    give_back = _take_give_backs(request)
    if give_back:
        give_back_many(give_back)


def _take_give_backs(request) -> list[tuple[str, str, int | None]]:
    pending = getattr(request, GIVE_BACKS_ATTRIBUTE, None)
    if not pending:
        return []
    setattr(request, GIVE_BACKS_ATTRIBUTE, [])
    return pending


def account_attempt(request, *, name_key: str, user=None) -> Attempt:
    """Count one guess at an account's secret before it is checked.

    `name_key` is the name it was given as (`services.sign_in_name_key`): browsers
    the account never used share one budget per name, known or not, so a lock
    says nothing about which names belong to one account (attack 2026-12-06, F4).
    `user` (the account, if any) lets a browser it trusts use its own budget, and
    the budget of the account's trusted browsers together, instead of the name's
    and the client network's. A refused attempt is recorded on the request for
    `SignInBudgetMiddleware`.
    """
    nonce = device_nonce(request, user)
    if nonce:
        # A browser the account trusts: its own budget first (a browser past it
        # spends nothing of the others'), then all trusted browsers' together, so
        # strangers sharing its network (a NAT, an IPv6 /64) cannot lock it out
        # (attack F3 of the first report) and kept cookies buy no more than the
        # shared figure (attack 2026-12-06, F3).
        checks = [
            ("signin_device", f"{account_key(user.pk)}:{nonce}"),
            ("signin_trusted", account_key(user.pk)),
        ]
    else:
        checks = [("signin_account", name_key)]
        if request is not None:
            checks.insert(0, ("signin_ip", client_key(request)))
    return _count_attempt(request, checks)


def passkey_attempt(request, *, claimed=None) -> Attempt:
    """Count a sign-in with a passkey alone before its answer is checked.

    No account is known until the passkey is verified, so the attempt counts on
    the client network (`signin_ip`), not on any account: a passkey cannot be
    guessed, this bounds the work. `claimed` is the account the answer says
    it is for (its user handle, not yet verified): in a browser that account
    trusts, the attempt is that browser's, on its own budget like its password
    -- so a stranger who spent the network's budget (a NAT, an IPv6 /64)
    cannot stop the owner's passkey there.
    """
    if device_nonce(request, claimed):
        return account_attempt(request, name_key="", user=claimed)
    return _count_attempt(request, [("signin_ip", client_key(request))])


def _count_attempt(request, checks: list[tuple[str, str]]) -> Attempt:
    attempt = Attempt(verdict=Verdict(allowed=True), request=request)
    remaining = []
    for (name, key), verdict in zip(checks, hit_many(checks, request), strict=False):
        attempt.counted.append((name, key, verdict.window))
        if not verdict.allowed:
            attempt.verdict = verdict
            if request is not None:
                setattr(request, REFUSAL_ATTRIBUTE, verdict)
            break
        if verdict.remaining is not None:
            remaining.append(verdict.remaining)
    if request is not None and attempt.allowed and remaining:
        setattr(request, REMAINING_ATTRIBUTE, min(remaining))
    return attempt


def signin_refusal(request) -> Verdict | None:
    return getattr(request, REFUSAL_ATTRIBUTE, None)


def signin_remaining(request) -> int | None:
    """Guesses this browser may still make after the one just counted (a page
    warns before the last one); None when no guess was counted."""
    return getattr(request, REMAINING_ATTRIBUTE, None)
