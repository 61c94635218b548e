"""Django's `salted_hmac` without deriving its key again at every call.

`salted_hmac(key_salt, value, secret)` hashes `key_salt + secret` into the HMAC's
key, then starts an HMAC with it, for every value: a sign-in signs or checks
four values (the session, the device cookie twice, the "Welcome back" message)
with a handful of fixed salts and one secret (bench/README.md, issue 16). Here
the HMAC keyed for each (salt, secret, algorithm) is made once and copied for
each value: the same bytes as Django's. `install()` (from `AccountsConfig.ready`)
puts it in `django.core.signing`, whose signer calls it, and refuses to start if
that name is gone, rather than silently keep the slow one.
"""

import hashlib
import hmac
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.utils import crypto
from django.utils.encoding import force_bytes


def salted_hmac(key_salt, value, secret=None, *, algorithm=None):
    """`django.utils.crypto.salted_hmac`, the same HMAC object."""
    if algorithm is None:  # Django's warning about the default
        return crypto.salted_hmac(key_salt, value, secret)
    if secret is None:
        secret = settings.SECRET_KEY
    keyed = _keyed(force_bytes(key_salt), force_bytes(secret), algorithm)
    if keyed is None:
        return crypto.salted_hmac(key_salt, value, secret, algorithm=algorithm)  # its error
    mac = keyed.copy()
    mac.update(force_bytes(value))
    return mac


@lru_cache(maxsize=64)
def _keyed(key_salt: bytes, secret: bytes, algorithm: str) -> hmac.HMAC | None:
    """An HMAC keyed as Django keys it, to copy: never updated itself. None for an
    algorithm hashlib does not have."""
    hasher = getattr(hashlib, algorithm, None)
    if hasher is None:
        return None
    return hmac.new(hasher(key_salt + secret).digest(), digestmod=hasher)


def install() -> None:
    if signing.salted_hmac is salted_hmac:
        return
    if signing.salted_hmac is not crypto.salted_hmac:
        raise RuntimeError("django.core.signing.salted_hmac changed: see offbrand/hmacs.py")
    signing.salted_hmac = salted_hmac
