"""Synthetic members for load tests: `members fill N` and `members remove`.

`fill N --follows F --posts P --comments C` also builds their content: about
F follows per member on a skewed graph (member k of N is followed with a
probability falling like k^(-2/3), so the first few have tens of thousands of
followers and most have a handful), about P posts per member, C comments per
post. PostgreSQL gets every row by COPY; other databases by bulk INSERT.

Synthetic members are `synth-<n>` / `synth-<n>@bench.invalid` (every 7th
address in mixed case, `Synth-<n>@Bench.invalid`, to exercise case-insensitive
lookups), confirmed, with the default role and the password
`synthetic-password`. They are written without `User.save()`, so the command
fills every column itself: the model's defaults, then the values below.
"""

import argparse
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, models, transaction
from django.db.models import BigIntegerField, Max
from django.db.models.expressions import DatabaseDefault
from django.db.models.functions import Cast, Substr
from django.utils import timezone

from accounts.models import Role, User, email_hash
from accounts.usernames import username_key, username_skeleton
from social import markup
from social.models import Comment, Follow, Post

PREFIX = "synth-"
DOMAIN = "bench.invalid"
PASSWORD = "synthetic-password"
# on_delete behaviours the database applies by itself (or that do nothing).
LEFT_TO_DATABASE = {models.DO_NOTHING, models.DB_CASCADE, models.DB_SET_NULL, models.DB_SET_DEFAULT}
# The columns that differ from one synthetic member to the next.
IDENTITY_COLUMNS = ("username", "email", "avatar_hash", "username_key", "username_skeleton")


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


def identity(n: int) -> tuple[str, str, str, str, str]:
    """Username, email, avatar hash, username key and skeleton of synthetic member n."""
    username = f"{PREFIX}{n}"
    email = f"Synth-{n}@Bench.invalid" if n % 7 == 0 else f"{username}@{DOMAIN}"
    return username, email, email_hash(email), username_key(username), username_skeleton(username)


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

    def __init__(self, out, total: int, unit: str = "members"):
        self.out, self.total, self.unit = out, max(total, 1), unit
        self.started = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def show(self, done: int) -> None:
        filled = self.WIDTH * done // self.total
        bar = "#" * filled + "." * (self.WIDTH - filled)
        line = f"\r[{bar}] {done}/{self.total} {self.unit}  {self.elapsed:.1f} s"
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
            "--follows", type=float, default=0, help="Follows per member, on average (skewed)."
        )
        fill.add_argument("--posts", type=float, default=0, help="Posts per member, on average.")
        fill.add_argument(
            "--comments", type=float, default=0, help="Comments per post, on average."
        )
        fill.add_argument("--seed", type=int, default=14, help="Random seed (default 14).")
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
                content = {
                    name: options.get(name) or 0 for name in ("follows", "posts", "comments")
                }
                if any(value < 0 for value in content.values()):
                    raise CommandError("--follows, --posts and --comments cannot be negative.")
                if any(content.values()):
                    self.fill_content(
                        options["count"], options["batch"], options["seed"], **content
                    )
            else:
                self.remove()
        except DatabaseError as error:
            if "statement timeout" in str(error) or "did not answer within" in str(error):
                hint = (
                    "A bulk load runs statements of minutes: run it with "
                    "DATABASE_STATEMENT_TIMEOUT=0 DATABASE_CLIENT_TIMEOUT=0."
                )
            else:
                hint = "Is it reachable, and has `manage.py migrate` been run?"
            raise CommandError(
                f"members {action} failed: the database said {error}. {hint}"
            ) from error

    # --- fill -----------------------------------------------------------------

    def fill(self, count: int, batch: int, *, with_role: bool) -> None:
        # Options given to call_command() as keywords (batch=0) bypass argparse's `type`.
        if count < 1 or batch < 1:
            raise CommandError("N and --batch must be positive whole numbers.")
        first = highest_number() + 1
        self.first_pk = (User.objects.aggregate(top=Max("pk"))["top"] or 0) + 1
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
        with transaction.atomic():
            count = delete_rows(synthetic_members())
        elapsed = time.monotonic() - started
        self.stdout.write(f"Removed {count} synthetic members in {elapsed:.1f} s.")

    # --- content --------------------------------------------------------------

    def fill_content(
        self, count: int, batch: int, seed: int, *, follows: float, posts: float, comments: float
    ) -> None:
        """Follows, posts and comments among the members this fill just made."""
        started = time.monotonic()
        rng = random.Random(seed)
        pks = list(
            synthetic_members()
            .filter(pk__gte=self.first_pk)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        self.write_rows(
            Follow,
            ("follower_id", "followed_id", "created_at"),
            follow_rows(pks, follows, rng),
            int(len(pks) * follows),
            batch,
            "follows",
        )
        self.write_rows(
            Post, POST_COLUMNS, post_rows(pks, posts, rng), int(len(pks) * posts), batch, "posts"
        )
        if comments:
            post_pks = self.new_post_pks(pks)
            self.write_rows(
                Comment,
                COMMENT_COLUMNS,
                comment_rows(pks, post_pks, comments, rng),
                int(len(post_pks) * comments),
                batch,
                "comments",
            )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (Follow, Post, Comment):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        self.stdout.write(
            f"Built their follows, posts and comments in {time.monotonic() - started:.1f} s."
        )

    @staticmethod
    def new_post_pks(author_pks: list[int]) -> list[int]:
        low, high = author_pks[0], author_pks[-1]
        return list(
            Post.objects.filter(author__gte=low, author__lte=high).values_list("pk", flat=True)
        )

    def write_rows(self, model, columns, rows, expected: int, batch: int, unit: str) -> None:
        progress = Progress(self.stderr, expected, unit)
        done = 0
        chunk = []
        bulk = connection.vendor == "postgresql" and expected >= REBUILD_INDEXES_FROM
        with indexes_rebuilt_after(model) if bulk else nullcontext():
            for row in rows:
                chunk.append(row)
                if len(chunk) >= batch:
                    done += self.write_chunk(model, columns, chunk)
                    chunk = []
                    progress.show(min(done, progress.total))
            if chunk:
                done += self.write_chunk(model, columns, chunk)
            progress.show(min(done, progress.total))
            progress.finish()
        self.stdout.write(f"Created {done} {unit} in {progress.elapsed:.1f} s.")

    @staticmethod
    def write_chunk(model, columns, chunk) -> int:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                quote = connection.ops.quote_name
                names = ", ".join(quote(c) for c in columns)
                statement = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"
                with connection.cursor() as cursor, cursor.copy(statement) as copy:
                    for row in chunk:
                        copy.write_row(row)
            else:
                model.objects.bulk_create(
                    [model(**dict(zip(columns, row, strict=True))) for row in chunk]
                )
        return len(chunk)


# From this many rows, PostgreSQL loads into a table without its secondary
# indexes and builds them afterwards: several times faster than maintaining
# them row by row (what pg_restore does too).
REBUILD_INDEXES_FROM = 200_000


@contextmanager
def indexes_rebuilt_after(model):
    """Drop `model`'s secondary indexes and unique constraints, then rebuild them.

    Also skips the foreign-key triggers while loading (the generated rows refer
    only to rows that exist) where the role may (a superuser), and commits
    without waiting for the disk: a crash loses only benchmark data.
    """
    table = model._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'u'",
            [table],
        )
        constraints = cursor.fetchall()
        for name, _ in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
        cursor.execute("SET synchronous_commit TO off")
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        if superuser:
            cursor.execute("SET session_replication_role TO replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if superuser:
                cursor.execute("SET session_replication_role TO DEFAULT")
            cursor.execute("SET synchronous_commit TO DEFAULT")
            cursor.execute("SET maintenance_work_mem TO '256MB'")
            for _, definition in indexes:
                cursor.execute(definition)
            for name, definition in constraints:
                cursor.execute(
                    f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
                )


POST_COLUMNS = ("author_id", "body", "body_html", "created_at", "hidden", "hidden_reason")
COMMENT_COLUMNS = (
    "post_id", "author_id", "body", "body_html", "created_at", "hidden", "hidden_reason"
)  # fmt: skip
WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "members",
    "follow",
    "and",
    "write",
    "posts",
]


