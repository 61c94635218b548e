"""CSRF strings from one read of the system's randomness (`offbrand/csrf.py`):
Django's tokens, masks and checks unchanged, only cheaper to draw."""

import random
import re
from collections import Counter

from django.middleware import csrf
from django.test import Client

from offbrand.csrf import ALPHABET, new_csrf_string

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_django_draws_its_csrf_strings_here():
    assert csrf._get_new_csrf_string is new_csrf_string


def test_each_response_has_its_own_token_that_django_accepts(member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    tokens = [TOKEN.search(client.get("/").content.decode())[1] for _ in range(3)]
    assert len(set(tokens)) == 3  # masked anew for each response (BREACH)
    assert all(re.fullmatch(r"[A-Za-z0-9]{64}", token) for token in tokens)
    secret = client.cookies["csrftoken"].value
    assert {csrf._unmask_cipher_token(token) for token in tokens} == {secret}
    forged = tokens[0][:32] + new_csrf_string()
    assert client.post("/accounts/logout/", {"csrfmiddlewaretoken": forged}).status_code == 403
    response = client.post("/accounts/logout/", {"csrfmiddlewaretoken": tokens[1]})
    assert response.status_code == 302


def test_a_signed_in_page_reads_the_systems_randomness_at_most_twice(member, monkeypatch):
    client = Client()
    client.force_login(member)
    client.get("/")  # the CSRF cookie, as a browser holds it
    reads = []
    urandom = random._urandom
    monkeypatch.setattr(random, "_urandom", lambda n: reads.append(n) or urandom(n))
    assert TOKEN.search(client.get("/").content.decode())
    assert 1 <= len(reads) <= 2  # the mask (and the CSP nonce), not one read per character


def test_masking_and_unmasking_are_djangos():
    """Django's arithmetic (`_mask_cipher_secret`, `_unmask_cipher_token`), written out."""
    for _ in range(200):
        secret = new_csrf_string()
        token = csrf._mask_cipher_secret(secret)
        mask, cipher = token[:32], token[32:]
        pairs = zip(secret, mask, strict=True)
        assert cipher == "".join(
            ALPHABET[(ALPHABET.index(s) + ALPHABET.index(m)) % 62] for s, m in pairs
        )
        assert csrf._unmask_cipher_token(token) == secret
        other = new_csrf_string() + new_csrf_string()
        pairs = zip(other[32:], other[:32], strict=True)
        assert csrf._unmask_cipher_token(other) == "".join(
            ALPHABET[ALPHABET.index(c) - ALPHABET.index(m)] for c, m in pairs
        )


def test_every_character_is_equally_likely():
    counts = Counter("".join(new_csrf_string() for _ in range(2000)))
    assert set(counts) == set(ALPHABET)
    expected = 2000 * 32 / len(ALPHABET)
    chi_square = sum((counts[c] - expected) ** 2 / expected for c in ALPHABET)
    # 61 degrees of freedom: above 130 happens by chance less than once in a million
    # runs; a modulo bias (eight characters a quarter more likely) gives about 400.
    assert chi_square < 130
    assert len(new_csrf_string(100)) == 100
