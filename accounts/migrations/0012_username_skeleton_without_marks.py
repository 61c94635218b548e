"""Skeletons now drop combining marks (`FİONA` meets `fiona`): recompute them."""

from django.db import migrations

from accounts.usernames import recompute_stored_skeletons


class Migration(migrations.Migration):
    dependencies = [("accounts", "0011_sent_mail")]

    operations = [
        migrations.RunPython(recompute_stored_skeletons, migrations.RunPython.noop, elidable=True)
    ]
