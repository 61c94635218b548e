"""The embedded default's cache: Django's database cache, with an exact `incr`.

Without Redis, rate-limit counters live in a table of the site's own database
(created by `migrate`, hence by `deploy`), so every worker and every instance
counts on the same numbers. Django's `DatabaseCache.incr` is a `get` and a
`set`: two workers counting at once would both write 1, and the `set` would
push the window's expiry back. Here the counter is read and written in one
transaction that holds the row (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite
takes its write lock at `BEGIN IMMEDIATE`, see settings), and only the value
changes.
"""

import base64
import pickle  # nosec B403: values written by this cache only, as Django's own backend

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router, transaction
from django.utils.timezone import now


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
