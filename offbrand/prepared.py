"""Querysets compiled once per process, then run with other values.

The ORM builds and compiles a queryset on every request: for the feed's and
the profile's page of posts (posts, authors, comment counts) that was about
1.5 ms of CPU, several times the query itself (bench/README.md, issue 16).
`prepare()` builds the queryset once with placeholder values (`Slot`s), keeps
the compiler's SQL and row layout, and `run()` executes that same SQL with the
real values and makes the objects as `QuerySet` iteration does
(`ModelIterable`: the model, its `select_related` objects, its annotations,
through the database converters). Only querysets whose shape does not depend on
the values may be prepared: everything that changes the SQL's text (a filter
added or not, a LIMIT) belongs in the key passed to `prepare`. A placeholder
is an int (ids, cursors); `text(placeholder)` makes one for a text field.
"""

from dataclasses import dataclass
from functools import cache, cached_property

from django.db import connections, router, transaction
from django.db.models import CharField, Model, TextField, signals
from django.db.models.query import get_related_populators
from django.db.models.sql import InsertQuery

_SLOT_BASE = 7_101_000_000_000_000_000  # no real id or limit is this large


@dataclass(frozen=True)
class Slot:
    """A named value of a prepared queryset; `int(slot)` is its placeholder."""

    name: str
    number: int

    def __int__(self) -> int:
        return _SLOT_BASE + self.number


def slots(*names: str) -> list[int]:
    """Placeholders for `names`, to build the queryset with (ints: ids, cursors)."""
    return [int(Slot(name, number)) for number, name in enumerate(names)]


_TEXT = "\x00slot:"  # no stored text starts with a NUL (PostgreSQL refuses it)


def text(placeholder: int) -> str:
    """The placeholder `placeholder` for a text value (a username, an address)."""
    return f"{_TEXT}{placeholder}"


def _placeholder(param):
    if type(param) is str and param.startswith(_TEXT):
        return int(param.removeprefix(_TEXT))
    return param if type(param) is int else None


def sends_statements_together(connection) -> bool:
    """Whether several statements can go as one query, their results read in turn:
    PostgreSQL with client-side binding (the simple protocol); sqlite3 runs one at a time."""
    return connection.vendor == "postgresql" and not connection.features.uses_server_side_binding


class PreparedQuerySet:
    def __init__(self, queryset, names: tuple[str, ...]):
        placeholders = {int(Slot(name, n)): name for n, name in enumerate(names)}
        self.db = queryset.db
        compiler = queryset.query.get_compiler(using=self.db)
        self.sql, params = compiler.as_sql()
        self.params = [(placeholders.get(_placeholder(p)), p) for p in params]
        missing = set(names) - {name for name, _ in self.params if name}
        if missing:
            raise ValueError(f"placeholders not found in the SQL: {sorted(missing)}")
        select, klass_info = compiler.select, compiler.klass_info
        fields = [column[0] for column in select[0 : compiler.col_count]]
        self.converters = compiler.get_converters(fields)
        self.compiler = compiler
        self.model = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.model_slice = slice(start, end)
        self.init_list = [column[0].target.attname for column in select[start:end]]
        self.related = get_related_populators(klass_info, select, self.db, queryset._fetch_mode)
        self.annotations = list(compiler.annotation_col_map.items())
        self.fetch_mode = queryset._fetch_mode
        # Where each model's column and each annotation sits in a row (`position`).
        self.positions = dict(self.annotations)
        for index, (column, _sql, _alias) in enumerate(select[: compiler.col_count]):
            target = getattr(column, "target", None)
            if target is not None:
                self.positions.setdefault((target.model, target.attname), index)
        self.queryset = queryset if not names and not queryset.query.is_sliced else None

    @cached_property
    def _count(self) -> tuple[str, list]:
        rows = self.queryset.order_by().values("pk").query.get_compiler(using=self.db)
        sql, params = rows.as_sql()
        # The ORM's own compiled SQL, its values bound parameters.
        return f"SELECT COUNT(*) FROM ({sql}) AS counted", list(params)  # noqa: S608  # nosec B608

    def count(self) -> int:
        """`queryset.count()`, its SQL compiled once (no placeholders, unsliced)."""
        if self.queryset is None:
            raise TypeError("only a prepared queryset without placeholders or slice counts")
        with connections[self.db].cursor() as cursor:
            cursor.execute(*self._count)
            return cursor.fetchone()[0]

    def pages(self) -> "PreparedPages":
        """The queryset's objects for a paginator, a page per query."""
        return PreparedPages(self)

    def run(self, *, limit: int | None = None, offset: int = 0, **values) -> list:
        return [self.make(row) for row in self.rows(limit=limit, offset=offset, **values)]

    def rows(self, *, limit: int | None = None, offset: int = 0, **values) -> list:
        """The rows, as the database converters give them, before any object is made:
        for a page that needs its objects only now and then (`make`). `limit` and
        `offset` page through an unsliced queryset without placeholders, bound as
        values (one SQL text for every page)."""
        sql, params = self.statement(**values)
        if limit is not None:
            if self.queryset is None:
                raise TypeError("only a prepared queryset without placeholders or slice pages")
            sql, params = f"{sql} LIMIT %s OFFSET %s", [*params, limit, offset]
        with connections[self.db].cursor() as cursor:
            cursor.execute(sql, params)
            return self.converted(cursor.fetchall())

    def statement(self, **values) -> tuple[str, list]:
        """The SQL and its parameters for `values`: to send with another statement."""
        return self.sql, [values[name] if name else value for name, value in self.params]

    def converted(self, rows: list) -> list:
        """Rows as the cursor gave them, through the database converters (`rows()`'s)."""
        if self.converters:
            rows = list(self.compiler.apply_converters(rows, self.converters))
        return rows

    def rows_with(self, sql: str, params: list, **values) -> tuple[list, tuple]:
        """`rows(**values)`, and the one row another statement (`sql`, `params`) answers,
        in one round trip on PostgreSQL: both statements sent as one query (client-side
        binding's simple protocol), their results read in turn. Elsewhere one after the
        other (sqlite3 runs one statement at a time)."""
        connection = connections[self.db]
        if not sends_statements_together(connection):
            rows = self.rows(**values)
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return rows, cursor.fetchone()
        own_sql, own = self.statement(**values)
        with connection.cursor() as cursor:
            # Two statements compiled from the models (the ORM's, the caller's SQL);
            # every value is a bound parameter.
            cursor.execute(f"{own_sql}; {sql}", [*own, *params])
            rows = cursor.fetchall()
            cursor.nextset()
            other = cursor.fetchone()
        return self.converted(rows), other

    def make(self, row):
        """The object of `row` as `QuerySet` iteration makes it (`ModelIterable`)."""
        obj = self.model.from_db(
            self.db, self.init_list, row[self.model_slice], fetch_mode=self.fetch_mode
        )
        for populator in self.related:
            populator.populate(row, obj)
        for name, position in self.annotations:
            setattr(obj, name, row[position])
        return obj

    def position(self, name: str, model=None) -> int:
        """Where a row holds `model`'s column `name` (an attname), or the annotation `name`."""
        return self.positions[(model, name) if model else name]


