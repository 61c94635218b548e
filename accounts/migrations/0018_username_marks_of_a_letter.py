"""Usernames may hold a letter's combining marks (`दिव्या`: the validator), and
skeletons keep the vowel signs of the abugidas (`दव` and `दुव` are two names;
`ऩ` no longer reads as `न`): recompute them. No name changes."""

from django.db import migrations, models

import accounts.username_characters
from accounts.usernames import recompute_stored_skeletons


class Migration(migrations.Migration):
    dependencies = [("accounts", "0017_username_skeleton_hooked_letters")]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="username",
            field=models.CharField(
                error_messages={"unique": "A user with that username already exists."},
                help_text="Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only.",
                max_length=150,
                unique=True,
                validators=[accounts.username_characters.UsernameCharactersValidator()],
                verbose_name="username",
            ),
        ),
        migrations.RunPython(recompute_stored_skeletons, migrations.RunPython.noop, elidable=True),
    ]
