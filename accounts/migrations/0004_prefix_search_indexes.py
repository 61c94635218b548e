"""Indexes for case-insensitive prefix search of usernames and emails (PostgreSQL).

Django's `istartswith` reads `UPPER(col::text) LIKE UPPER('abc%')`; only an
expression index with `text_pattern_ops` serves that, so the moderation list
and the admin search stay index scans at a million members. SQLite has no
operator classes and gets nothing here.
"""

from django.db import migrations

INDEXES = {
    "accounts_user_username_prefix": "username",
    "accounts_user_email_prefix": "email",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} "
            f"ON accounts_user (UPPER({column}::text) text_pattern_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_avatars_and_moderation")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
