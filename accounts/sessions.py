"""The session read with the member it signs in: one query instead of two (issue 16).

`offbrand.sessions`' store, whose read of the session row also selects, through
the signed-in devices row of that session (`UserSession.key_hash`, unique), the
member and their role. Django's auth then reads the member as before
(`accounts.middleware.get_user` → the backend's `get_user` →
`accounts.selectors.user_with_role`), and is given that row instead of a second
query when it is the member the session names. Everything auth checks is
checked as before on that row: active, the session hash (a password change),
the role's bits. A session with no devices row, or one naming someone else,
reads the member with its own query.

`SESSION_ENGINE = "accounts.sessions"`.
"""

from functools import cache

from django.db import connections

from accounts.flows.usersessions import key_hash
from accounts.models import UserSession
from accounts.selectors import user_loader
from offbrand.sessions import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    member = None  # read with the session's row; taken once by `user_with_role`

    def _read_session_data(self):
        self.member = None
        return super()._read_session_data()

    def _read_query(self, alias: str, key: str, now) -> tuple[str, list]:
        return _session_and_member_sql(alias, self.model), [key_hash(key), key, now]

    def _read_along(self, alias: str, row: tuple) -> None:
        if row[1] is not None:  # the devices row and its member exist
            self.member = user_loader(alias).make(alias, row[1:])


@cache
def _session_and_member_sql(alias: str, model) -> str:
    quote = connections[alias].ops.quote_name
    session, device = model._meta, UserSession._meta
    member = user_loader(alias)

    def column(meta, alias_name, name):
        return f"{quote(alias_name)}.{quote(meta.get_field(name).column)}"

    # Only quoted names from the models' metadata are formatted in; values are parameters.
    return (
        f"SELECT {column(session, 'S', 'session_data')}, {member.columns} "  # noqa: S608  # nosec B608
        f"FROM {quote(session.db_table)} {quote('S')} "
        f"LEFT OUTER JOIN {quote(device.db_table)} {quote('D')} "
        f"ON ({column(device, 'D', 'key_hash')} = %s "
        f"AND {column(device, 'D', 'suspended_at')} IS NULL) "
        f"LEFT OUTER JOIN {member.user_table} "
        f"ON ({column(device, 'D', 'user')} = {quote('U')}.{quote(member.user_pk_column)}) "
        f"{member.role_join} "
        f"WHERE {column(session, 'S', 'session_key')} = %s "
        f"AND {column(session, 'S', 'expire_date')} > %s"
    )
