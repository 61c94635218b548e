"""Staff and superuser status follow the role's ADMIN flag; the columns go.

A member an operator had made a superuser by hand keeps full access: they
get the Administrator role first.
"""

from django.db import migrations

ADMIN = 16


def superusers_become_administrators(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    User = apps.get_model("accounts", "User")
    administrator = None
    for user in User.objects.filter(is_superuser=True).select_related("role"):
        if user.role is not None and user.role.permissions & ADMIN:
            continue
        if administrator is None:
            administrator, _ = Role.objects.get_or_create(
                name="Administrator", defaults={"permissions": 31}
            )
        user.role = administrator
        user.save(update_fields=["role"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_user_sessions"),
    ]

    operations = [
        migrations.RunPython(superusers_become_administrators, migrations.RunPython.noop),
        migrations.RemoveField(model_name="user", name="is_staff"),
        migrations.RemoveField(model_name="user", name="is_superuser"),
    ]
