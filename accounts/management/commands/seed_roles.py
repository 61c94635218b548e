from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from accounts.services import roles_seed


class Command(BaseCommand):
    help = (
        "Create or update the User, Moderator and Administrator roles, make "
        "User the default, and give every member without a role the right one."
    )

    def handle(self, *args, **options):
        try:
            changes = roles_seed()
        except DatabaseError as error:
            raise CommandError(
                f"Could not seed roles: the database said {error}. "
                "Is it reachable, and has `manage.py migrate` been run?"
            ) from error
        if not changes:
            self.stdout.write("Roles are up to date: nothing changed.")
        for line in changes:
            self.stdout.write(self.style.SUCCESS(line))
