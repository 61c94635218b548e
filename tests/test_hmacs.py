"""`offbrand.hmacs`: Django's salted HMAC, its key derived once (issue 16)."""

import pytest
from django.core import signing
from django.utils import crypto

from offbrand import hmacs


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
@pytest.mark.parametrize("secret", [None, "another secret", b"bytes secret \xff"])
def test_the_same_hmac_as_django_s(algorithm, secret):
    for salt, value in [("a", "b"), ("django.core.signing.Signersigner", "x" * 300), ("", "")]:
        ours = hmacs.salted_hmac(salt, value, secret, algorithm=algorithm)
        django_s = crypto.salted_hmac(salt, value, secret, algorithm=algorithm)
        assert ours.hexdigest() == django_s.hexdigest()
        assert ours.digest() == hmacs.salted_hmac(salt, value, secret, algorithm=algorithm).digest()


def test_another_secret_makes_another_hmac(settings):
    before = hmacs.salted_hmac("salt", "value", algorithm="sha256").digest()
    settings.SECRET_KEY = "a rotated secret" * 4
    after = hmacs.salted_hmac("salt", "value", algorithm="sha256").digest()
    assert before != after
    assert after == crypto.salted_hmac("salt", "value", algorithm="sha256").digest()


def test_an_unknown_algorithm_is_refused_as_django_refuses_it():
    with pytest.raises(crypto.InvalidAlgorithm):
        hmacs.salted_hmac("salt", "value", algorithm="nope")


def test_signing_uses_it_and_still_reads_old_secrets(settings):
    assert signing.salted_hmac is hmacs.salted_hmac
    signed = signing.dumps({"a": 1}, salt="test")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new" * 20, [settings.SECRET_KEY]
    assert signing.loads(signed, salt="test") == {"a": 1}
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(signing.BadSignature):
        signing.loads(signed, salt="test")
