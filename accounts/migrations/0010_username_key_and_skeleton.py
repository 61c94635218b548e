"""Usernames compared by a key computed in Python (NFKC + casefold), uniquely
indexed, and by a look-alike skeleton (accounts/usernames.py); existing
members are backfilled."""

import logging

from django.db import migrations, models

logger = logging.getLogger(__name__)


def backfill(apps, schema_editor):
    from accounts.usernames import username_key, username_skeleton

    User = apps.get_model("accounts", "User")
    seen = set()
    batch = []
    for user in User.objects.order_by("pk").only("pk", "username").iterator(chunk_size=2000):
        key = username_key(user.username)
        if key in seen:
            # Two names SQLite's lower() told apart (Émile, émile): both are
            # kept, the later one's key marked so the unique index holds.
            logger.warning("Username %r is the same as an earlier one; rename it.", user.username)
            key = f"{key}\x1f{user.pk}"
        seen.add(key)
        user.username_key, user.username_skeleton = key, username_skeleton(user.username)
        batch.append(user)
        if len(batch) >= 2000:
            User.objects.bulk_update(batch, ["username_key", "username_skeleton"])
            batch = []
    User.objects.bulk_update(batch, ["username_key", "username_skeleton"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_record_factor_removal_and_deletion")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_key",
            field=models.CharField(editable=False, max_length=600, null=True),
        ),
        migrations.AddField(
            model_name="user",
            name="username_skeleton",
            field=models.CharField(default="", editable=False, max_length=600),
            preserve_default=False,
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="user",
            name="username_key",
            field=models.CharField(editable=False, max_length=600, unique=True),
        ),
        migrations.AlterField(
            model_name="user",
            name="username_skeleton",
            field=models.CharField(db_index=True, editable=False, max_length=600),
        ),
    ]
