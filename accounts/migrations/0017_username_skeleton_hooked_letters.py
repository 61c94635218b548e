"""Skeletons now read Latin letters with a hook, stroke or bar as their letter (`ɓob`
meets `bob`, `łukasz` meets `lukasz`) and `ɘ` as `e`: recompute them.
No name changes."""

from django.db import migrations


def recompute(apps, schema_editor):
    from accounts.usernames import username_skeleton

    User = apps.get_model("accounts", "User")
    batch = []
    for user in User.objects.only("pk", "username").iterator(chunk_size=2000):
        user.username_skeleton = username_skeleton(user.username)
        batch.append(user)
        if len(batch) >= 2000:
            User.objects.bulk_update(batch, ["username_skeleton"])
            batch = []
    User.objects.bulk_update(batch, ["username_skeleton"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0016_username_skeleton_cyrillic_small_capitals")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop, elidable=True)]
