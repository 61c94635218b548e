"""Offbrand's user and role system.

A `Role` carries a bit field of `Permission` flags; every `User` has exactly
one role. The three roles Offbrand ships are defined once, in `ROLE_TABLE`.
"""

import enum
import hashlib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q, Value
from django.db.models.functions import Lower
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.addresses import plain_address, same_mailbox
from accounts.avatars import AVATAR_SIZES
from accounts.devices import describe_user_agent
from accounts.username_characters import UsernameCharactersValidator
from accounts.usernames import (
    has_letter_or_digit,
    invisible_characters,
    mixed_scripts,
    punctuation_letters,
    unrecommended_scripts,
    unusual_letters,
    username_key,
    username_skeleton,
    username_skeletons,
)
from offbrand.urlcache import cached_reverse


class Permission(enum.IntFlag):
    """What a role allows; a role's `permissions` column stores the sum."""

    FOLLOW = 1
    COMMENT = 2
    WRITE = 4
    MODERATE = 8
    ADMIN = 16

    # Templates call what is callable; the class is a namespace there
    # (`{{ Permission.MODERATE }}`), as Django's own `Choices` are.
    do_not_call_in_templates = enum.nonmember(True)

    @classmethod
    def all(cls) -> "Permission":
        return cls(sum(cls))

    @property
    def perm_names(self) -> list[str]:
        """Django's names for these flags, as `has_perm` takes them: `accounts.moderate`."""
        return [f"{PERM_APP_LABEL}.{flag.name.lower()}" for flag in self]

    @classmethod
    def from_perm_name(cls, perm: str) -> "Permission | None":
        """The flag named by `accounts.<flag>`, or None for any other permission."""
        app_label, _, codename = perm.partition(".")
        if app_label != PERM_APP_LABEL or not codename.isalpha() or not codename.islower():
            return None
        return cls.__members__.get(codename.upper())


PERM_APP_LABEL = "accounts"


@dataclass(frozen=True)
class RoleSpec:
    name: str
    permissions: Permission
    default: bool = False


MEMBER = Permission.FOLLOW | Permission.COMMENT | Permission.WRITE
ADMINISTRATOR = "Administrator"

# The roles a new site starts with. `seed_roles` creates those missing and
# reports those an operator has changed; it never changes them back unless
# asked to (`seed_roles --reset`): the database is the truth.
ROLE_TABLE = (
    RoleSpec("User", MEMBER, default=True),
    RoleSpec("Moderator", MEMBER | Permission.MODERATE),
    RoleSpec(ADMINISTRATOR, Permission.all()),
)
TABLE_DEFAULT = next(spec for spec in ROLE_TABLE if spec.default)


def summary(permissions: int) -> str:
    """The flags by name, e.g. FOLLOW, COMMENT, WRITE; or "no permissions"."""
    return ", ".join(flag.name for flag in Permission if permissions & flag) or "no permissions"


def iexact(field: str, value: str) -> Exact:
    """Case-insensitive equality that can use a unique index on LOWER(field)."""
    return Exact(Lower(field), Lower(Value(value)))


def is_site_admin_email(email: str) -> bool:
    """True when `email` is the address named by OFFBRAND_ADMIN: the same
    mailbox, typed plainly. Not `casefold()` of the whole text, which folds
    `ſ` to `s` and `ﬀ` to `ff`: a second spelling is never the admin's."""
    admin = settings.OFFBRAND_ADMIN.strip()
    return bool(admin) and plain_address(email) is not None and same_mailbox(email, admin)


