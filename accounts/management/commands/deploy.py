import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError


class Command(BaseCommand):
    help = "Prepare a release: migrate the database, seed roles, collect static files."

    def handle(self, *args, **options):
        steps = [
            ("migrate", {"interactive": False}),
            ("seed_roles", {}),
            ("collectstatic", {"interactive": False}),
        ]
        for name, kwargs in steps:
            self.stdout.write(self.style.MIGRATE_HEADING(f"== {name}"))
            try:
                call_command(
                    name,
                    verbosity=options["verbosity"],
                    # Each step reports where deploy reports (a file, a test's buffer).
                    stdout=options.get("stdout") or sys.stdout,
                    stderr=options.get("stderr") or sys.stderr,
                    **kwargs,
                )
            except (DatabaseError, OSError) as error:
                raise CommandError(f"deploy stopped at {name}: {error}") from error
        self.stdout.write(self.style.SUCCESS("Deploy finished."))
