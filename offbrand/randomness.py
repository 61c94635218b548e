"""Random strings from one read of the system's randomness.

Django's `get_random_string` makes one `secrets.choice`, so one `os.urandom`
system call, per character; session keys and CSRF strings are drawn on every
sign-in and every page with a form (issue 16). Here one read gives them all,
each character uniform and independent over the alphabet: bytes at or above
the largest multiple of its size are dropped (rejection sampling, no modulo bias).
"""

import secrets


def random_string(length: int, alphabet: str) -> str:
    """`length` characters drawn uniformly and independently from `alphabet`."""
    size = len(alphabet)
    limit = 256 - 256 % size
    chars: list[str] = []
    while len(chars) < length:
        chars += [alphabet[b % size] for b in secrets.token_bytes(length + 8) if b < limit]
    return "".join(chars[:length])