class RoleQuerySet(models.QuerySet):
    def default_role(self) -> "Role":
        return self._get_seeded(default=True)

    def administrator(self) -> "Role":
        return self._get_seeded(name=ADMINISTRATOR)

    def for_email(self, email: str) -> "Role":
        """The role a new account with this address starts with."""
        return self.administrator() if is_site_admin_email(email) else self.default_role()

    def _get_seeded(self, **lookup) -> "Role":
        try:
            return self.get(**lookup)
        except self.model.DoesNotExist:
            # A fresh or flushed database: create what is missing, change nothing else.
            self.create_missing()
            return self.get(**lookup)

    def create_missing(self) -> list[str]:
        """Create the roles of ROLE_TABLE that do not exist, and a default if none is.

        Like Django's `create_permissions`: what exists is the operators' data
        and is never changed. Idempotent and safe to run twice at once.
        """
        changes = []
        for spec in ROLE_TABLE:
            role, created = self._get_or_create_role(spec)
            if created:
                changes.append(f"created role {spec.name!r} ({role.permission_summary})")
        if not self.filter(default=True).exists():
            name = TABLE_DEFAULT.name
            try:
                with transaction.atomic():
                    made = self.filter(name=name).update(default=True)
            except IntegrityError:  # a concurrent run made a default meanwhile
                made = 0
            if made:
                changes.append(f"made {name!r} the default role (no role was the default)")
        return changes

    def differences(self) -> list[str]:
        """How the roles in the database differ from ROLE_TABLE, a line per role."""
        roles = {role.name: role for role in self.filter(name__in=[s.name for s in ROLE_TABLE])}
        lines = []
        for spec in ROLE_TABLE:
            role = roles.get(spec.name)
            if role is not None and role.permissions != spec.permissions:
                lines.append(
                    f"role {spec.name!r} differs from the role table: it grants "
                    f"{role.permission_summary}; the table says {summary(spec.permissions)}"
                )
        default = self.filter(default=True).first()
        if default is not None and default.name != TABLE_DEFAULT.name:
            lines.append(
                f"the default role is {default.name!r}; the table says {TABLE_DEFAULT.name!r}"
            )
        return lines

    def reset_to_table(self) -> list[str]:
        """Give the roles of ROLE_TABLE its permissions and default again; return what changed.

        Only `seed_roles --reset` calls this: an operator asks for it by name.
        """
        changes = self.create_missing()
        with transaction.atomic():
            roles = {
                role.name: role
                for role in self.select_for_update().filter(
                    name__in=[spec.name for spec in ROLE_TABLE]
                )
            }
            for spec in ROLE_TABLE:
                role = roles[spec.name]
                if role.permissions != spec.permissions:
                    self.filter(pk=role.pk).update(permissions=spec.permissions)
                    changes.append(
                        f"reset role {spec.name!r}: {role.permission_summary} -> "
                        f"{summary(spec.permissions)}"
                    )
            cleared = self.filter(default=True).exclude(name=TABLE_DEFAULT.name)
            previous = list(cleared.values_list("name", flat=True))
            cleared.update(default=False)
            made = self.filter(name=TABLE_DEFAULT.name, default=False).update(default=True)
            if made:
                was = f" (was {', '.join(map(repr, previous))})" if previous else ""
                changes.append(f"made {TABLE_DEFAULT.name!r} the default role{was}")
        return changes

    def _get_or_create_role(self, spec: RoleSpec) -> tuple["Role", bool]:
        try:
            return self.get(name=spec.name), False
        except self.model.DoesNotExist:
            pass
        try:
            with transaction.atomic():
                return self.create(name=spec.name, permissions=spec.permissions), True
        except IntegrityError:  # created by a concurrent run
            return self.get(name=spec.name), False


class Role(models.Model):
    name = models.CharField(max_length=64, unique=True)
    default = models.BooleanField(
        default=False,
        db_index=True,
        help_text="New members get the default role. Only one role can be it.",
    )
    permissions = models.PositiveIntegerField(default=0)

    objects = RoleQuerySet.as_manager()

    class Meta:
        ordering = ["permissions", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["default"],
                condition=Q(default=True),
                name="accounts_role_single_default",
                violation_error_message="Another role is already the default.",
            )
        ]

    def __str__(self):
        return self.name

    def grants(self, permission: int) -> bool:
        """True when every bit of `permission` is granted."""
        # As plain ints: `int & Permission` runs enum.Flag's __and__ in Python (a
        # dozen checks a signed-in page: the menu, the profile, the follow form).
        permission = int(permission)
        return self.permissions & permission == permission

    def add_permission(self, permission: int) -> None:
        self.permissions |= permission

    def remove_permission(self, permission: int) -> None:
        self.permissions &= ~permission

    def reset_permissions(self) -> None:
        self.permissions = 0

    @property
    def permission_names(self) -> list[str]:
        return [flag.name for flag in Permission if self.grants(flag)]

    @property
    def permission_summary(self) -> str:
        return summary(self.permissions)


