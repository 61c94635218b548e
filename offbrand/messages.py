"""Django's message store (a signed cookie, the session for what does not fit),
with a short cookie left uncompressed and its signer made once per key.

Django compresses the cookie's JSON whatever its size; for the one or two short
messages a page carries ("Welcome back, …") zlib's set-up alone cost about
125,000 instructions a sign-in and the result is rarely shorter (Django keeps
the plain form then anyway). From `COMPRESS_FROM` bytes, where a cookie nears
its 2 KB limit, it is compressed as Django does. Reading accepts both forms
(`signing.loads` looks at the mark), so cookies already set stay valid.

`MESSAGE_STORAGE = "offbrand.messages.MessageStorage"`.
"""

from functools import lru_cache

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage, MessagePartGatherSerializer
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.messages.storage.session import SessionStorage
from django.core import signing

COMPRESS_FROM = 512  # bytes of serialized messages


@lru_cache(maxsize=8)
def _signer(secret_key, fallback_keys: tuple, backend: str, salt: str) -> signing.Signer:
    signer = signing.get_cookie_signer(salt=salt)
    signer.fallback_keys = tuple(signer.fallback_keys)  # Django's is a one-pass map
    return signer


class ShortCookieStorage(CookieStorage):
    def __init__(self, *args, **kwargs):
        super(CookieStorage, self).__init__(*args, **kwargs)
        # Django's get_cookie_signer(), kept per key: it reads the settings and
        # imports the backend on every request.
        self.signer = _signer(
            settings.SECRET_KEY,
            tuple(settings.SECRET_KEY_FALLBACKS),
            settings.SIGNING_BACKEND,
            self.key_salt,
        )

    def _encode_parts(self, messages, encode_empty=False):
        if messages or encode_empty:
            size = sum(map(len, messages)) + len(messages) + 1
            return self.signer.sign_object(
                messages, serializer=MessagePartGatherSerializer, compress=size >= COMPRESS_FROM
            )


class MessageStorage(FallbackStorage):
    storage_classes = (ShortCookieStorage, SessionStorage)
