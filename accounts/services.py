"""What Offbrand does to accounts: each change of state is one function here.

Views and commands parse input, call one of these, and report the outcome.
"""

import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, login, logout
from django.contrib.auth.forms import UsernameField
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import edits, ratelimits, selectors, signals, tokens
from accounts.addresses import same_mailbox
from accounts.emails import after_response, mailbox_key, send_email, site_url
from accounts.flows import usersessions
from accounts.models import (
    MODERATION_KINDS,
    EmailChangeRequest,
    ModerationAction,
    Permission,
    Role,
    User,
    iexact,
    is_site_admin_email,
)
from accounts.notices import SecurityEvent, send_security_notice
from accounts.usernames import username_key

logger = logging.getLogger(__name__)

Kind = ModerationAction.Kind
Via = ModerationAction.Via


class LinkOutcome(StrEnum):
    """What following an emailed link found, or did."""

    VALID = "valid"
    DONE = "done"
    ALREADY_DONE = "already_done"
    EXPIRED = "expired"
    INVALID = "invalid"
    EMAIL_TAKEN = "email_taken"
    PASSWORD_NEEDED = "password_needed"
    PASSWORD_WRONG = "password_wrong"


@dataclass(frozen=True)
class LinkResult:
    outcome: LinkOutcome
    user: User | None = None


def _holds_account(user: User, *, actor, password: str, request) -> LinkOutcome | None:
    """None when whoever follows a mailed link also holds the account.

    A link proves control of a mailbox, not of the account: someone else may
    have registered the address, or asked to move their own account to it.
    So the link acts only in a browser signed in to that account, or with
    the account's password; whoever knows neither resets the password
    (through the mailbox) instead, which ends everything set up before.
    """
    if actor is not None and actor.is_authenticated and actor.pk == user.pk:
        return None
    if not password:
        return LinkOutcome.PASSWORD_NEEDED
    # On the account's sign-in budget, like every other password check.
    if account_password_check(request=request, user=user, password=password) != PasswordCheck.RIGHT:
        return LinkOutcome.PASSWORD_WRONG
    return None


# --- Roles -------------------------------------------------------------------


@dataclass(frozen=True)
class RoleSeeding:
    changes: list[str]  # what this run did
    differences: list[str]  # how the roles still differ from ROLE_TABLE


def roles_seed(*, reset: bool = False) -> RoleSeeding:
    """Create missing roles and the default, and give every role-less member one.

    An existing role's permissions are the operators' data: they are reported
    where they differ from ROLE_TABLE, and restored only with `reset=True`.
    """
    changes = Role.objects.reset_to_table() if reset else Role.objects.create_missing()
    if changes:
        signals.roles_updated.send(Role)
    with transaction.atomic():
        roleless = User.objects.filter(role__isnull=True)
        if settings.OFFBRAND_ADMIN:
            # Only a confirmed address: registering it proves nothing.
            proven = roleless.filter(iexact("email", settings.OFFBRAND_ADMIN), confirmed=True)
            promoted = proven.update(role=Role.objects.administrator())
            if promoted:
                changes.append(f"gave {promoted} member(s) the Administrator role")
        given = roleless.update(role=Role.objects.default_role())
        if given:
            changes.append(f"gave {given} member(s) the default role")
    return RoleSeeding(changes=changes, differences=Role.objects.differences())


def _grant_site_admin(user: User) -> None:
    """OFFBRAND_ADMIN's role is granted only once the address is proven."""
    if is_site_admin_email(user.email) and not user.is_administrator():
        user.role = Role.objects.administrator()
        member_save_fields(member=user, fields=["role"], actor=None, via=Via.SETTINGS)
        logger.info("Granted the Administrator role to %s (OFFBRAND_ADMIN)", user)


# --- Registration and confirmation -------------------------------------------


@dataclass(frozen=True)
class Registration:
    user: User | None
    email_sent: bool


