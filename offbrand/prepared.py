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
from functools import cache

from django.db import connections
from django.db.models.query import get_related_populators

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

    def run(self, **values) -> list:
        params = [values[name] if name else value for name, value in self.params]
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        objects = []
        for row in rows:
            obj = self.model.from_db(
                self.db, self.init_list, row[self.model_slice], fetch_mode=self.fetch_mode
            )
            for populator in self.related:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects


def prepare(build, *constants, names: tuple[str, ...] = ()) -> PreparedQuerySet:
    """The queryset `build(*constants, *placeholders)` returns, compiled once per
    `build`, `constants` and database vendor. `constants` are what changes the
    SQL's text (a LIMIT, whether a filter is there); `names` are the values
    `run()` takes, in `build`'s order after the constants."""
    return _prepared(build, constants, names, connections["default"].vendor)


@cache
def _prepared(build, constants, names, vendor):
    return PreparedQuerySet(build(*constants, *slots(*names)), names)