class UserManager(DjangoUserManager):
    @classmethod
    def normalize_email(cls, email):
        """A plain address in its one stored spelling (`addresses.plain_address`:
        `xn--mnchen-3ya.de` is stored as münchen.de), so the unique index sees
        one spelling per mailbox; any other text as Django normalises it."""
        return plain_address(email or "") or super().normalize_email(email)

    def get_by_natural_key(self, username):
        return self.get(username_key=username_key(username))

    def bulk_create(self, objs, *args, **kwargs):
        """Imports skip save(): the username's key and skeleton are filled here,
        so the unique key holds for every row, however it was written."""
        objs = list(objs)
        for user in objs:
            user.username_key = username_key(user.username)
            user.username_skeleton = username_skeleton(user.username)
        return super().bulk_create(objs, *args, **kwargs)

    def username_problem(self, username: str, *, exclude_pk=None) -> str | None:
        """Why `username` cannot be a new name for a member (`exclude_pk`: the
        member being renamed).

        The same rules for every path that names a member: registration, the
        site's member edit, the Django admin (through `User.clean`), and
        `createsuperuser` (`create_superuser`). Only a new
        or changed name is judged (`User.username_changing`): names taken before
        a rule are kept.
        """
        if has_at_sign(username):
            # No new name holds an `@` (attack report 2026-12-06, F5). Sign-in
            # takes a username or an address, so a name shaped like an address
            # is ambiguous by nature; and "any address but one's own" did not
            # hold: the owner of `henry@example.com` could change his address
            # away and the real henry register it after. A name that cannot be
            # an address is never anyone's, whichever comes first.
            return USERNAME_HAS_AT
        if invisible := invisible_characters(username):
            return USERNAME_INVISIBLE % ", ".join(invisible)
        if not has_letter_or_digit(username):
            return USERNAME_NO_LETTER
        if punctuation := punctuation_letters(username):
            return USERNAME_PUNCTUATION_LETTER % ", ".join(punctuation)
        others = self.exclude(pk=exclude_pk) if exclude_pk is not None else self.all()
        if others.filter(username_key=username_key(username)).exists():
            return USERNAME_TAKEN
        if unusual := unusual_letters(username):
            return USERNAME_UNUSUAL % " ".join(dict.fromkeys(unusual))
        if others.filter(username_skeleton__in=username_skeletons(username)).exists():
            return USERNAME_LOOKALIKE
        if scripts := mixed_scripts(username):
            return USERNAME_MIXED_SCRIPTS % " and ".join(scripts)
        if scripts := unrecommended_scripts(username):
            return USERNAME_UNRECOMMENDED_SCRIPT % " and ".join(scripts)
        return None

    def create_user(self, username, email=None, password=None, **extra_fields):
        return self._create_user(username, email, password, **extra_fields)

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        """`createsuperuser`: a confirmed member with the Administrator role.

        Superuser and staff status are not stored: they follow the role's ADMIN flag.
        """
        self._judge_new_name(username)
        extra_fields.setdefault("role", Role.objects.administrator())
        extra_fields.setdefault("confirmed", True)
        return self._create_user(username, email, password, **extra_fields)

    def _judge_new_name(self, username) -> None:
        """`createsuperuser` saves through here, not through a form or
        `User.clean`: the rules for a new name are judged here for it (the
        command shows the message)."""
        if problem := self.username_problem(str(username or "")):
            raise ValidationError({"username": problem})

    async def acreate_user(self, username, email=None, password=None, **extra_fields):
        return await self._acreate_user(username, email, password, **extra_fields)

    async def acreate_superuser(self, username, email=None, password=None, **extra_fields):
        await sync_to_async(self._judge_new_name)(username)
        if "role" not in extra_fields:
            extra_fields["role"] = await sync_to_async(Role.objects.administrator)()
        extra_fields.setdefault("confirmed", True)
        return await self._acreate_user(username, email, password, **extra_fields)

    create_user.alters_data = create_superuser.alters_data = True
    acreate_user.alters_data = acreate_superuser.alters_data = True


