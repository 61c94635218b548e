"""Skeletons now drop separators and read look-alike digits as letters
(`f1ona` meets `fiona`, `b_oss` meets `boss`): recompute them. No name changes."""

from django.db import migrations

from accounts.usernames import recompute_stored_skeletons


class Migration(migrations.Migration):
    dependencies = [("accounts", "0013_usersession_suspension_marker")]

    operations = [
        migrations.RunPython(recompute_stored_skeletons, migrations.RunPython.noop, elidable=True)
    ]
