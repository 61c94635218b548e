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

A page may have its own query sent in the same round trip (`ReadAlong`, from
the resolved view's `read_with_session(request)`; the feed's posts): on
PostgreSQL, for the member this process last read with that session, and used
by the view only if the request's member is that member (`read_with_session`).
Each round trip a worker waits on costs it far more CPU under load than its
instructions (bench/README.md, seventh pass), so the feed is one round trip,
not two. The first request of a session in a process, or another member, is
read as before.

`SESSION_ENGINE = "accounts.sessions"`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.db import connections

from accounts.flows.usersessions import key_hash
from accounts.models import UserSession
from accounts.selectors import user_loader
from offbrand.prepared import sends_statements_together
from offbrand.sessions import SessionStore as DatabaseSessionStore

# The member each session (by its key's hash) named when this process last read it:
# whom a `ReadAlong` is read for. A guess, checked against the request's member.
_members: dict[str, int] = {}
MEMBERS_MAX = 4096


@dataclass(frozen=True)
class ReadAlong:
    """A statement for the signed-in member sent with the session's read: `key` says
    what it reads (the view asks for it by that key), `statement(member_id)` gives its
    SQL and parameters, `converted(rows)` the rows as the view takes them."""

    key: tuple
    statement: Callable[[int], tuple[str, list]]
    converted: Callable[[list], list]


class SessionStore(DatabaseSessionStore):
    member = None  # read with the session's row; taken once by `user_with_role`
    along: ReadAlong | None = None  # set before the read (`accounts.middleware.get_user`)
    along_rows = None  # (key, member id, rows) once read

    def _read_session_data(self):
        self.member = self.along_rows = None
        self._along_for = None
        return super()._read_session_data()

    def _read_query(self, alias: str, key: str, now) -> tuple[str, list]:
        self._hashed = key_hash(key)
        sql, params = _session_and_member_sql(alias, self.model), [self._hashed, key, now]
        member_id = _members.get(self._hashed)
        if (
            self.along is not None
            and member_id is not None
            and sends_statements_together(connections[alias])
        ):
            other, others = self.along.statement(member_id)
            sql, params = f"{sql}; {other}", [*params, *others]
            self._along_for = member_id
        return sql, params

    @staticmethod
    def remember_member(hashed_key: str, member_id: int) -> None:
        """Whom the session under `hashed_key` names, as read, or as a sign-in just
        recorded it (`user_session_start`): so the page after signing in is read
        along too."""
        if len(_members) >= MEMBERS_MAX:
            _members.clear()
        _members[hashed_key] = member_id

    def _read_along(self, alias: str, row: tuple, cursor) -> None:
        if row[1] is not None:  # the devices row and its member exist
            self.member = user_loader(alias).make(alias, row[1:])
            self.remember_member(self._hashed, self.member.pk)
        else:
            _members.pop(self._hashed, None)
        if self._along_for is not None:
            cursor.nextset()
            rows = self.along.converted(cursor.fetchall())
            self.along_rows = (self.along.key, self._along_for, rows)


def read_with_session(request, key: tuple, member_id: int) -> list | None:
    """The rows of the `ReadAlong` under `key` if this request's session read them for
    `member_id` (the request's member); else None: the caller runs its own query."""
    found = getattr(request.session, "along_rows", None)
    if found is None or found[0] != key or found[1] != member_id:
        return None
    request.session.along_rows = None  # used once
    return found[2]


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
