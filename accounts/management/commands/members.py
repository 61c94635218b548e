"""Synthetic members for load tests: `members fill N` and `members remove`.

Synthetic members are `synth-<n>` / `synth-<n>@bench.invalid` (every 7th
address in mixed case, `Synth-<n>@Bench.invalid`, to exercise case-insensitive
lookups), confirmed, with the default role and the password
`synthetic-password`. They are written without `User.save()`, so the command
fills every column itself: the model's defaults, then the values below.
"""

import argparse
import time
from collections.abc import Iterator

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, models, transaction
from django.db.models import BigIntegerField, Max
from django.db.models.expressions import DatabaseDefault
from django.db.models.functions import Cast, Substr
from django.utils import timezone

from accounts.models import Role, User, email_hash

PREFIX = "synth-"
DOMAIN = "bench.invalid"
PASSWORD = "synthetic-password"
# on_delete behaviours the database applies by itself (or that do nothing).
LEFT_TO_DATABASE = {models.DO_NOTHING, models.DB_CASCADE, models.DB_SET_NULL, models.DB_SET_DEFAULT}
# The columns that differ from one synthetic member to the next.
IDENTITY_COLUMNS = ("username", "email", "avatar_hash")


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1, with a message saying so."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text!r}")
    return value


def synthetic_members() -> models.QuerySet:
    """Members made by `fill`: the name and the domain must both match."""
    return User.objects.filter(username__regex=rf"^{PREFIX}[0-9]+$", email__iendswith=f"@{DOMAIN}")


def highest_number() -> int:
    """The largest n among existing `synth-<n>`, so a new fill never collides."""
    number = Cast(Substr("username", len(PREFIX) + 1), BigIntegerField())
    return synthetic_members().aggregate(top=Max(number))["top"] or 0


def identity(n: int) -> tuple[str, str, str]:
    """Username, email and avatar hash of synthetic member n."""
    username = f"{PREFIX}{n}"
    email = f"Synth-{n}@Bench.invalid" if n % 7 == 0 else f"{username}@{DOMAIN}"
    return username, email, email_hash(email)


def shared_values(*, with_role: bool) -> dict[str, object]:
    """Every other column, alike for all synthetic members.

    Starts from each field's model default, so a column added to `User` later
    is filled too; the password is hashed once, which is what makes a million
    members cheap.
    """
    values = {
        field.attname: field.get_default()
        for field in User._meta.concrete_fields
        if not (field.primary_key or field.generated or field.attname in IDENTITY_COLUMNS)
    }
    values.update(
        password=make_password(PASSWORD),
        role_id=Role.objects.default_role().pk if with_role else None,
        confirmed=True,
        is_active=True,
        date_joined=timezone.now(),
        last_login=None,
        last_seen=None,
    )
    return values


def prepared(values: dict[str, object]) -> dict[str, object]:
    """`values` as the database takes them, for COPY (which bypasses the ORM).

    Columns with a database default (`db_default`) are left out: COPY fills them.
    """
    fields = {field.attname: field for field in User._meta.concrete_fields}
    return {
        name: fields[name].get_db_prep_save(value, connection)
        for name, value in values.items()
        if not isinstance(value, DatabaseDefault)
    }


class Progress:
    """A plain-text progress bar redrawn in place on stderr."""

    WIDTH = 30

    def __init__(self, out, total: int):
        self.out, self.total, self.started = out, total, time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def show(self, done: int) -> None:
        filled = self.WIDTH * done // self.total
        bar = "#" * filled + "." * (self.WIDTH - filled)
        line = f"\r[{bar}] {done}/{self.total} members  {self.elapsed:.1f} s"
        self.out.write(line, style_func=str, ending="")
        self.out.flush()

    def finish(self) -> None:
        self.out.write("", style_func=str)


