"""Skeletons now read the Cyrillic and Greek lowercase letters drawn as Latin small
capitals as those letters (`вов` meets `bob`, `rooт` meets `root`): recompute them.
No name changes."""

from django.db import migrations

from accounts.usernames import recompute_stored_skeletons


class Migration(migrations.Migration):
    dependencies = [("accounts", "0015_username_skeleton_plain_digits_and_small_capitals")]

    operations = [
        migrations.RunPython(recompute_stored_skeletons, migrations.RunPython.noop, elidable=True)
    ]
