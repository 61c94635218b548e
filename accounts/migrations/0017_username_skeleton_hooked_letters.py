"""Skeletons now read Latin letters with a hook, stroke or bar as their letter (`ɓob`
meets `bob`, `łukasz` meets `lukasz`) and `ɘ` as `e`: recompute them.
No name changes."""

from django.db import migrations

from accounts.usernames import recompute_stored_skeletons


class Migration(migrations.Migration):
    dependencies = [("accounts", "0016_username_skeleton_cyrillic_small_capitals")]

    operations = [
        migrations.RunPython(recompute_stored_skeletons, migrations.RunPython.noop, elidable=True)
    ]
