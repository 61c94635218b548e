"""The Redis cache backend (offbrand/cache.py): one client per pool, `incr` in one round trip."""

import os
import time

import pytest
from redis.connection import AbstractConnection

from offbrand.cache import RedisCache
from tests.servers import RedisServer, require_servers


@pytest.fixture(scope="module")
def redis_url():
    """The suite's Redis (REDIS_URL), or else a throwaway redis-server of the harness."""
    if url := os.environ.get("REDIS_URL", ""):
        yield url
        return
    require_servers(postgres=False)
    server = RedisServer()
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_cache(redis_url):
    """A Redis cache as the site's cache backend builds it."""
    cache = RedisCache(redis_url, {"KEY_PREFIX": "test-redis-cache", "OPTIONS": {"fail_fast": 1}})
    cache.clear()
    yield cache
    cache.clear()


@pytest.fixture
def round_trips(monkeypatch):
    sent = []
    original = AbstractConnection.send_packed_command

    def counted(connection, *args, **kwargs):
        sent.append(args)
        return original(connection, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counted)
    return sent


def test_the_client_is_made_once_per_connection_pool():
    cache = RedisCache("redis://127.0.0.1:6379/0", {})
    assert cache._cache.get_client(write=True) is cache._cache.get_client(write=False)


def test_incr_and_decr_are_one_round_trip_each(redis_cache, round_trips):
    redis_cache.set("counter", 5, 60)
    round_trips.clear()
    assert redis_cache.incr("counter") == 6
    assert redis_cache.decr("counter", 2) == 4
    assert len(round_trips) == 2


def test_incr_of_a_missing_or_expired_key_raises_and_creates_nothing(redis_cache):
    with pytest.raises(ValueError, match="not found"):
        redis_cache.incr("missing")
    redis_cache.set("short", 1, 1)
    time.sleep(1.1)
    with pytest.raises(ValueError, match="not found"):
        redis_cache.decr("short")
    assert redis_cache.get("short") is None
    assert not redis_cache.has_key("short")


def test_incr_keeps_the_expiry_of_the_counter(redis_cache):
    redis_cache.add("window", 0, 60)
    redis_cache.incr("window")
    client = redis_cache._cache.get_client(write=True)
    assert 0 < client.ttl(redis_cache.make_key("window")) <= 60


def test_attempts_are_counted_in_order_until_the_first_refusal_in_one_round_trip(
    redis_cache, round_trips
):
    redis_cache.set("network", 30, 60)  # used up: 30 of 30
    round_trips.clear()
    assert redis_cache.count_attempts([("account", 10, 60), ("device", 10, 60)]) == [1, 1]
    assert redis_cache.count_attempts([("network", 30, 60), ("account", 10, 60)]) == [31]
    assert len(round_trips) == 2
    assert redis_cache.get("account") == 1  # not counted after the refusal
    client = redis_cache._cache.get_client(write=True)
    assert 0 < client.ttl(redis_cache.make_key("device")) <= 60


def test_giving_attempts_back_is_one_round_trip_and_makes_no_counter(redis_cache, round_trips):
    redis_cache.count_attempts([("account", 10, 60), ("device", 10, 60)])
    round_trips.clear()
    redis_cache.give_back_attempts(["account", "device", "gone"])
    assert len(round_trips) == 1
    assert (redis_cache.get("account"), redis_cache.get("device")) == (0, 0)
    assert not redis_cache.has_key("gone")


def test_attempts_given_back_with_a_count_are_one_round_trip_and_make_no_counter(
    redis_cache, round_trips
):
    """A right sign-in's attempts are given back in the round trip that counts the
    new-sign-in notice's cap (accounts.ratelimits.hit_many with a request)."""
    redis_cache.count_attempts([("network", 30, 60), ("account", 10, 60)])
    round_trips.clear()
    counts = redis_cache.count_attempts(
        [("notices", 3, 60)], give_back=["network", "account", "gone"]
    )
    assert counts == [1]
    assert len(round_trips) == 1
    assert (redis_cache.get("network"), redis_cache.get("account")) == (0, 0)
    assert redis_cache.get("notices") == 1
    assert not redis_cache.has_key("gone")


def test_a_script_is_packed_as_redis_py_packs_it():
    """`offbrand.cache.Script` packs EVAL itself (issue 16): the same bytes as redis-py."""
    from redis.connection import Connection

    from offbrand.cache import COUNT_ATTEMPTS

    keys, args = ["test:user:1", "test:ключ"], [1, 60, 10, 0]
    packed = Connection().pack_command("EVAL", COUNT_ATTEMPTS.source, len(keys), *keys, *args)
    assert COUNT_ATTEMPTS.packed(keys, args) == b"".join(packed)
    with pytest.raises(TypeError):
        COUNT_ATTEMPTS.packed(keys, [1.5])


def test_a_failed_script_opens_the_breaker(redis_cache, monkeypatch):
    """A script's round trip fails as a client call did: the breaker answers the
    next calls at once, and the connection is not left half-read in the pool."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    def broken(connection, *args, **kwargs):
        raise RedisConnectionError("gone")

    monkeypatch.setattr(AbstractConnection, "send_packed_command", broken)
    with pytest.raises(RedisConnectionError, match="gone"):
        redis_cache.count_attempts([("account", 10, 60)])
    monkeypatch.undo()
    with pytest.raises(RedisConnectionError, match="failed less than"):
        redis_cache.count_attempts([("account", 10, 60)])
    time.sleep(1.1)  # fail_fast: 1 s
    assert redis_cache.count_attempts([("account", 10, 60)]) == [1]