class UsernameTaken(Exception):
    """Another sign-up took the username between validation and saving."""


def user_register(*, email: str, username: str, password: str, request=None) -> Registration:
    """Create an unconfirmed member, sign them in (issue 3), send the confirmation link.

    A taken address creates nothing and mails its owner instead, so the
    outcome the visitor sees does not reveal who is registered; nor does the
    time it takes. Both paths hash the password once (before any write lock
    is taken), commit the same number of times -- one transaction that
    rotates the session and writes its row (with, for a new member, their
    row, the sign-in and the device row), then the session's save at the end
    of the request -- and send their mail after the response
    (`emails.after_response`).
    """
    email = User.objects.normalize_email(email.strip())
    user = User(username=username, email=email, role=Role.objects.default_role())
    user.set_password(password)
    if User.objects.filter(iexact("email", email)).exists():
        return _registration_on_taken_email(email, request)
    # Signed in as created: the INSERT carries the sign-in's times (no UPDATE after).
    user.last_login = user.last_seen = timezone.now()
    try:
        with transaction.atomic():  # no savepoint inside: each statement is a round trip
            user.save()
            if request is not None:
                _sign_in_registrant(request, user)
    except IntegrityError:
        user = None  # another sign-up took the email or the username meanwhile
    if user is None:
        if User.objects.filter(iexact("email", email)).exists():
            return _registration_on_taken_email(email, request)
        raise UsernameTaken(username)
    after_response(request, send_confirmation_email, user)
    return Registration(user=user, email_sent=True)


