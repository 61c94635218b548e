"""Django's CSRF strings (the secret and each response's mask) from one read of
the system's randomness instead of thirty-two.

Every page with a form carries a freshly masked CSRF token (Django's defence
against BREACH), and Django draws the 32-character mask with
`get_random_string`: one `secrets.choice`, so one `os.urandom` system call, per
character. That was the largest cost a signed-in page paid outside its view
and template (bench/README.md, issue 16). `new_csrf_string` draws the same
thing, 32 characters each uniform over Django's 62, from one read
(`offbrand.randomness`). Masking and unmasking do Django's arithmetic from a
table of character pairs (its loop cost ~0.1 M instructions a sign-in); Django's
own code checks and rotates as before. `install()` (from `AccountsConfig.ready`)
puts these in place of Django's private functions, and refuses to start if one
is gone, rather than silently keep the slow one.
"""

import time

from django.middleware import csrf

from offbrand.randomness import random_string

ALPHABET = csrf.CSRF_ALLOWED_CHARS


def new_csrf_string(length: int = csrf.CSRF_SECRET_LENGTH) -> str:
    """`length` characters drawn uniformly and independently from `ALPHABET`."""
    return random_string(length, ALPHABET)


# Each pair of characters' sum and difference in the alphabet (62 x 62 each),
# so masking and unmasking a token is one dictionary lookup per character
# instead of two `str.index` scans and a Python-level loop step.
_ADDED = {
    (a, b): ALPHABET[(i + j) % len(ALPHABET)]
    for i, a in enumerate(ALPHABET)
    for j, b in enumerate(ALPHABET)
}
_TAKEN = {
    (a, b): ALPHABET[(i - j) % len(ALPHABET)]
    for i, a in enumerate(ALPHABET)
    for j, b in enumerate(ALPHABET)
}


def mask_cipher_secret(secret: str) -> str:
    """Django's `_mask_cipher_secret`: a new mask, then the secret shifted by it."""
    mask = new_csrf_string()
    return mask + "".join(map(_ADDED.__getitem__, zip(secret, mask, strict=True)))


def unmask_cipher_token(token: str) -> str:
    """Django's `_unmask_cipher_token` (the token's characters are checked before)."""
    mask, cipher = token[: csrf.CSRF_SECRET_LENGTH], token[csrf.CSRF_SECRET_LENGTH :]
    return "".join(map(_TAKEN.__getitem__, zip(cipher, mask, strict=True)))


# A kept page (social/kept_pages.py) renews the CSRF cookie's expiry at most this often
# per secret and process: Django re-sends the cookie with every token it hands out,
# which cost a signed-in page about 0.25 M instructions (the cookie made and written
# out), more than the rest of the response.
RENEW_EVERY = 24 * 3600  # seconds; the cookie lasts CSRF_COOKIE_AGE (a year by default)
MAX_RENEWED = 10_000
_renewed: dict[str, float] = {}  # secret -> when this process last renewed its cookie


def page_token(request) -> str:
    """`get_token(request)` for a kept page: a freshly masked token (BREACH) each time,
    the cookie renewed (re-sent) when Django made it or at most once a `RENEW_EVERY`."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return csrf.get_token(request)  # a new or unreadable cookie: Django sets it
    now = time.monotonic()
    if now - _renewed.get(secret, -RENEW_EVERY) >= RENEW_EVERY:
        if len(_renewed) >= MAX_RENEWED:
            _renewed.clear()
        _renewed[secret] = now
        return csrf.get_token(request)
    return csrf._mask_cipher_secret(secret)


def install() -> None:
    for name in ("_get_new_csrf_string", "_mask_cipher_secret", "_unmask_cipher_token"):
        if not callable(getattr(csrf, name, None)):
            raise RuntimeError(f"django.middleware.csrf.{name} is gone: see offbrand/csrf.py")
    csrf._get_new_csrf_string = new_csrf_string
    csrf._mask_cipher_secret = mask_cipher_secret
    csrf._unmask_cipher_token = unmask_cipher_token
