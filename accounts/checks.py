"""System checks that guard the promises of `accounts`."""

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.db import connections

PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register(Tags.security, deploy=True)
def check_shared_cache(app_configs, **kwargs):
    """Rate limits are counted in the default cache: each process must see the same one."""
    backend = settings.CACHES["default"]["BACKEND"]
    if backend not in PER_PROCESS_CACHES:
        return []
    return [
        Warning(
            f"The default cache ({backend}) is per process: each worker would count "
            "sign-in attempts and other rate limits on its own, multiplying them.",
            hint="Set REDIS_URL, or leave CACHE_URL unset for the database cache.",
            id="offbrand.W001",
        )
    ]


@register(Tags.database)
def check_member_addresses(app_configs, databases=None, **kwargs):
    """Members whose stored address is not a plain spelling of its mailbox at a
    domain name (`addresses.plain_address`): stored before member forms refused
    them (attack report 2026-12-06, F1, F2 and F9). A look-alike such as a Kelvin-sign
    `Kim@` holds its owner's address in the unique index and can never be
    mailed. A scan of every address, so only with `manage.py check --database default`
    (and `migrate`, which runs the database checks)."""
    from accounts.addresses import plain_address

    odd = []
    for members in _members(databases):
        rows = members.exclude(email="").values_list("username", "email")
        odd += [username for username, email in rows.iterator() if plain_address(email) != email]
    return _listing_warning(
        odd,
        "hold an address that is not typed in plain characters at a valid domain name: ",
        hint="Change or remove their address in the member editor (/users/<name>/edit/): "
        "the owner of the mailbox it reaches may be locked out of it.",
        id="offbrand.W002",
    )


@register(Tags.database)
def check_usernames_spelling_addresses(app_configs, databases=None, **kwargs):
    """Members whose username, kept from before new names were refused an `@`
    (attack report 2026-12-06, F5), is the address of another member: the
    profile at `/users/henry@example.com/` shows one member under another's
    address. Kept names are not renamed by a migration; an administrator
    decides. Only with `manage.py check --database default` (and `migrate`)."""
    from accounts.addresses import mailbox

    found = []
    for members in _members(databases):
        for pk, username in members.filter(username__contains="@").values_list("pk", "username"):
            reached = mailbox(username)
            local = username.rpartition("@")[0]
            if reached is None:
                continue
            owners = (
                members.exclude(pk=pk)
                .filter(email__istartswith=f"{local}@")
                .values_list("username", "email")
            )
            found += [
                f"{username} (the address of {owner})"
                for owner, email in owners
                if mailbox(email) == reached
            ]
    return _listing_warning(
        found,
        "have a username that is another member's email address: ",
        hint="Rename them in the member editor (/users/<name>/edit/): new usernames "
        "can't contain @.",
        id="offbrand.W003",
    )


@register(Tags.database)
def check_invisible_and_mixed_usernames(app_configs, databases=None, **kwargs):
    """Members whose username, kept from before 2026-12-06 (attack report F6),
    holds an invisible character (`alice` + a Hangul filler, drawn as `alice`),
    a modifier letter drawn as punctuation or the tatweel (R1: `carolˍ`), or
    an East Asian letter in a Latin name (`aㅣice`): new names may not.
    Kept names are not renamed by a migration; an administrator decides. A scan
    of every username, so only with `manage.py check --database default`."""
    from accounts.usernames import invisible_characters, mixed_scripts, punctuation_letters

    found = []
    for members in _members(databases):
        names = members.values_list("username", flat=True)
        for username in names.iterator():
            why = (
                invisible_characters(username)
                or punctuation_letters(username)
                or mixed_scripts(username)
            )
            if why:
                found.append(f"{username!r} ({' and '.join(why)})")
    return _listing_warning(
        found,
        "have a username that new names may not have: ",
        hint="Look at them in the member editor (/users/<name>/edit/); rename any "
        "that imitates another member.",
        id="offbrand.W004",
    )


def _members(databases):
    """The member table of each database the check was asked about, once migrated:
    `migrate` runs the database checks before the first migration too."""
    from accounts.models import User

    for database in databases or ():
        if User._meta.db_table in connections[database].introspection.table_names():
            yield User.objects.using(database)


def _listed(names) -> str:
    """The first 20 of `names`, sorted, for a warning an operator reads."""
    names = sorted(names)
    return ", ".join(names[:20]) + (" ..." if len(names) > 20 else "")


def _listing_warning(names, what: str, *, hint: str, id: str) -> list[Warning]:
    """One warning naming the members found (none: no warning)."""
    if not names:
        return []
    return [Warning(f"{len(names)} member(s) {what}{_listed(names)}.", hint=hint, id=id)]
