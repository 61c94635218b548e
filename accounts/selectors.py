"""Reads about accounts that more than one page needs."""

import inspect
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet, signals
from django.db.models.base import ModelState

from accounts.models import ModerationAction, Role, User, iexact
from accounts.usernames import username_key
from offbrand.prepared import prepare, text


def suspension_message(user: User, consequence: str) -> str:
    """Why a suspended member cannot use the site, the moderator's reason if given,
    and how to appeal."""
    action = user.moderation_actions.filter(kind=ModerationAction.Kind.SUSPEND).first()
    message = f"Your account has been suspended, so {consequence}."
    if action is not None and action.reason:
        message += f" Reason: {action.reason.rstrip('.')}."
    if settings.OFFBRAND_APPEALS_EMAIL:
        message += (
            f" If you think this is a mistake, write to {settings.OFFBRAND_APPEALS_EMAIL} "
            "to appeal."
        )
    return message


def member_search(*, query: str = "", active: str = "", by_email: bool = False) -> QuerySet[User]:
    """Members for the moderation list: by username prefix (or email prefix too, for
    `by_email`: only for those who may see addresses, or a prefix spells one out), and
    by status."""
    members = User.objects.select_related("role").order_by("username")
    query = query.replace("\x00", "").strip()
    if query:
        found = Q(username__istartswith=query)
        if by_email:
            found |= Q(email__istartswith=query)
        members = members.filter(found)
    if active in {"yes", "no"}:
        members = members.filter(is_active=active == "yes")
    return members


def member_named(key: str) -> User | None:
    """The member whose `username_key` is `key`, with their role (a profile's lookup):
    one query, compiled once per process (`offbrand.prepared`)."""
    found = prepare(_member_named, names=("key",)).run(key=key)
    return found[0] if found else None


def _member_named(key: int) -> QuerySet[User]:
    # The key is unique: no ORDER BY or LIMIT needed.
    return User.objects.select_related("role").filter(username_key=text(key)).order_by()


def moderation_members(*, query: str = "", active: str = "", by_email: bool = False):
    """`member_search` for the moderation list. Without a search (the list as it
    opens, or filtered by status), its pages and count run SQL compiled once per
    process (`offbrand.prepared`); a search goes through the ORM."""
    if query.replace("\x00", "").strip():
        return member_search(query=query, active=active, by_email=by_email)
    return prepare(_members_listed, active if active in {"yes", "no"} else "").pages()


def _members_listed(active: str) -> QuerySet[User]:
    return member_search(active=active)


def member_signing_in(identifier: str) -> User | None:
    """The member whose username or email is `identifier`, in any case, with their
    role and whether they have a second factor (`mfa.services.has_factors` answers
    from it): one query, compiled once per process (`offbrand.prepared`)."""
    identifier = identifier.strip()
    # Usernames may contain "@" too: an address that is nobody's email is
    # tried as a username.
    lookups = ["email", "username"] if "@" in identifier else ["username"]
    for by in lookups:
        value = identifier if by == "email" else username_key(identifier)
        found = prepare(_member_signing_in, by, names=("value",)).run(value=value)
        if found:
            return found[0]
    return None


def _member_signing_in(by: str, value: int) -> QuerySet[User]:
    from accounts.mfa.services import READ_AT_SIGN_IN, second_factor

    lookup = iexact("email", text(value)) if by == "email" else Q(username_key=text(value))
    # No ORDER BY (the keys are unique) to tempt the planner off the index.
    return (
        User.objects.select_related("role")
        .filter(lookup)
        .annotate(**{READ_AT_SIGN_IN: ExpressionWrapper(second_factor(), BooleanField())})
        .order_by()
    )


# --- The signed-in member, read on every request ------------------------------


