"""Django's database sessions, with a new session written by one INSERT.

Django's `create()` asks whether a random key is taken (a SELECT), writes an
empty row for it (an INSERT), and the response then writes the data (an
UPDATE): three statements for every sign-in, which always makes a new key.
Here a new key is kept in memory and the response's save inserts the row
with its data (an INSERT compiled once, `offbrand.prepared.insert`); a taken
key is still caught, by the table's primary key, and another is drawn.
Reading a session (every signed-in request) runs the ORM's query from SQL
built once per process: building and compiling it cost several times the
round trip (issue 16), and makes no `Session` object for it. The data is
signed without compression; a row's signed text verified once is not verified
and parsed again by this process (`decode`). Everything else -- where sessions
live, expiry, a sign-out deleting the row -- is Django's.

`SESSION_ENGINE = "offbrand.sessions"`.
"""

from contextlib import nullcontext
from functools import cache

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core import signing
from django.core.signals import setting_changed
from django.db import IntegrityError, connections, router, transaction
from django.dispatch import receiver
from django.utils import timezone

from offbrand import prepared
from offbrand.randomness import random_string


class SessionStore(DatabaseSessionStore):
    unsaved = False  # a new key whose row the next save inserts
    stored = None  # (key, data) a caller's statement wrote (`new_row`, `row_written`)

    def _get_new_session_key(self):
        # 32 characters of 36 (165 bits): a clash is left to the INSERT.
        return random_key(32)

    def load(self):
        """Django's, from the row's data alone (no `Session` object made for it)."""
        data = self._read_session_data()
        return {} if data is None else self.decode(data)

    def _get_session_from_db(self):
        """Django's `Session.objects.get(session_key=..., expire_date__gt=now)`."""
        data = self._read_session_data()
        return None if data is None else self.model(session_key=self.session_key, session_data=data)

    def _read_session_data(self) -> str | None:
        """The signed data of the session's unexpired row, or None (the key forgotten)."""
        key = self.session_key
        if key is None:
            return None
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(*self._read_query(alias, key, now))
            row = cursor.fetchone()
            if row is None:
                self._session_key = None
                return None
            self._read_along(alias, row, cursor)
        return row[0]

    def _read_query(self, alias: str, key: str, now) -> tuple[str, list]:
        """The SQL and parameters of the read: the session's data comes first."""
        return _session_sql(alias, self.model), [key, now]

    def _read_along(self, alias: str, row: tuple, cursor) -> None:
        """A hook for what a subclass's query reads with the session (the rest of `row`,
        and the results of further statements, on `cursor`)."""

    async def _aget_new_session_key(self):
        return self._get_new_session_key()

    def create(self):
        """A new key, its row written by the next `save()` (with the data)."""
        self._session_key = self._get_new_session_key()
        self.unsaved = self.modified = True
        self.stored = None

    def new_row(self):
        """The row the next `save()` would insert for a new key, for a caller that
        sends it in a statement of its own (a sign-in's, with the devices row:
        one round trip less); None when the key has its row already. The
        caller says `row_written` once it is."""
        if not self.unsaved:
            return None
        return self.create_model_instance(self._get_session(no_load=True))

    def row_written(self) -> None:
        """`new_row`'s row is written: `save()` writes again only if the data
        changes (the response's save would write the same row again). Data with
        anything but plain values is written again anyway (a list could change
        inside without the session knowing)."""
        self.unsaved = False
        data = self._get_session(no_load=True)
        plain = all(type(value) in _PLAIN for value in data.values())
        self.stored = (self.session_key, dict(data)) if plain else None

    def _unchanged_since_written(self) -> bool:
        stored = self.stored
        return (
            stored is not None
            and stored[0] == self.session_key
            and stored[1] == self._get_session(no_load=True)
        )

    async def acreate(self):
        self.create()

    def encode(self, session_dict):
        """Django's, without zlib: a row's few hundred bytes of JSON barely shrink,
        and compressing them cost more than the rest of the signing (issue 16).
        `decode` reads both forms."""
        return signing.dumps(session_dict, salt=self.key_salt, serializer=self.serializer)

    def decode(self, session_data):
        """Django's, remembered by the exact signed text: the signature's HMAC and
        the JSON cost more than the rest of a signed-in request's session work
        (issue 16). Only text that verified is remembered, so a forged or altered
        row is checked (and refused) every time; a changed session is new text.
        Each caller gets its own copy; sessions holding anything but plain values
        are not remembered (a caller could change a list inside)."""
        remembered = _DECODED.get((self.key_salt, session_data))
        if remembered is not None:
            return dict(remembered)
        decoded = super().decode(session_data)
        if decoded and all(type(value) in _PLAIN for value in decoded.values()):
            if len(_DECODED) >= DECODED_MAX:
                _DECODED.clear()
            _DECODED[self.key_salt, session_data] = dict(decoded)
        return decoded

    def save(self, must_create=False):
        if self.session_key is None:
            self.create()
        if not self.unsaved:
            if not must_create and self._unchanged_since_written():
                return  # its row holds this data (`row_written`)
            self.stored = None
            return super().save(must_create=must_create)
        while True:
            try:
                self._insert()
            except CreateError:  # the key was taken: draw another
                self._session_key = self._get_new_session_key()
                continue
            self.unsaved = False
            return

    def _insert(self):
        """Django's `save(must_create=True)`, without a transaction of its own
        outside one (BEGIN and COMMIT are two more round trips): a failed
        INSERT in autocommit leaves nothing to roll back."""
        obj = self.create_model_instance(self._get_session(no_load=True))
        using = router.db_for_write(self.model, instance=obj)
        outer = connections[using].in_atomic_block
        try:
            with transaction.atomic(using=using) if outer else nullcontext():
                prepared.insert(obj, using=using)  # `obj.save(force_insert=True)`
        except IntegrityError as error:
            raise CreateError from error

    async def asave(self, must_create=False):
        if self.session_key is None:
            self.create()
        if not self.unsaved:
            return await super().asave(must_create=must_create)
        while True:
            try:
                await super().asave(must_create=True)
            except CreateError:
                self._session_key = self._get_new_session_key()
                continue
            self.unsaved = False
            return


# (salt, signed text) -> the session data it verified as, for this process.
_DECODED: dict[tuple[str, str], dict] = {}
DECODED_MAX = 4096  # sessions; all forgotten when full
_PLAIN = frozenset({str, int, float, bool, type(None)})


@receiver(setting_changed)
def _forget_decoded(*, setting, **kwargs):
    """Text verified with one secret or serializer says nothing under another (tests)."""
    if setting in {"SECRET_KEY", "SECRET_KEY_FALLBACKS", "SESSION_SERIALIZER"}:
        _DECODED.clear()


def random_key(length: int) -> str:
    """`get_random_string(length, VALID_KEY_CHARS)` from one read of the system's
    randomness (Django's reads it once per character, a system call each)."""
    return random_string(length, VALID_KEY_CHARS)


@cache
def _session_sql(alias: str, model) -> str:
    meta, quote = model._meta, connections[alias].ops.quote_name
    column = {
        name: quote(meta.get_field(name).column)
        for name in ("session_key", "session_data", "expire_date")
    }
    # Only quoted names from the model's metadata are formatted in; values are parameters.
    return (
        f"SELECT {column['session_data']} FROM {quote(meta.db_table)} "  # noqa: S608  # nosec B608
        f"WHERE {column['session_key']} = %s AND {column['expire_date']} > %s"
    )
