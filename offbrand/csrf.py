"""Django's CSRF strings (the secret and each response's mask) from one read of
the system's randomness instead of thirty-two.

Every page with a form carries a freshly masked CSRF token (Django's defence
against BREACH), and Django draws the 32-character mask with
`get_random_string`: one `secrets.choice`, so one `os.urandom` system call, per
character. That was the largest cost a signed-in page paid outside its view
and template (bench/README.md, issue 16). `new_csrf_string` draws the same
thing, 32 characters each uniform over Django's 62 (rejection sampling, no
modulo bias), from `secrets.token_bytes`; Django's own code masks, unmasks,
checks and rotates as before. `install()` (from `AccountsConfig.ready`) puts it
in place of Django's private `_get_new_csrf_string`, and refuses to start if
that is gone, rather than silently keep the slow one.
"""

import secrets

from django.middleware import csrf

ALPHABET = csrf.CSRF_ALLOWED_CHARS
# The largest multiple of the alphabet's size in a byte: bytes above it are
# dropped, so every character is equally likely.
_LIMIT = 256 - 256 % len(ALPHABET)


def new_csrf_string(length: int = csrf.CSRF_SECRET_LENGTH) -> str:
    """`length` characters drawn uniformly and independently from `ALPHABET`."""
    chars: list[str] = []
    while len(chars) < length:
        chars += [
            ALPHABET[b % len(ALPHABET)] for b in secrets.token_bytes(length + 8) if b < _LIMIT
        ]
    return "".join(chars[:length])


def install() -> None:
    if not callable(getattr(csrf, "_get_new_csrf_string", None)):
        raise RuntimeError(
            "django.middleware.csrf._get_new_csrf_string is gone: see offbrand/csrf.py"
        )
    csrf._get_new_csrf_string = new_csrf_string
