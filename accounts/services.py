"""What Offbrand does to accounts: each change of state is one function here.

Views and commands parse input, call one of these, and report the outcome.
"""

from django.conf import settings
from django.db import transaction

from accounts.models import Role, User, iexact


def roles_seed() -> list[str]:
    """Make the roles match ROLE_TABLE and give every role-less member one.

    Returns a line per change; an empty list means there was nothing to do.
    """
    changes = Role.objects.sync_table()
    with transaction.atomic():
        roleless = User.objects.filter(role__isnull=True)
        if settings.OFFBRAND_ADMIN:
            promoted = roleless.filter(iexact("email", settings.OFFBRAND_ADMIN)).update(
                role=Role.objects.administrator()
            )
            if promoted:
                changes.append(f"gave {promoted} member(s) the Administrator role")
        given = roleless.update(role=Role.objects.default_role())
        if given:
            changes.append(f"gave {given} member(s) the default role")
    return changes