class PreparedPages:
    """What a paginator pages through (`Paginator(prepared.pages(), 25)`): each page
    one query of SQL compiled once, LIMIT and OFFSET bound as values; `count()` and
    `queryset` (what the rows were built from, for a paginator that inspects it)
    as the ORM's. For a prepared queryset without placeholders, unsliced."""

    ordered = True

    def __init__(self, prepared: PreparedQuerySet):
        if prepared.queryset is None:
            raise TypeError("only a prepared queryset without placeholders or slice has rows")
        self.prepared, self.queryset = prepared, prepared.queryset

    def count(self) -> int:
        return self.prepared.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list:
        if not isinstance(index, slice) or index.stop is None or index.step is not None:
            raise TypeError("prepared rows are read a page at a time: rows[start:stop]")
        start, stop = index.start or 0, index.stop
        if stop <= start:  # an empty list's first page: no query, as the ORM's
            return []
        return self.prepared.run(limit=stop - start, offset=start)


def prepare(build, *constants, names: tuple[str, ...] = ()) -> PreparedQuerySet:
    """The queryset `build(*constants, *placeholders)` returns, compiled once per
    `build`, `constants` and database vendor. `constants` are what changes the
    SQL's text (a LIMIT, whether a filter is there); `names` are the values
    `run()` takes, in `build`'s order after the constants."""
    return _prepared(build, constants, names, connections["default"].vendor)


@cache
def _prepared(build, constants, names, vendor):
    return PreparedQuerySet(build(*constants, *slots(*names)), names)


# --- Writes of one row ---------------------------------------------------------


class _Insert:
    """The INSERT of one row of `model`, compiled once by the ORM's own compiler,
    whose `pre_save_val` and `prepare_value` give each row's values as `save()` would."""

    def __init__(self, model, using: str):
        meta = model._meta
        self.fields = [f for f in meta.local_concrete_fields if not f.generated]
        if meta.auto_field is not None:
            self.fields.remove(meta.auto_field)
        self.returning = [f for f in meta.db_returning_fields if f not in self.fields]
        query = InsertQuery(model)
        query.insert_values(self.fields, [model()])
        self.compiler = query.get_compiler(using=using)
        self.compiler.returning_fields = self.returning
        ((self.sql, _),) = self.compiler.as_sql()
        self.columns = [f.get_col(meta.db_table) for f in self.returning]

    def params(self, obj) -> list:
        """Each field's value as `save()` would send it. A `CharField` or
        `TextField` (those classes, not subclasses) holding a `str` sends it as
        it is: that is what their `pre_save` and `get_db_prep_save` give, and
        asking them cost ~12,000 instructions a field (issue 16)."""
        compiler, values, params = self.compiler, obj.__dict__, []
        for field in self.fields:
            value = values.get(field.attname)
            if type(value) is not str or type(field) not in _TEXT_FIELDS:
                value = compiler.prepare_value(field, compiler.pre_save_val(field, obj))
            params.append(value)
        return params

    def run(self, obj, using: str, before: tuple = ()) -> None:
        """`before`: (SQL, parameters) of statements sent first in the same one (a WITH)."""
        compiler, connection = self.compiler, connections[using]
        sql, params = self.sql, self.params(obj)
        if before:
            sql = _with_before(sql, *(statement for statement, _ in before))
            params = [*(param for _, values in before for param in values), *params]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if self.returning:
                rows = connection.ops.fetch_returned_rows(cursor, compiler.returning_params)
        if self.returning:
            converters = compiler.get_converters(self.columns)
            row = list(compiler.apply_converters(rows, converters) if converters else rows)[0]
            for field, value in zip(self.returning, row, strict=True):
                setattr(obj, field.attname, value)


