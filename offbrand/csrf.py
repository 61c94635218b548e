"""Django's CSRF strings (the secret and each response's mask) from one read of
the system's randomness instead of thirty-two.

Every page with a form carries a freshly masked CSRF token (Django's defence
against BREACH), and Django draws the 32-character mask with
`get_random_string`: one `secrets.choice`, so one `os.urandom` system call, per
character. That was the largest cost a signed-in page paid outside its view
and template (bench/README.md, issue 16). `new_csrf_string` draws the same
thing, 32 characters each uniform over Django's 62, from one read
(`offbrand.randomness`); Django's own code masks, unmasks,
checks and rotates as before. `install()` (from `AccountsConfig.ready`) puts it
in place of Django's private `_get_new_csrf_string`, and refuses to start if
that is gone, rather than silently keep the slow one.
"""

from django.middleware import csrf

from offbrand.randomness import random_string

ALPHABET = csrf.CSRF_ALLOWED_CHARS


def new_csrf_string(length: int = csrf.CSRF_SECRET_LENGTH) -> str:
    """`length` characters drawn uniformly and independently from `ALPHABET`."""
    return random_string(length, ALPHABET)


def install() -> None:
    if not callable(getattr(csrf, "_get_new_csrf_string", None)):
        raise RuntimeError(
            "django.middleware.csrf._get_new_csrf_string is gone: see offbrand/csrf.py"
        )
    csrf._get_new_csrf_string = new_csrf_string