class _UserWithRole:
    """`User.objects.select_related("role").filter(pk=...)`, its SQL built once per
    process: building and compiling that queryset cost about 0.6 ms of CPU, many
    times the query (issue 16). Same row, same columns, the ORM's converters;
    nothing is kept between requests, so a suspension, a password or role change
    counts on the very next request.

    `columns` and `tables` let another read (the session's, `accounts.sessions`)
    select the member in its own statement; `make` turns those values into the
    same objects."""

    def __init__(self, alias: str):
        connection = connections[alias]
        quote = connection.ops.quote_name
        self.user_fields = list(User._meta.concrete_fields)
        self.role_fields = list(Role._meta.concrete_fields)
        columns = [field.get_col("U") for field in self.user_fields]
        columns += [field.get_col("R") for field in self.role_fields]
        self.converters = [
            (
                index,
                connection.ops.get_db_converters(column) + column.get_db_converters(connection),
                column,
            )
            for index, column in enumerate(columns)
        ]
        self.converters = [entry for entry in self.converters if entry[1]]
        self.columns = ", ".join(f"{quote(c.alias)}.{quote(c.target.column)}" for c in columns)
        role_key = User._meta.get_field("role")
        self.user_table = f"{quote(User._meta.db_table)} {quote('U')}"
        self.user_pk_column = User._meta.pk.column
        self.role_join = (
            f"LEFT OUTER JOIN {quote(Role._meta.db_table)} {quote('R')} "
            f"ON ({quote('U')}.{quote(role_key.column)} = "
            f"{quote('R')}.{quote(role_key.target_field.column)})"
        )
        # Only quoted names from the models' metadata are formatted in; the id is a parameter.
        self.sql = (
            f"SELECT {self.columns} FROM {self.user_table} {self.role_join} "  # noqa: S608  # nosec B608
            f"WHERE {quote('U')}.{quote(self.user_pk_column)} = %s"
        )
        self.user_names = [field.attname for field in self.user_fields]
        self.role_names = [field.attname for field in self.role_fields]

    def load(self, alias: str, user_id) -> User | None:
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, [User._meta.pk.get_db_prep_value(user_id, connection)])
            row = cursor.fetchone()
        return None if row is None else self.make(alias, row)

    def make(self, alias: str, row) -> User:
        """The member (and role) from the values of `columns`, in their order."""
        connection = connections[alias]
        values = list(row)
        for index, converters, column in self.converters:
            for converter in converters:
                values[index] = converter(values[index], column, connection)
        count = len(self.user_fields)
        user = full_row(User, alias, self.user_names, values[:count])
        role_values = values[count:]
        role = None
        if role_values[0] is not None:
            role = full_row(Role, alias, self.role_names, role_values)
        User._meta.get_field("role").set_cached_value(user, role)
        return user


def full_row(model, alias: str, names: list[str], values: list):
    """`model.from_db(alias, names, values)` for a row of every concrete field, at
    a third of its cost (issue 16): `Model.__init__` sets each value with `setattr`,
    which for a fresh object stores it in the instance's dict unless a descriptor
    says otherwise; those (a foreign key's id, a file) are still set through it.
    While anything listens to `pre_init`/`post_init`, Django's own way."""
    if signals.pre_init.receivers or signals.post_init.receivers:
        return model.from_db(alias, names, values)
    obj = model.__new__(model)
    state = ModelState()
    state.adding, state.db = False, alias
    obj._state = state
    described = _described(model)
    fields = obj.__dict__
    for name, value in zip(names, values, strict=True):
        if name in described:
            setattr(obj, name, value)
        else:
            fields[name] = value
    return obj


@cache
def _described(model) -> frozenset[str]:
    """The attribute names whose class attribute handles assignment (a data descriptor)."""
    return frozenset(
        field.attname
        for field in model._meta.concrete_fields
        if hasattr(inspect.getattr_static(model, field.attname, None), "__set__")
    )


@cache
def user_loader(alias: str) -> _UserWithRole:
    return _UserWithRole(alias)


# Set by `reading_members_with` while Django's auth reads the signed-in member.
_session_read: ContextVar = ContextVar("offbrand_session_read", default=None)


@contextmanager
def reading_members_with(session):
    """Inside this block `user_with_role` takes the member `session` read with its own
    row (`accounts.sessions`: one query for both), when it is the member asked for.

    The row was read by this request's session query, so it is as fresh as a
    query of its own: nothing is kept between requests."""
    token = _session_read.set(session)
    try:
        yield
    finally:
        _session_read.reset(token)


def _member_read_with_session(alias: str, user_id) -> User | None:
    session = _session_read.get()
    member = getattr(session, "member", None)
    if member is None or member.pk != user_id or member._state.db != alias:
        return None
    session.member = None  # used once: a later read asks the database
    return member


def user_with_role(user_id) -> User | None:
    """The member with this id and their role (one query), or None."""
    try:
        user_id = User._meta.pk.to_python(user_id)
    except ValidationError:  # a malformed id in a session is no member
        return None
    alias = router.db_for_read(User)
    member = _member_read_with_session(alias, user_id)
    if member is not None:
        return member
    return user_loader(alias).load(alias, user_id)
