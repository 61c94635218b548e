"""Rate limits on account actions, counted in the cache so they hold across workers.

Each limit allows `count` attempts per `period` seconds for one key (an IP
address, an account, an email address), counted from the first attempt. When the cache is
unreachable the limiter fails closed: the action is refused with a clear
message rather than left open to brute force.
"""

import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    count: int
    period: int  # seconds


# django-allauth's defaults are the reference for these figures.
LIMITS = {
    "login_failed_account": Limit(5, 300),
    "login_failed_ip": Limit(10, 60),
    "signup_ip": Limit(20, 60),
    "password_reset_ip": Limit(20, 60),
    "password_reset_email": Limit(5, 300),
    "confirm_resend_ip": Limit(10, 60),
    "confirm_resend_user": Limit(1, 180),
    "email_change_ip": Limit(10, 60),
    "email_change_user": Limit(3, 300),
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


def _cache_key(name: str, key: str) -> str:
    digest = hashlib.sha256(key.casefold().encode()).hexdigest()[:32]
    return f"ratelimit:{name}:{digest}"


def peek(name: str, key: str) -> Verdict:
    """Would one more attempt be allowed? Counts nothing."""
    cache_key, retry_after = _cache_key(name, key), LIMITS[name].period
    try:
        used = cache.get(cache_key, 0)
    except Exception:
        logger.exception("Rate limiter: cache unavailable; refusing %s", name)
        return Verdict(allowed=False, retry_after=60, unavailable=True)
    if used >= LIMITS[name].count:
        return Verdict(allowed=False, retry_after=retry_after)
    return Verdict(allowed=True)


def hit(name: str, key: str) -> Verdict:
    """Count one attempt; refused once the limit is used up."""
    cache_key, retry_after = _cache_key(name, key), LIMITS[name].period
    try:
        # The count lives `period` seconds from the first attempt.
        cache.add(cache_key, 0, LIMITS[name].period)
        used = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, LIMITS[name].period)
        used = 1
    except Exception:
        logger.exception("Rate limiter: cache unavailable; refusing %s", name)
        return Verdict(allowed=False, retry_after=60, unavailable=True)
    if used > LIMITS[name].count:
        return Verdict(allowed=False, retry_after=retry_after)
    return Verdict(allowed=True)


def clear(name: str, key: str) -> None:
    try:
        cache.delete(_cache_key(name, key))
    except Exception:
        logger.exception("Rate limiter: cache unavailable; could not clear %s", name)


def first_refusal(verdicts) -> Verdict | None:
    return next((v for v in verdicts if not v.allowed), None)


def too_many_requests(request, verdict: Verdict):
    """The 429 page, saying when to try again."""
    minutes = max(1, -(-verdict.retry_after // 60))
    response = render(
        request,
        "429.html",
        {"minutes": minutes, "unavailable": verdict.unavailable},
        status=429,
    )
    response["Retry-After"] = str(verdict.retry_after)
    return response