def identicon_key(avatar_hash: str) -> str:
    """A keyed digest of the avatar hash: identicon URLs never reveal the email's hash."""
    return _identicon_key(avatar_hash, settings.SECRET_KEY)


@lru_cache(maxsize=16384)
def _identicon_key(avatar_hash: str, secret: str) -> str:
    # Remembered per (hash, key): a page of posts shows the same few authors many times.
    return salted_hmac(
        "offbrand.identicon", avatar_hash, secret=secret, algorithm="sha256"
    ).hexdigest()[:24]


USERNAME_TAKEN = "A user with that username already exists."
USERNAME_LOOKALIKE = "That username looks too much like an existing one. Please choose another."
USERNAME_UNUSUAL = (
    "Use letters of an everyday alphabet: that username has a phonetic or obsolete letter (%s)."
)
USERNAME_UNRECOMMENDED_SCRIPT = (
    "Use letters of an everyday alphabet: %s letters are not accepted in usernames."
)
USERNAME_MIXED_SCRIPTS = "Use letters of one alphabet: that username mixes %s letters."
USERNAME_PUNCTUATION_LETTER = (
    "A username can't hold a modifier letter drawn like punctuation, nor the tatweel (%s)."
)
USERNAME_INVISIBLE = "A username can't hold an invisible character (%s)."
USERNAME_NO_LETTER = "A username needs at least one letter or digit."
USERNAME_HAS_AT = (
    "A username can't contain @: you can sign in with your email address or your username."
)


def has_at_sign(username: str) -> bool:
    """Whether `username` holds an `@`, as typed or once NFKC-normalised
    (the small and fullwidth `﹫` `＠` are `@` there)."""
    return "@" in username or "@" in unicodedata.normalize("NFKC", username)


EMAIL_TAKEN = "A user with that email address already exists."