class Command(BaseCommand):
    help = (
        "Create (`fill N`) or delete (`remove`) synthetic members for load tests. "
        f"Their password is {PASSWORD!r}."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{fill,remove}")
        fill = actions.add_parser("fill", help="Create N synthetic members.")
        fill.add_argument("count", type=positive_int, metavar="N")
        fill.add_argument(
            "--batch",
            type=positive_int,
            default=10_000,
            help="Members per COPY or bulk insert, each committed on its own (default 10000).",
        )
        fill.add_argument(
            "--without-role",
            action="store_true",
            help="Leave role NULL, e.g. to benchmark the seed_roles backfill.",
        )
        actions.add_parser("remove", help="Delete every synthetic member.")

    def handle(self, *args, action, **options):
        try:
            if action == "fill":
                self.fill(options["count"], options["batch"], with_role=not options["without_role"])
            else:
                self.remove()
        except DatabaseError as error:
            raise CommandError(
                f"members {action} failed: the database said {error}. "
                "Is it reachable, and has `manage.py migrate` been run?"
            ) from error

    # --- fill -----------------------------------------------------------------

    def fill(self, count: int, batch: int, *, with_role: bool) -> None:
        # Options given to call_command() as keywords (batch=0) bypass argparse's `type`.
        if count < 1 or batch < 1:
            raise CommandError("N and --batch must be positive whole numbers.")
        first = highest_number() + 1
        shared = shared_values(with_role=with_role)
        write = self.copy_batch if connection.vendor == "postgresql" else self.insert_batch
        progress = Progress(self.stderr, count)
        for start in range(first, first + count, batch):
            numbers = range(start, min(start + batch, first + count))
            with transaction.atomic():
                write(numbers, shared)
            progress.show(numbers.stop - first)
        progress.finish()
        elapsed = progress.elapsed
        self.stdout.write(
            f"Created {count} synthetic members ({PREFIX}{first}..{PREFIX}{first + count - 1}) "
            f"in {elapsed:.1f} s ({count / max(elapsed, 1e-9):,.0f}/s). "
            f"Their password is {PASSWORD!r}."
        )

    @staticmethod
    def rows(numbers: range, shared: dict) -> Iterator[tuple]:
        values = tuple(shared.values())
        for n in numbers:
            yield identity(n) + values

    def copy_batch(self, numbers: range, shared: dict) -> None:
        """PostgreSQL: stream the rows with COPY, an order of magnitude faster than INSERT."""
        values = prepared(shared)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(name) for name in (*IDENTITY_COLUMNS, *values))
        statement = f"COPY {quote(User._meta.db_table)} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in self.rows(numbers, values):
                copy.write_row(row)

    def insert_batch(self, numbers: range, shared: dict) -> None:
        """Other databases: one bulk INSERT per batch (Django splits it as the backend needs)."""
        members = [
            User(**dict(zip(IDENTITY_COLUMNS, identity(n), strict=True)), **shared) for n in numbers
        ]
        User.objects.bulk_create(members)

    # --- remove ---------------------------------------------------------------

    def remove(self) -> None:
        started = time.monotonic()
        members = synthetic_members()
        with transaction.atomic():
            detach_dependents(members)
            # The rows pointing at them are gone: delete in one statement,
            # without loading a million objects into Django's collector.
            count = members._raw_delete(members.db)
        elapsed = time.monotonic() - started
        self.stdout.write(f"Removed {count} synthetic members in {elapsed:.1f} s.")


def detach_dependents(members: models.QuerySet) -> None:
    """Apply each relation's on_delete to the rows pointing at `members`, set-based.

    Covers the hidden many-to-many tables (groups, permissions) and every model
    with a foreign key to User, including ones added after this command.
    """
    for relation in User._meta.get_fields(include_hidden=True):
        is_reverse_key = relation.one_to_many or relation.one_to_one
        if not (relation.auto_created and not relation.concrete and is_reverse_key):
            continue
        name = relation.field.name
        rows = relation.related_model._base_manager.filter(**{f"{name}__in": members})
        if relation.on_delete is models.SET_NULL:
            rows.update(**{name: None})
        elif relation.on_delete is models.CASCADE:
            rows.delete()
        elif relation.on_delete not in LEFT_TO_DATABASE and rows.exists():
            raise CommandError(
                f"Synthetic members are referenced by {relation.related_model.__name__}."
                f"{name} ({relation.on_delete.__name__}); delete those rows first."
            )