def _sign_in_registrant(request, user: User) -> None:
    """Sign the new member in inside the transaction that created them: the
    session, `last_login` and the device row commit with the member's row."""
    request.offbrand_signed_in_at_creation = True  # its times are in the INSERT
    sign_in(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    usersessions.user_session_start(request=request, user=user, first_sign_in=True)
    request.session.save()  # its row, here as on the taken path


def _registration_on_taken_email(email: str, request) -> Registration:
    if request is not None:
        # What signing a new member in writes to the session, in one
        # transaction as there: the same commits whether the address is taken.
        with transaction.atomic():
            request.session.cycle_key()
            request.session.save()
    after_response(request, registration_notice_send, email=email)
    return Registration(user=None, email_sent=True)


def registration_notice_send(*, email: str) -> None:
    """Tell the owner of `email` that someone tried to register with it (a few times an hour)."""
    owner = User.objects.filter(iexact("email", email)).first()
    if owner is None or not same_mailbox(owner.email, email):
        return  # none, or a look-alike stored before member forms refused them
    if not ratelimits.hit("registration_notice_email", owner.email).allowed:
        return  # the owner heard of it a moment ago: a few notices an hour, not a flood
    send_email(
        "registration_attempt",
        to=owner.email,
        context={
            "user": owner,
            "login_url": reverse("accounts:login"),
            "reset_url": reverse("accounts:password_reset"),
        },
    )


def send_confirmation_email(user: User, *, request=None) -> bool:
    path = reverse("accounts:confirm", args=[tokens.make_confirmation_token(user)])
    return send_email(
        "confirm_email",
        to=user.email,
        context={
            "user": user,
            "link": site_url() + path,
            "max_age_minutes": settings.OFFBRAND_CONFIRM_MAX_AGE // 60,
        },
        request=request,
    )


def _confirmation_target(token: str) -> tuple[LinkOutcome, User | None]:
    payload = tokens.read_token(token, salt=tokens.CONFIRM_SALT)
    if payload.error:
        return LinkOutcome(payload.error), None
    user = User.objects.filter(pk=payload.data.get("u")).first()
    if user is None:
        return LinkOutcome.INVALID, None
    digest = payload.data.get("s")
    if not user.confirmed and tokens.state_matches(digest, user):
        return LinkOutcome.VALID, user
    if user.confirmed and tokens.state_matches(digest, user, confirmed=False):
        return LinkOutcome.ALREADY_DONE, user
    # Issued for another address, password or active state: void.
    return LinkOutcome.INVALID, None


def confirmation_check(token: str) -> LinkResult:
    """What confirming would do, without doing it (a GET must change nothing)."""
    return LinkResult(*_confirmation_target(token))


def user_confirm_email(*, token: str, actor=None, password: str = "", request=None) -> LinkResult:
    """Confirm an address, for a person who holds both the mailbox and the account.

    Confirming ends every other session of the account (the session hash
    covers `confirmed`) and voids its other pending links.
    """
    outcome, user = _confirmation_target(token)
    if outcome != LinkOutcome.VALID:
        return LinkResult(outcome)
    refusal = _holds_account(user, actor=actor, password=password, request=request)
    if refusal:
        return LinkResult(refusal)
    # Conditional UPDATE on the state the link was checked against: of two
    # simultaneous clicks exactly one confirms, and a reset or change of
    # address that lands in between wins.
    unchanged = User.objects.filter(
        pk=user.pk,
        email=user.email,
        password=user.password,
        is_active=user.is_active,
        confirmed=False,
    )
    if not unchanged.update(confirmed=True):
        return LinkResult(LinkOutcome.ALREADY_DONE)
    user.confirmed = True
    _void_pending_links(user)
    _grant_site_admin(user)
    return LinkResult(LinkOutcome.DONE, user)


# --- The sign-in budget (accounts.ratelimits) ---------------------------------


def sign_in_name_key(name: str) -> str:
    """The key of a name typed at sign-in in the budget of browsers the account never
    used: one per name, whoever it belongs to (attack 2026-12-06, F4), so a lock seen
    through one name says nothing about the account's other name, and an unknown
    name is limited exactly alike. Every spelling that reaches one account by that
    name shares the key: NFKC and case-folded as the username's unique key is, and
    `İ` read as `i`, as PostgreSQL's lower() reads it when matching an address
    (`selectors.member_signing_in`). Per account: its username and its address."""
    return f"name:{username_key(name.replace(chr(0x130), 'i'))}"


def member_name_key(user: User) -> str:
    """Where a signed-in member's guesses at their secret count ("current password"
    fields, re-authentication, the second factor): their username's budget."""
    return sign_in_name_key(user.username)


# The sign-in form's field, made once (its `to_python` keeps no state): building a
# form field (its widget, its validators) at every sign-in cost more than using it.
_SIGN_IN_NAME = UsernameField(max_length=254)


def login_target(identifier: str) -> tuple[str, User | None]:
    """The budget key of the name a sign-in gives, and the member it names (by
    username or email, any case).

    The key is the name's (`sign_in_name_key`), whether or not an account has it.
    Text no account could have (empty, too long, a NUL byte) is looked up by no query.
    """
    # Normalised as the sign-in form does (NFKC), so "ａlice" is alice.
    identifier = _SIGN_IN_NAME.to_python(identifier or "").strip()
    plausible = identifier and len(identifier) <= 254 and "\x00" not in identifier
    user = selectors.member_signing_in(identifier) if plausible else None
    return sign_in_name_key(identifier), user


class PasswordCheck(StrEnum):
    RIGHT = "right"
    WRONG = "wrong"
    LIMITED = "limited"  # the account's sign-in budget is used up: not checked


def account_password_check(*, request, user: User, password: str) -> PasswordCheck:
    """Check a signed-in member's password ("current password" fields,
    re-authentication) on the same per-account budget as signing in."""
    attempt = ratelimits.account_attempt(request, name_key=member_name_key(user), user=user)
    if not attempt.allowed:
        return PasswordCheck.LIMITED
    if user.check_password(password):
        attempt.succeeded()
        return PasswordCheck.RIGHT
    return PasswordCheck.WRONG


# --- Credentials ---------------------------------------------------------------

# Changing any of these voids every pending link of the account (the tokens
# are bound to them) and ends its other sessions (`User.get_session_auth_hash`).
CREDENTIAL_FIELDS = frozenset({"password", "email", "confirmed", "is_active"})


def _void_pending_links(user: User) -> None:
    """Drop the account's pending change of address.

    Its link is already void (tokens are bound to the credential state that
    changed); deleting the row leaves nothing behind to revive it.
    """
    EmailChangeRequest.objects.filter(user_id=user.pk).delete()


def _recorded_changes(member: User, fields: set[str]) -> list[tuple[str, str]]:
    """The changes of state among `fields` worth a record: (kind, detail)."""
    changes = []
    if "is_active" in fields:
        changes.append((Kind.REINSTATE if member.is_active else Kind.SUSPEND, ""))
    if "role_id" in fields or "role" in fields:
        changes.append((Kind.ROLE, member.role.name if member.role_id else "no role"))
    if "email" in fields:
        changes.append((Kind.EMAIL, member.email))
    if "password" in fields:
        changes.append((Kind.PASSWORD, "" if member.has_usable_password() else "disabled"))
    if "avatar" in fields:
        changes.append((Kind.AVATAR if member.avatar else Kind.CLEAR_AVATAR, ""))
    if "about_me" in fields:
        changes.append((Kind.ABOUT if member.about_me else Kind.CLEAR_ABOUT, ""))
    return changes


def member_save_fields(
    *, member: User, fields, actor: User | None, via: str, reason: str = ""
) -> list[ModerationAction]:
    """The one way a member's state changes: write only `fields`, and record it.

    Only the named columns are written, so a concurrent change to any other
    (a suspension, a role, a reset) stands. A change of active state, role,
    email, password, avatar or about-me is recorded with who made it (`actor`;
    None for the system), through which path (`via`) and why (`reason`).
    Returns the records written.
    """
    fields = set(fields)
    if not fields:
        return []
    with transaction.atomic():
        member.save(update_fields=fields)
        if fields & CREDENTIAL_FIELDS:
            _void_pending_links(member)
        records = ModerationAction.objects.bulk_create(
            ModerationAction(
                actor=actor,
                member=member,
                kind=kind,
                via=via,
                detail=detail[:300],
                reason=reason.strip(),
            )
            for kind, detail in _recorded_changes(member, fields)
        )
        if "is_active" in fields and not member.is_active:
            # A suspension ends every session now, in the store: none can come back
            # on reinstatement.
            transaction.on_commit(
                lambda: usersessions.user_sessions_end_all(user=member, suspended=True)
            )
    for record in records:
        logger.info(
            "%s: %s by %s via %s (%s)", member, record.kind, actor, via, reason or "no reason"
        )
    return records


def member_record_event(
    *, member: User, kind: str, actor: User | None, via: str, reason: str = "", detail: str = ""
) -> ModerationAction:
    """Record a change that is not a column of the member's row (factors removed,
    the account deleted), on the same record as `member_save_fields`."""
    record = ModerationAction.objects.create(
        actor=actor, member=member, kind=kind, via=via, detail=detail[:300], reason=reason.strip()
    )
    logger.info("%s: %s by %s via %s (%s)", member, kind, actor, via, reason or "no reason")
    return record


def members_update(*, members, actor: User | None, via: str, reason: str = "", **values) -> int:
    """`member_save_fields` for many members at once, set-based (the admin's bulk actions).

    Members that already have `values` are left alone and not recorded.
    Returns how many changed.
    """
    with transaction.atomic():
        changing = list(members.exclude(**values).select_for_update().values_list("pk", flat=True))
        User.objects.filter(pk__in=changing).update(**values)
        signals.members_updated.send(User, user_ids=changing, fields=set(values))
        if set(values) & CREDENTIAL_FIELDS:
            EmailChangeRequest.objects.filter(user_id__in=changing).delete()
        if values.get("is_active") is False:
            transaction.on_commit(lambda: usersessions.user_sessions_end_for(user_ids=changing))
        sample = User(**values)
        kinds = _recorded_changes(sample, set(values))
        ModerationAction.objects.bulk_create(
            ModerationAction(
                actor=actor,
                member_id=pk,
                kind=kind,
                via=via,
                detail=detail[:300],
                reason=reason.strip(),
            )
            for pk in changing
            for kind, detail in kinds
        )
    logger.info("%d members: %s by %s via %s", len(changing), values, actor, via)
    return len(changing)


def user_set_password(
    *,
    user: User,
    password: str | None,
    actor: User | None,
    via: str,
    reason: str = "",
    proves_mailbox: bool = False,
) -> None:
    """Set (or, with None, disable) a password, writing that column alone.

    `proves_mailbox`: the password was set through a link mailed to the
    account's current address (a reset), which also confirms the address.
    """
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    fields = {"password"}
    if proves_mailbox and not user.confirmed:
        user.confirmed = True
        fields.add("confirmed")
    member_save_fields(member=user, fields=fields, actor=actor, via=via, reason=reason)
    if proves_mailbox:
        _grant_site_admin(user)


def sign_in(request, user: User, *, backend: str | None = None) -> None:
    """Django's `login()`, always in a new session. `login()` keeps the key of a
    session that already names the same member, so a copy of it stayed signed in
    after its owner signed in again to be safe (attack report 4, I1): that session
    is signed out first (its row and devices row end), then the new one begins."""
    if SESSION_KEY in request.session:
        logout(request)
    login(request, user, backend=backend)


def login_finalize(request, user: User, *, remember: bool) -> None:
    """What follows every sign-in, whatever proved it: the session's lifetime, a welcome."""
    if remember:
        request.session.set_expiry(settings.OFFBRAND_REMEMBER_DAYS * 24 * 3600)
    else:
        request.session.set_expiry(0)  # ends with the browser
    messages.success(request, f"Welcome back, {user.username}.")


def notify_password_changed(user: User, *, request=None) -> bool:
    return send_security_notice(user, SecurityEvent.PASSWORD_CHANGED, request)


# --- Change of email ---------------------------------------------------------


def user_request_email_change(*, user: User, new_email: str, request=None) -> bool:
    """Replace any pending change with one to `new_email`; mail once answered.

    Whether another account has the address is not asked in the request: the
    change is recorded either way (its link, were it ever followed, finds the
    address taken), and after the response either the link goes to the new
    address or a notice to its owner (`email_change_mail_send`). The same
    work, the same answer, the same time.
    """
    new_email = User.objects.normalize_email(new_email.strip())
    with transaction.atomic():
        EmailChangeRequest.objects.filter(user=user).delete()
        change = EmailChangeRequest.objects.create(user=user, new_email=new_email)
    after_response(request, email_change_mail_send, change=change)
    return True


def email_change_mail_send(*, change: EmailChangeRequest) -> None:
    """The link to a free address, or a notice to the owner of a taken one.

    At most a few mails an hour to one address, whoever asks: members could
    otherwise take turns flooding it.
    """
    if not ratelimits.hit("email_change_mail_email", mailbox_key(change.new_email)).allowed:
        return
    owner = (
        User.objects.filter(iexact("email", change.new_email)).exclude(pk=change.user_id).first()
    )
    if owner is not None and same_mailbox(owner.email, change.new_email):
        send_email(
            "email_change_attempt",
            to=owner.email,
            context={"user": owner, "reset_url": reverse("accounts:password_reset")},
        )
        return
    path = reverse("accounts:email_change_confirm", args=[tokens.make_email_change_token(change)])
    send_email(
        "email_change_confirm",
        to=change.new_email,
        context={"user": change.user, "new_email": change.new_email, "link": site_url() + path},
    )


def _email_change_target(token: str) -> tuple[LinkOutcome, EmailChangeRequest | None]:
    payload = tokens.read_token(token, salt=tokens.EMAIL_CHANGE_SALT)
    if payload.error:
        return LinkOutcome(payload.error), None
    change = (
        EmailChangeRequest.objects.select_related("user")
        .filter(pk=payload.data.get("c"), user_id=payload.data.get("u"))
        .first()
    )
    if change is None:  # used, replaced by a newer request, or voided
        return LinkOutcome.INVALID, None
    state = tokens.email_change_state(change)
    if not tokens.state_matches(payload.data.get("s"), change.user, *state):
        return LinkOutcome.INVALID, None  # the account changed since the request
    change.token_state = payload.data["s"]
    return LinkOutcome.VALID, change


def email_change_check(token: str) -> LinkResult:
    outcome, change = _email_change_target(token)
    return LinkResult(outcome, change.user if change else None)


def email_change_pending(token: str) -> EmailChangeRequest | None:
    """The change a working link would make, so its page can name the new address."""
    return _email_change_target(token)[1]


def user_confirm_email_change(
    *, token: str, actor=None, password: str = "", request=None
) -> LinkResult:
    """Apply a pending change: the new address is checked for uniqueness again.

    Like a confirmation, it needs the account as well as the mailbox, so the
    owner of an address cannot be tricked into attaching it to an account
    someone else holds.
    """
    outcome, change = _email_change_target(token)
    if outcome != LinkOutcome.VALID:
        return LinkResult(outcome)
    refusal = _holds_account(change.user, actor=actor, password=password, request=request)
    if refusal:
        return LinkResult(refusal)
    result = _apply_email_change(change, request=request)
    return LinkResult(result, change.user if result == LinkOutcome.DONE else None)


def _apply_email_change(change: EmailChangeRequest, *, request) -> LinkOutcome:
    try:
        with transaction.atomic():
            # Lock the account and check the link again: a reset, suspension
            # or other credential change that committed meanwhile wins.
            user = User.objects.select_for_update().get(pk=change.user_id)
            state = tokens.email_change_state(change)
            if not tokens.state_matches(change.token_state, user, *state):
                return LinkOutcome.INVALID
            if not EmailChangeRequest.objects.filter(pk=change.pk).delete()[0]:
                return LinkOutcome.ALREADY_DONE
            if User.objects.filter(iexact("email", change.new_email)).exclude(pk=user.pk).exists():
                return LinkOutcome.EMAIL_TAKEN
            old_email, old_confirmed = user.email, user.confirmed
            user.email = change.new_email
            user.confirmed = True
            member_save_fields(
                member=user, fields=["email", "confirmed"], actor=user, via=Via.EMAIL_LINK
            )
            change.user = user
    except IntegrityError:
        return LinkOutcome.EMAIL_TAKEN
    send_security_notice(
        user,
        SecurityEvent.EMAIL_CHANGED,
        request,
        to=old_email,
        details=f"The new address is {user.email}.",
        address_confirmed=old_confirmed,
    )
    # The address is part of the sessions' auth hash: end the ones it voided.
    usersessions.user_sessions_end_voided(user=user, request=request)
    _grant_site_admin(user)
    return LinkOutcome.DONE


# --- Profiles and avatars ----------------------------------------------------


def _delete_avatar_files_on_commit(user: User) -> None:
    """Remove the member's current avatar files once the new state is committed."""
    stale = [(f.storage, f.name) for f in (user.avatar, user.avatar_small) if f]
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in stale])