def email_hash(email: str) -> str:
    """SHA-256 of the trimmed, lower-cased address, as Gravatar specifies."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


class User(AbstractUser):
    # Django's field, with a validator that also takes a letter's combining
    # marks (`accounts/username_characters.py`: `दिव्या`).
    username = models.CharField(
        "username",
        max_length=150,
        unique=True,
        help_text="Required. 150 characters or fewer. Letters, digits and ./+/-/_ only.",
        validators=[UsernameCharactersValidator()],
        error_messages={"unique": "A user with that username already exists."},
    )
    email = models.EmailField("email address", max_length=254)
    role = models.ForeignKey(
        Role, on_delete=models.PROTECT, related_name="users", null=True, blank=True
    )
    confirmed = models.BooleanField(
        default=False, help_text="The member has confirmed their email address."
    )
    about_me = models.TextField("about me", blank=True, max_length=2000)
    last_seen = models.DateTimeField(null=True, blank=True)
    avatar_hash = models.CharField(max_length=64, editable=False)
    # What "the same username" and "a look-alike" mean (accounts/usernames.py),
    # computed in Python so SQLite and PostgreSQL agree; kept by save().
    username_key = models.CharField(max_length=600, unique=True, editable=False)
    username_skeleton = models.CharField(max_length=600, db_index=True, editable=False)
    avatar = models.FileField(upload_to="avatars/", blank=True, max_length=200)
    avatar_small = models.FileField(upload_to="avatars/", blank=True, max_length=200)

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message=EMAIL_TAKEN,
            ),
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_ci_unique",
                violation_error_message=USERNAME_TAKEN,
            ),
        ]

    def save(self, *args, **kwargs):
        if self.role_id is None:
            self.role = Role.objects.for_email(self.email)
        derived = {
            "avatar_hash": email_hash(self.email),
            "username_key": username_key(self.username),
            "username_skeleton": username_skeleton(self.username),
        }
        changed = {name for name, value in derived.items() if getattr(self, name) != value}
        for name in changed:
            setattr(self, name, derived[name])
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and changed:
            kwargs["update_fields"] = {*update_fields, *changed}
        super().save(*args, **kwargs)

    def clean(self):
        # Decided on the name as given: normalising a stored name the form does
        # not edit (the profile form's) is no rename.
        changing = self.username_changing()
        super().clean()
        if not changing:
            return  # names taken before a rule are kept; the rules judge new ones
        problem = User.objects.username_problem(self.username, exclude_pk=self.pk)
        if problem:
            raise ValidationError({"username": problem})

    def username_changing(self) -> bool:
        """Whether saving would give the member a name other than their stored
        one, spelled in any other way (capitals too): the one place that decides
        whether the username rules apply. A member's stored key is their stored
        name's, so another key needs no query; the same key, the stored name is
        read (`ZED` for `zed` is a change)."""
        if self._state.adding or self.pk is None:
            return True
        if self.username_key != username_key(self.username):
            return True
        return not User.objects.filter(pk=self.pk, username=self.username).exists()

    def _get_session_auth_hash(self, secret=None):
        """Django binds sessions to the password hash; Offbrand also to the
        address and its confirmation, so a change of address, or the owner
        proving it, ends every session set up before (`update_session_auth_hash`
        keeps the one that made the change)."""
        return session_auth_hash(
            settings.SECRET_KEY if secret is None else secret,
            f"{self.password}\x1f{self.email.casefold()}\x1f{self.confirmed}",
        )

    # One administrator: Django's staff and superuser status are the role's
    # ADMIN flag, not columns of their own that could say otherwise.
    is_staff = property(lambda self: self.role_is_admin, doc="The role has ADMIN.")
    is_superuser = property(lambda self: self.role_is_admin, doc="The role has ADMIN.")

    @property
    def role_is_admin(self) -> bool:
        return self.role_id is not None and self.role.grants(Permission.ADMIN)

    @property
    def member_since(self):
        return self.date_joined

    def can(self, permission: int) -> bool:
        """The one permission check.

        Django's `has_perm("accounts.<flag>")` (through `RoleBackend`), the
        view mixins, the decorators and the templates all answer from here.
        ADMIN is the superuser flag: it allows everything, as `is_superuser`
        does in Django.
        """
        if not self.is_active or self.role_id is None:
            return False
        # The role read once, its bits as plain ints (`Role.grants`): a signed-in
        # page asks a dozen times (the menu, the profile, the forms; issue 16).
        granted, permission = self.role.permissions, int(permission)
        return granted & _ADMIN == _ADMIN or granted & permission == permission

    def is_administrator(self) -> bool:
        return self.can(Permission.ADMIN)

    def gravatar(self, size=100, default="identicon", rating="g") -> str:
        query = urlencode({"s": size, "d": default, "r": rating})
        return f"https://www.gravatar.com/avatar/{self.avatar_hash}?{query}"

    @property
    def avatar_url_small(self) -> str:
        return self.avatar_url("small")

    def avatar_key(self) -> tuple:
        """What `avatar_url` depends on for this member (the stored pictures' names and
        the hash), for pages that remember HTML showing it. Reads the stored names
        without making the `FieldFile`s `.avatar.name` would."""
        names = []
        for attname in ("avatar", "avatar_small"):
            value = self.__dict__.get(attname)
            if value is None:
                value = getattr(self, attname)
            names.append(getattr(value, "name", value))
        return (*names, self.avatar_hash)

    def avatar_url(self, size: str = "large") -> str:
        """The uploaded picture, else the local identicon (or Gravatar, if chosen)."""
        if self.avatar:
            return (self.avatar_small if size == "small" else self.avatar).url
        pixels = AVATAR_SIZES[size]
        if settings.OFFBRAND_AVATARS == "gravatar":
            return self.gravatar(size=pixels)
        return cached_reverse("identicon", args=[identicon_key(self.avatar_hash), pixels])


@lru_cache(maxsize=4096)
def session_auth_hash(secret: str, state: str) -> str:
    """The HMAC binding a session to `state`, remembered by its exact inputs: every
    signed-in request checks it (issue 16), and a changed password, address or
    confirmation is another input, so nothing needs forgetting."""
    return salted_hmac(
        "offbrand.accounts.User.get_session_auth_hash", state, secret=secret, algorithm="sha256"
    ).hexdigest()


_ADMIN = int(Permission.ADMIN)


class AnonymousVisitor(AnonymousUser):
    """A visitor who is not signed in: allowed nothing."""

    role = None

    def can(self, permission: int) -> bool:
        return False

    def is_administrator(self) -> bool:
        return False


class EmailChangeRequest(models.Model):
    """A member's pending change of address, until the new address confirms it.

    One per member: a new request replaces the old one, which voids its link.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="email_change_request")
    new_email = models.EmailField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.user} -> {self.new_email}"


