from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from accounts.services import roles_seed


class Command(BaseCommand):
    help = (
        "Create the roles of the role table that are missing (and a default role if "
        "none is), give every member without a role the right one, and report roles "
        "an operator has changed. Existing roles are never changed, unless --reset."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Give the table's roles their table permissions and default again, "
            "undoing operators' edits; prints each change.",
        )

    def handle(self, *args, reset=False, **options):
        try:
            seeding = roles_seed(reset=reset)
        except DatabaseError as error:
            raise CommandError(
                f"Could not seed roles: the database said {error}. "
                "Is it reachable, and has `manage.py migrate` been run?"
            ) from error
        if not seeding.changes:
            self.stdout.write("Roles are up to date: nothing changed.")
        for line in seeding.changes:
            self.stdout.write(self.style.SUCCESS(line))
        for line in seeding.differences:
            self.stdout.write(self.style.WARNING(f"Kept: {line}."))
        if seeding.differences:
            self.stdout.write(
                "Those are edits made in the admin and are left as they are; "
                "`seed_roles --reset` restores the table."
            )
