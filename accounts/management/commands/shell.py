"""`manage.py shell`, where `Permission` is Offbrand's flags, not Django's model."""

from django.core.management.commands import shell


class Command(shell.Command):
    def get_auto_imports(self):
        imports = [
            path
            for path in super().get_auto_imports()
            if path != "django.contrib.auth.models.Permission"
        ]
        return [*imports, "accounts.models.Permission", "accounts.models.ROLE_TABLE"]