class ModerationAction(models.Model):
    """The record of each change of a member's state: what, who did it, why, and where.

    Written by `services.member_save_fields` (and its set-based sibling) only,
    whichever path made the change: the member's own pages, an emailed link,
    the moderation pages, the site's member edit, the Django admin and its
    bulk actions. A suspended member is shown the latest suspension's reason.
    """

    class Kind(models.TextChoices):
        SUSPEND = "suspend", "Suspended"
        REINSTATE = "reinstate", "Reinstated"
        CLEAR_ABOUT = "clear_about", "Cleared about me"
        CLEAR_AVATAR = "clear_avatar", "Removed avatar"
        ROLE = "role", "Changed role"
        EMAIL = "email", "Changed email address"
        PASSWORD = "password", "Changed password"
        AVATAR = "avatar", "Changed avatar"
        ABOUT = "about", "Changed about me"
        FACTORS_REMOVED = "factors_removed", "Removed second factors"
        DELETED = "deleted", "Deleted the account"

    class Via(models.TextChoices):
        OWN_PAGES = "own_pages", "their own pages"
        EMAIL_LINK = "email_link", "a link mailed to them"
        MODERATION = "moderation", "the moderation pages"
        MEMBER_EDIT = "member_edit", "the site's member edit"
        ADMIN = "admin", "the Django admin"
        ADMIN_BULK = "admin_bulk", "a bulk action in the Django admin"
        COMMAND = "command", "a management command"
        SETTINGS = "settings", "OFFBRAND_ADMIN"

    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="moderation_actions_taken"
    )
    # A member who deletes their account leaves the record behind, shown as deleted.
    member = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="moderation_actions"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    via = models.CharField(max_length=20, choices=Via.choices, default=Via.MODERATION)
    detail = models.CharField(max_length=300, blank=True, help_text="The new value, if any.")
    reason = models.TextField(blank=True, max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.member_name} by {self.actor_name}"

    @property
    def member_name(self) -> str:
        return self.member.username if self.member else "(deleted member)"

    @property
    def actor_name(self) -> str:
        return self.actor.username if self.actor else "(deleted member)"


# What the moderation pages may do (`/moderate/users/<name>/<kind>/`).
MODERATION_KINDS = (
    ModerationAction.Kind.SUSPEND,
    ModerationAction.Kind.REINSTATE,
    ModerationAction.Kind.CLEAR_ABOUT,
    ModerationAction.Kind.CLEAR_AVATAR,
)


class UserSession(models.Model):
    """One signed-in device of a member, for the device list.

    The session key itself is never stored in the clear here: `key_hash`
    finds the row, and `sealed_key` (encrypted with a key derived from
    SECRET_KEY) lets the member end that session in the session store.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="user_sessions")
    key_hash = models.CharField(max_length=64, unique=True)
    sealed_key = models.TextField()
    user_agent = models.CharField(max_length=300, blank=True)
    network = models.CharField(
        max_length=50, blank=True, help_text="The address cut to its /24 (IPv4) or /64 (IPv6)."
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_activity = models.DateTimeField(default=timezone.now)
    suspended_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when a suspension ended this session: the row is then only a marker, "
        "so the next request carrying its cookie is told why it was signed out.",
    )

    class Meta:
        ordering = ["-last_activity", "-pk"]

    def __str__(self):
        return f"{self.user} on {self.device}"

    @property
    def device(self) -> str:
        return describe_user_agent(self.user_agent)


class SentMail(models.Model):
    """A message handed to the mail server, by the key it was queued with.

    Written in the transaction that sends it: a retried task (its worker died,
    or the queue ran it twice) finds the row and does not send the message again.
    """

    key = models.CharField(max_length=64, primary_key=True)
    sent_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return self.key