def member_set_avatar(
    *, user: User, rendered: dict[str, bytes], actor: User | None, via: str, reason: str = ""
) -> None:
    """Store freshly rendered avatar files under generated names; drop the old ones."""
    _delete_avatar_files_on_commit(user)
    stem = f"{user.pk}-{uuid.uuid4().hex}"
    user.avatar.save(f"{stem}-large.webp", ContentFile(rendered["large"]), save=False)
    user.avatar_small.save(f"{stem}-small.webp", ContentFile(rendered["small"]), save=False)
    member_save_fields(
        member=user, fields=["avatar", "avatar_small"], actor=actor, via=via, reason=reason
    )


def member_remove_avatar(*, user: User, actor: User | None, via: str, reason: str = "") -> None:
    _delete_avatar_files_on_commit(user)
    user.avatar = user.avatar_small = ""
    member_save_fields(
        member=user, fields=["avatar", "avatar_small"], actor=actor, via=via, reason=reason
    )


def profile_update(*, form) -> User:
    """Save a member's own profile form: the fields they changed, and the avatar.

    "Changed" is measured against what their page showed (`accounts.edits`):
    a moderator's clearing of their about-me, or a suspension, role change or
    reset that lands while the page is open (or while a large avatar
    decodes), stands. A field they changed that someone else changed
    meanwhile raises `EditConflict`: nothing is saved.
    """
    with transaction.atomic():
        edits.lock_unchanged_elsewhere(form)
        user = form.save(commit=False)
        own = {"actor": user, "via": Via.OWN_PAGES}
        member_save_fields(member=user, fields=form.changed_model_fields(), **own)
        rendered = form.cleaned_data.get("avatar_upload")
        if rendered:
            member_set_avatar(user=user, rendered=rendered, **own)
        elif form.cleaned_data.get("remove_avatar") and user.avatar:
            member_remove_avatar(user=user, **own)
    return user


