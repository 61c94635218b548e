"""Skeletons now read every decimal digit as its ASCII digit and small capitals
as their letter (`v١` meets `v1`, `ʙoss` meets `boss`): recompute them. No name changes."""

from django.db import migrations

from accounts.usernames import recompute_stored_skeletons


class Migration(migrations.Migration):
    dependencies = [("accounts", "0014_username_skeleton_folds_digits_and_separators")]

    operations = [
        migrations.RunPython(recompute_stored_skeletons, migrations.RunPython.noop, elidable=True)
    ]
