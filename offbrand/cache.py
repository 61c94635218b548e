"""Offbrand's cache backends.

`DatabaseCache`, the embedded default: Django's database cache, with an exact `incr`.

Without Redis, rate-limit counters live in a table of the site's own database
(created by `migrate`, hence by `deploy`), so every worker and every instance
counts on the same numbers. Django's `DatabaseCache.incr` is a `get` and a
`set`: two workers counting at once would both write 1, and the `set` would
push the window's expiry back. Here the counter is read and written in one
transaction that holds the row (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite
takes its write lock at `BEGIN IMMEDIATE`, see settings), and only the value
changes.

`RedisCache`: Django's Redis cache, failing fast for a moment once Redis has failed,
with one client per connection pool and `incr`/`decr` in one round trip.

Each Redis call is bounded by REDIS_SOCKET_TIMEOUT, but a request may make
several (a sign-in checks two limits), and every request would wait again.
After a connection error or a timeout, this process answers every Redis call
at once with the same error for REDIS_FAIL_FAST seconds, then tries Redis
again: during an outage a process spends at most one timeout per interval,
and callers (the rate limiter fails closed) decide what the failure means.
"""

import base64
import pickle  # nosec B403: values written by this cache only, as Django's own backend
import threading
import time

from django.core.cache.backends import redis as django_redis
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router, transaction
from django.utils.timezone import now
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


class DatabaseCache(DjangoDatabaseCache):
    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table, key_column = quote(self._table), quote("cache_key")
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        expires_now = connection.ops.adapt_datetimefield_value(now().replace(microsecond=0))
        with transaction.atomic(using=db), connection.cursor() as cursor:
            # Only quoted identifiers are formatted in; the values are parameters.
            select = f"SELECT {quote('value')} FROM {table} WHERE {key_column} = %s"  # noqa: S608  # nosec B608
            cursor.execute(
                f"{select} AND {quote('expires')} > %s{lock}",
                [key, expires_now],
            )
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found.")
            value = pickle.loads(base64.b64decode(row[0].encode()))  # noqa: S301  # nosec B301
            value += delta
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            update = f"UPDATE {table} SET {quote('value')} = %s WHERE {key_column} = %s"  # noqa: S608  # nosec B608
            cursor.execute(update, [encoded, key])
        return value

    def decr(self, key, delta=1, version=None):
        return self.incr(key, -delta, version)


FAILURES = (RedisConnectionError, RedisTimeoutError, OSError)


class Breaker:
    """Per process and server: when the last failure was, and what it was."""

    def __init__(self, fail_fast: float) -> None:
        self.fail_fast = fail_fast
        self.open_until = 0.0
        self.cause: BaseException | None = None
        self.lock = threading.Lock()

    def check(self) -> None:
        if self.cause is not None and time.monotonic() < self.open_until:
            raise RedisConnectionError(
                f"Redis failed less than {self.fail_fast:g} s ago: {self.cause}"
            )

    def failed(self, error: BaseException) -> None:
        with self.lock:
            self.cause = error
            self.open_until = time.monotonic() + self.fail_fast


BREAKERS: dict[str, Breaker] = {}


class GuardedClient:
    """A redis-py client whose calls go through the breaker."""

    def __init__(self, client, breaker: Breaker) -> None:
        self._client = client
        self._breaker = breaker

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute
        breaker = self._breaker

        def call(*args, **kwargs):
            breaker.check()
            try:
                return attribute(*args, **kwargs)
            except FAILURES as error:
                breaker.failed(error)
                raise

        # Kept: the client lives as long as its pool, and its methods do not change.
        self.__dict__[name] = call
        return call


# INCRBY on a key that exists, in one round trip: Django's `incr` asks EXISTS
# first, and a key that expires between the two would come back from INCRBY
# without an expiry (a rate-limit counter that never ends).
INCR_EXISTING_SOURCE = """
if redis.call('exists', KEYS[1]) == 1 then
  return redis.call('incrby', KEYS[1], ARGV[1])
end
return false
"""