_TEXT_FIELDS = frozenset({CharField, TextField})


@cache
def _insert(model, using: str) -> _Insert:
    return _Insert(model, using)


def insert(
    obj,
    *,
    using: str | None = None,
    with_update: "Update | None" = None,
    with_insert: Model | None = None,
) -> None:
    """`obj.save(force_insert=True)` of a new row of a plain model (no `save()` of
    its own, no parent model): the same values and signals, the INSERT compiled
    once per model and database instead of at every save (issue 16).

    `with_update`: an `update()` of another row that belongs to the same action;
    `with_insert`: a new row of another plain model that does too (saved as
    `insert(with_insert)` would). Both are sent in the same statement on
    PostgreSQL (a data-modifying WITH: every row is written, or none), as
    statements of their own just before elsewhere."""
    using = using or router.db_for_write(type(obj), instance=obj)
    _check_plain(type(obj))
    if with_insert is not None:
        _check_plain(type(with_insert))
        if _insert(type(with_insert), using).returning:
            name = type(with_insert).__name__
            raise TypeError(f"{name}'s INSERT returns values: insert it alone")
    if connections[using].vendor != "postgresql":
        if with_update is not None:
            with_update.run(using)
        if with_insert is not None:
            insert(with_insert, using=using)
        with_update = with_insert = None
    before = []
    if with_update is not None:
        before.append(with_update.sql_and_params(using))
    if with_insert is not None:
        _pre_save(with_insert, using)
        also = _insert(type(with_insert), using)
        before.append((also.sql, also.params(with_insert)))
    _pre_save(obj, using)
    _insert(type(obj), using).run(obj, using, tuple(before))
    if with_insert is not None:
        _post_save(with_insert, using)
    _post_save(obj, using)


def _check_plain(model) -> None:
    if model._meta.parents or model.save is not Model.save:
        raise TypeError(f"{model.__name__} is saved by its own save(): use it")


def _pre_save(obj, using: str) -> None:
    signals.pre_save.send(
        sender=type(obj), instance=obj, raw=False, using=using, update_fields=None
    )


def _post_save(obj, using: str) -> None:
    obj._state.adding, obj._state.db = False, using
    signals.post_save.send(
        sender=type(obj), instance=obj, created=True, update_fields=None, raw=False, using=using
    )


@cache
def _update_sql(model, names: tuple[str, ...], using: str) -> str:
    quote, meta = connections[using].ops.quote_name, model._meta
    columns = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in names)
    # Only quoted names from the model's metadata are formatted in; values are parameters.
    return f"UPDATE {quote(meta.db_table)} SET {columns} WHERE {quote(meta.pk.column)} = %s"  # noqa: S608  # nosec B608


@dataclass(frozen=True)
class Update:
    """`model._base_manager.filter(pk=pk).update(**values)` with plain values (no
    expressions), its SQL built once per model and fields."""

    model: type
    pk: object
    values: dict

    def sql_and_params(self, using: str) -> tuple[str, list]:
        connection, meta = connections[using], self.model._meta
        params = [
            meta.get_field(name).get_db_prep_save(value, connection)
            for name, value in self.values.items()
        ]
        params.append(meta.pk.get_db_prep_value(self.pk, connection))
        return _update_sql(self.model, tuple(self.values), using), params

    def run(self, using: str | None = None) -> int:
        """The rows updated."""
        using = using or router.db_for_write(self.model)
        sql, params = self.sql_and_params(using)
        with transaction.mark_for_rollback_on_error(using), connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount


def update(model, pk, **values) -> int:
    """`model._base_manager.filter(pk=pk).update(**values)` (see `Update`); the rows updated."""
    return Update(model, pk, values).run()


@cache
def _with_before(insert_sql: str, *before: str) -> str:
    # Only SQL compiled from the models' metadata is formatted in; values are parameters.
    steps = ", ".join(f'"offbrand_also{n or ""}" AS ({sql})' for n, sql in enumerate(before))
    return f"WITH {steps} {insert_sql}"