def skewed_index(rng: random.Random, n: int) -> int:
    """0..n-1, low indexes far more likely: P(index < k) = (k / n) ** (1/3)."""
    return min(n - 1, int(n * rng.random() ** 3))


def follow_rows(pks: list[int], per_member: float, rng: random.Random):
    n, now = len(pks), timezone.now()
    if n < 2 or not per_member:
        return
    for i, follower in enumerate(pks):
        wanted = min(n - 1, int(rng.random() * 2 * per_member + 0.5))
        targets = set()
        while len(targets) < wanted:
            j = skewed_index(rng, n)
            if j != i:
                targets.add(j)
        for j in targets:
            yield (follower, pks[j], now)


def sentences(rng: random.Random, words: int, count: int = 500) -> list[tuple[str, str]]:
    """A pool of texts with their rendered HTML (rendering is the slow part: once each)."""
    pool = []
    for _ in range(count):
        text = " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."
        pool.append((text, markup.render(text)))
    return pool


def post_rows(pks: list[int], per_member: float, rng: random.Random):
    """Posts by random authors, created a minute apart in id order (newest last)."""
    total = int(len(pks) * per_member)
    start = timezone.now() - timedelta(minutes=total)
    pool = sentences(rng, 12)
    for k in range(total):
        author = pks[int(rng.random() * len(pks))]
        yield (author, *rng.choice(pool), start + timedelta(minutes=k), False, "")


def comment_rows(pks: list[int], post_pks: list[int], per_post: float, rng: random.Random):
    total = int(len(post_pks) * per_post)
    now, pool = timezone.now(), sentences(rng, 6)
    for _ in range(total):
        post = post_pks[int(rng.random() * len(post_pks))]
        author = pks[int(rng.random() * len(pks))]
        yield (post, author, *rng.choice(pool), now, False, "")


def delete_rows(queryset: models.QuerySet) -> int:
    """Delete `queryset`'s rows set-based, applying each relation's on_delete first.

    Follows every reverse foreign key (the hidden many-to-many tables too, and
    models added after this command): SET_NULL by one UPDATE, CASCADE by
    recursing, so a million members and their ten million posts go in a few
    statements instead of through Django's per-object collector.
    """
    model = queryset.model
    for relation in model._meta.get_fields(include_hidden=True):
        is_reverse_key = relation.one_to_many or relation.one_to_one
        if not (relation.auto_created and not relation.concrete and is_reverse_key):
            continue
        name = relation.field.name
        rows = relation.related_model._base_manager.filter(**{f"{name}__in": queryset.values("pk")})
        if relation.on_delete is models.SET_NULL:
            rows.update(**{name: None})
        elif relation.on_delete is models.CASCADE:
            delete_rows(rows)
        elif relation.on_delete not in LEFT_TO_DATABASE and rows.exists():
            raise CommandError(
                f"Synthetic members are referenced by {relation.related_model.__name__}."
                f"{name} ({relation.on_delete.__name__}); delete those rows first."
            )
    subquery, params = queryset.values("pk").query.sql_with_params()
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    with connection.cursor() as cursor:
        # The subquery and its parameters come from the ORM.
        cursor.execute(f"DELETE FROM {table} WHERE {pk} IN ({subquery})", params)  # noqa: S608
        return cursor.rowcount
