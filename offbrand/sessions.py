"""Sessions in the database, cached, and indifferent to a cache outage.

Django's `cached_db` store already reads past a failing cache, but writes
to it unguarded; with Redis down, every signed-in request would fail. Here
each cache call that fails is logged and skipped: the database holds the
truth, the cache only spares queries.
"""

import logging

from django.contrib.sessions.backends import cached_db

logger = logging.getLogger(__name__)


class TolerantCache:
    """A cache whose failures read as misses and whose writes may be lost.

    Deletion is the exception: a session ended (logout, flush) while the cache
    is unreachable could come back from it later, so that failure is raised.
    """

    def __init__(self, cache):
        self._cache = cache

    def __getattr__(self, name):
        method = getattr(self._cache, name)
        if not callable(method) or name in {"delete", "delete_many", "clear"}:
            return method

        def call(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except Exception as error:
                logger.warning("Session cache unavailable (%s): %s", name, error)
                return None

        return call

    def __contains__(self, key):
        try:
            return key in self._cache
        except Exception as error:
            logger.warning("Session cache unavailable (contains): %s", error)
            return False


class SessionStore(cached_db.SessionStore):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._cache = TolerantCache(self._cache)