# The rate limiter's attempt counters (accounts/ratelimits.py), each in one
# round trip for all keys. The first ARGV[1] KEYS are attempts given back
# first (as GIVE_BACK_ATTEMPTS), the others counters, with ARGV their
# (seconds to live, limit) pairs: each counter is made at 0 if missing, then
# counted; counting stops after the first over its limit. Returns the counts made.
COUNT_ATTEMPTS_SOURCE = """
local given = tonumber(ARGV[1])
for i = 1, given do
  if redis.call('exists', KEYS[i]) == 1 then redis.call('decr', KEYS[i]) end
end
local counts = {}
for i = given + 1, #KEYS do
  local n = i - given
  redis.call('set', KEYS[i], 0, 'EX', ARGV[2 * n], 'NX')
  counts[n] = redis.call('incr', KEYS[i])
  if counts[n] > tonumber(ARGV[2 * n + 1]) then break end
end
return counts
"""
# One attempt given back on each counter that still exists (none is made).
GIVE_BACK_ATTEMPTS_SOURCE = """
for _, key in ipairs(KEYS) do
  if redis.call('exists', key) == 1 then redis.call('decr', key) end
end
return 0
"""


def _bulk(value: str | int | bytes) -> bytes:
    """One argument of a command in Redis's protocol (RESP), as redis-py packs it."""
    if type(value) is int:
        data = b"%d" % value
    elif type(value) is str:
        data = value.encode()
    elif type(value) is bytes:
        data = value
    else:
        raise TypeError(f"a script takes str, int or bytes, not {type(value).__name__}")
    return b"$%d\r\n%s\r\n" % (len(data), data)


class Script:
    """A Lua script's EVAL, packed here: redis-py's generic packing (a type test
    and encoding per argument through several layers) cost more CPU than the
    round trip (issue 16). The script's own text is packed once."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.head = _bulk("EVAL") + _bulk(source)

    def packed(self, keys, args) -> bytes:
        return b"".join(
            [
                b"*%d\r\n" % (3 + len(keys) + len(args)),
                self.head,
                _bulk(len(keys)),
                *map(_bulk, keys),
                *map(_bulk, args),
            ]
        )


INCR_EXISTING = Script(INCR_EXISTING_SOURCE)
COUNT_ATTEMPTS = Script(COUNT_ATTEMPTS_SOURCE)
GIVE_BACK_ATTEMPTS = Script(GIVE_BACK_ATTEMPTS_SOURCE)


def _send_and_read(connection, packed: bytes):
    connection.send_packed_command([packed])
    return connection.read_response()


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, servers, fail_fast: float = 1.0, **options):
        super().__init__(servers, **options)
        key = ",".join(servers)
        self._breaker = BREAKERS.setdefault(key, Breaker(fail_fast))
        self._clients: dict[int, GuardedClient] = {}

    def get_client(self, key=None, *, write=False):
        """One client per connection pool, made once: Django makes a `redis.Redis`
        per call, and building one (its table of reply parsers) costs more CPU
        than the round trip it is made for."""
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = GuardedClient(self._client(connection_pool=pool), self._breaker)
            self._clients[id(pool)] = client
        return client

    def run(self, script: Script, keys, args):
        """`client.eval(script, len(keys), *keys, *args)` on a connection of the
        write pool, through the breaker, with the connection's own retry setting
        (none, settings.py): redis-py's command path (a client method, its
        per-command bookkeeping and metrics, its packing) cost about twice the
        instructions of the round trip itself (issue 16)."""
        breaker = self._breaker
        breaker.check()
        packed = script.packed(keys, args)
        pool = self._get_connection_pool(True)
        try:
            connection = pool.get_connection()
            try:
                return connection.retry.call_with_retry(
                    lambda: _send_and_read(connection, packed),
                    lambda error: connection.disconnect(),
                )
            finally:
                pool.release(connection)
        except FAILURES as error:
            breaker.failed(error)
            raise

    def incr(self, key, delta):
        value = self.run(INCR_EXISTING, [key], [delta])
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def count_attempts(self, counters, version=None, give_back=()) -> list[int]:
        """Count one attempt on each (key, limit, seconds to live) in turn, stopping
        after the first over its limit; atomic, one round trip. The counts made.
        `give_back`: keys given an attempt back first, as `give_back_attempts`, in
        the same round trip."""
        # `make_key`: memcached's key checks (a loop over every character) do not
        # apply to Redis, and the rate limiter's keys are fixed-format.
        given = [self.make_key(key, version=version) for key in give_back]
        keys = [self.make_key(key, version=version) for key, _, _ in counters]
        ttls_and_limits = [int(n) for _, limit, ttl in counters for n in (max(1, ttl), limit)]
        return self._cache.run(COUNT_ATTEMPTS, [*given, *keys], [len(given), *ttls_and_limits])

    def give_back_attempts(self, keys, version=None) -> None:
        """One attempt less on each counter that still exists; one round trip."""
        keys = [self.make_key(key, version=version) for key in keys]
        self._cache.run(GIVE_BACK_ATTEMPTS, keys, [])