def member_admin_update(*, form, actor: User, via: str = Via.MEMBER_EDIT) -> User:
    """An administrator's edit of a member: only the fields they changed on the
    page they saw are written (`accounts.edits`).

    So a suspension, a confirmed change of address or the member's own edit
    made while the editor was open stands, and is not recorded as the
    administrator's; a field both changed raises `EditConflict` and nothing is
    saved. A change of address, confirmation or active state voids the
    member's pending links and ends their sessions, like the member's own
    change would. The form's `reason`, if it has one, is recorded with each change.
    """
    with transaction.atomic():
        edits.lock_unchanged_elsewhere(form)
        member = form.save(commit=False)
        fields = form.changed_model_fields()
        member_save_fields(
            member=member,
            fields=fields,
            actor=actor,
            via=via,
            reason=form.cleaned_data.get("reason", ""),
        )
        if CREDENTIAL_FIELDS.intersection(fields):
            # Sessions voided by their auth hash are deleted from the store too:
            # undoing the change (unconfirm, then confirm) must revive none.
            transaction.on_commit(lambda: usersessions.user_sessions_end_voided(user=member))
    return member


# --- Moderation --------------------------------------------------------------


def can_moderate(actor: User, member: User) -> bool:
    """Moderators act on members; never on themselves or on administrators,
    unless they are administrators themselves."""
    if not actor.can(Permission.MODERATE) or actor.pk == member.pk:
        return False
    member_is_admin = member.role is not None and member.role.grants(Permission.ADMIN)
    return not member_is_admin or actor.is_administrator()


def member_moderate(
    *, actor: User, member: User, kind: ModerationAction.Kind, reason: str = ""
) -> ModerationAction:
    """Suspend, reinstate, or clear a member's about-me or avatar, and record it."""
    if kind not in MODERATION_KINDS or not can_moderate(actor, member):
        raise PermissionDenied("You can't moderate this member.")
    with transaction.atomic():
        if kind in (Kind.SUSPEND, Kind.REINSTATE):
            member.is_active = kind == Kind.REINSTATE
            fields = ["is_active"]
        elif kind == Kind.CLEAR_ABOUT:
            member.about_me = ""
            fields = ["about_me"]
        else:
            _delete_avatar_files_on_commit(member)
            member.avatar = member.avatar_small = ""
            fields = ["avatar", "avatar_small"]
        (record,) = member_save_fields(
            member=member, fields=fields, actor=actor, via=Via.MODERATION, reason=reason
        )
    return record
