"""Second factors as functions: passkeys, the authenticator app, recovery codes.

Each change of state is one function that saves only what it owns and sends
the member a security notice. Other parts of Offbrand ask `has_factors`,
`factor_summary` and `member_remove_factors`; nothing outside this package
reads a secret.
"""

import base64
import hashlib
import json
import logging
import secrets
import time
from urllib.parse import urlsplit

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    options_to_json_dict,
    parse_authentication_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from accounts.mfa.models import Passkey, RecoveryCode, TotpDevice
from accounts.notices import SecurityEvent, send_security_notice

logger = logging.getLogger(__name__)

SITE_NAME = "Offbrand"


# --- Which factors a member has ---------------------------------------------------


# The sign-in reads it with the member (`selectors.member_signing_in`), in the
# statement that reads the password hash it checks: `has_factors` answers from it.
READ_AT_SIGN_IN = "has_second_factor"


def second_factor() -> Q:
    """Whether the member of a query of members has a second factor: a passkey or
    the authenticator app. The one definition, for `has_factors` and the
    sign-in's read of the member."""
    member = OuterRef("pk")
    return Q(Exists(Passkey.objects.filter(user=member))) | Q(
        Exists(TotpDevice.objects.filter(user=member))
    )


def has_factors(user) -> bool:
    """Does signing in as `user` need a second factor after the password?"""
    if user is None or user.pk is None:
        return False
    read = getattr(user, READ_AT_SIGN_IN, None)
    if read is not None:
        return read
    return get_user_model()._default_manager.filter(second_factor(), pk=user.pk).exists()


def factor_summary(user) -> dict:
    """What factors a member has, without any secret: for pages and data exports."""
    device = TotpDevice.objects.filter(user=user).first()
    return {
        "passkeys": [
            {"name": p.name, "created_at": p.created_at, "last_used_at": p.last_used_at}
            for p in Passkey.objects.filter(user=user)
        ],
        "authenticator_app": (
            {"created_at": device.created_at, "last_used_at": device.last_used_at}
            if device
            else None
        ),
        "recovery_codes_left": recovery_codes_left(user),
    }


def member_remove_factors(*, user) -> int:
    """Remove every passkey, the authenticator app and the recovery codes of `user`.

    For an administrator's removal or an account's deletion: the caller
    records it and tells the member. Returns how many factors were removed.
    """
    with transaction.atomic():
        removed = Passkey.objects.filter(user=user).delete()[0]
        removed += TotpDevice.objects.filter(user=user).delete()[0]
        RecoveryCode.objects.filter(user=user).delete()
    return removed


def _drop_recovery_codes_if_no_factor_left(user) -> None:
    """Recovery codes stand in for a factor: with none left they would be a password."""
    if not has_factors(user):
        RecoveryCode.objects.filter(user=user).delete()


# --- Single-use challenges ----------------------------------------------------------
# A WebAuthn challenge travels signed in the page (no session is needed on
# the sign-in page) and is spent in the cache on first use, so an answer to
# it cannot be replayed. Without the cache nothing is accepted.

CHALLENGE_SALT = "offbrand.mfa.challenge"
CHALLENGE_MAX_AGE = 300  # seconds


def challenge_issue(*, purpose: str, user_id: int | None) -> tuple[bytes, str]:
    """A fresh challenge and the signed token that carries it back."""
    challenge = secrets.token_bytes(32)
    token = signing.dumps(
        {"c": bytes_to_base64url(challenge), "p": purpose, "u": user_id}, salt=CHALLENGE_SALT
    )
    return challenge, token


def challenge_redeem(token: str, *, purpose: str, user_id: int | None) -> bytes | None:
    """The challenge in `token`, once: None if forged, expired, for another use, or spent."""
    try:
        data = signing.loads(token, salt=CHALLENGE_SALT, max_age=CHALLENGE_MAX_AGE)
    except signing.BadSignature:
        return None
    if data.get("p") != purpose or data.get("u") != user_id:
        return None
    key = "mfa:challenge:" + hashlib.sha256(data["c"].encode()).hexdigest()
    try:
        fresh = cache.add(key, 1, CHALLENGE_MAX_AGE + 60)
    except Exception:
        logger.exception("Cache unavailable: refusing a WebAuthn answer")
        return None
    return base64url_to_bytes(data["c"]) if fresh else None


# --- Passkeys (WebAuthn) ------------------------------------------------------------


class PasskeyError(Exception):
    """A passkey could not be added or used; the message is for the member."""


def relying_party() -> tuple[str, str]:
    """The relying party's ID (the host) and origin, both from SITE_URL."""
    parts = urlsplit(settings.SITE_URL)
    return parts.hostname or "", f"{parts.scheme}://{parts.netloc}"


def user_handle(user) -> bytes:
    """The WebAuthn user ID: stable per member, and revealing nothing about them."""
    return _user_handle(user.pk)


def _user_handle(pk) -> bytes:
    return salted_hmac("offbrand.mfa.user-handle", str(pk), algorithm="sha256").digest()


def passkey_claimed_account(credential: str, *, among: list[str]) -> str | None:
    """Which of the accounts `among` (pks) a sign-in answer says it is for, from its
    user handle, *before* it is verified (`passkey_authenticate` checks the claim)."""
    if not among:
        return None
    try:
        claimed = parse_authentication_credential_json(credential).response.user_handle
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError):
        return None
    if not claimed:
        return None
    return next((pk for pk in among if constant_time_compare(claimed, _user_handle(pk))), None)


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = []
    for name in passkey.transports:
        try:
            transports.append(AuthenticatorTransport(name))
        except ValueError:
            continue
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(passkey.credential_id), transports=transports or None
    )


def passkey_registration_options(user) -> tuple[dict, str]:
    """Options for `navigator.credentials.create()` (as JSON data) and their challenge token."""
    rp_id, _ = relying_party()
    challenge, token = challenge_issue(purpose="register", user_id=user.pk)
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=SITE_NAME,
        user_name=user.username,
        user_id=user_handle(user),
        user_display_name=user.get_full_name() or user.username,
        challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=[_descriptor(p) for p in Passkey.objects.filter(user=user)],
    )
    return options_to_json_dict(options), token


def _transports(credential: str) -> list[str]:
    try:
        names = json.loads(credential)["response"].get("transports") or []
    except (ValueError, TypeError, KeyError, AttributeError):
        return []
    return [name for name in names if isinstance(name, str) and len(name) <= 20][:10]


def passkey_register(*, user, name: str, credential: str, token: str, request=None) -> Passkey:
    """Verify the browser's answer to the registration options and keep the passkey."""
    challenge = challenge_redeem(token, purpose="register", user_id=user.pk)
    if challenge is None:
        raise PasskeyError("That request expired. Please try adding the passkey again.")
    rp_id, origin = relying_party()
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        logger.info("Passkey registration refused for %s: %s", user, error)
        raise PasskeyError(
            "Your browser's answer could not be verified. Please try again."
        ) from error
    try:
        with transaction.atomic():
            passkey = Passkey.objects.create(
                user=user,
                name=name.strip() or "Passkey",
                credential_id=bytes_to_base64url(verified.credential_id),
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=_transports(credential),
            )
    except IntegrityError as error:
        raise PasskeyError("That passkey is already registered.") from error
    send_security_notice(
        user, SecurityEvent.PASSKEY_ADDED, request=request, details=f"Its name: {passkey.name}."
    )
    return passkey


def passkey_remove(*, user, passkey_id: int, request=None) -> bool:
    with transaction.atomic():
        passkey = Passkey.objects.filter(user=user, pk=passkey_id).first()
        if passkey is None or not Passkey.objects.filter(pk=passkey.pk).delete()[0]:
            return False
        _drop_recovery_codes_if_no_factor_left(user)
    send_security_notice(
        user, SecurityEvent.PASSKEY_REMOVED, request=request, details=f"Its name: {passkey.name}."
    )
    return True


def passkey_authentication_options(user=None) -> tuple[dict, str]:
    """Options for `navigator.credentials.get()` and their token.

    With a `user` (the second step of a sign-in) the browser is offered that
    member's passkeys; without one (sign-in with no password) any discoverable
    passkey of this site, with user verification required.
    """
    rp_id, _ = relying_party()
    challenge, token = challenge_issue(purpose="authenticate", user_id=user.pk if user else None)
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=challenge,
        allow_credentials=[_descriptor(p) for p in Passkey.objects.filter(user=user)]
        if user
        else [],
        user_verification=UserVerificationRequirement.PREFERRED
        if user
        else UserVerificationRequirement.REQUIRED,
    )
    return options_to_json_dict(options), token


def passkey_authenticate(*, credential: str, token: str, user=None) -> Passkey:
    """Check a signed answer to `passkey_authentication_options`; the passkey it used.

    Without `user`, the passkey alone signs a member in: it must have verified
    the person (PIN or biometrics) and name its own account.
    """
    refused = PasskeyError("That passkey could not sign you in.")
    challenge = challenge_redeem(token, purpose="authenticate", user_id=user.pk if user else None)
    if challenge is None:
        raise PasskeyError("That request expired. Please try again.")
    try:
        parsed = parse_authentication_credential_json(credential)
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        raise refused from error
    found = Passkey.objects.select_related("user__role").filter(
        credential_id=bytes_to_base64url(parsed.raw_id)
    )
    if user is not None:
        found = found.filter(user=user)
    passkey = found.first()
    if passkey is None:
        raise refused
    if user is None and not constant_time_compare(
        parsed.response.user_handle or b"", user_handle(passkey.user)
    ):
        raise refused
    rp_id, origin = relying_party()
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=user is None,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        logger.info("Passkey sign-in refused for %s: %s", passkey.user, error)
        raise refused from error
    now = timezone.now()
    # Conditional: of two answers counted from the same sign count, one stands.
    if not Passkey.objects.filter(pk=passkey.pk, sign_count=passkey.sign_count).update(
        sign_count=verified.new_sign_count, last_used_at=now
    ):
        raise refused
    passkey.sign_count, passkey.last_used_at = verified.new_sign_count, now
    return passkey


# --- Authenticator app (TOTP, RFC 6238) ---------------------------------------------

TOTP_DIGITS = 6
TOTP_INTERVAL = 30
TOTP_DRIFT_STEPS = 1  # a code of the step before or after is accepted too


def totp_new_secret() -> str:
    return pyotp.random_base32()


def _sealer() -> MultiFernet:
    """Fernet keys from SECRET_KEY, then each of SECRET_KEY_FALLBACKS (for rotation)."""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([Fernet(_seal_key(key)) for key in keys])


def _seal_key(secret_key: str) -> bytes:
    digest = salted_hmac("offbrand.mfa.totp-seal", "", secret=secret_key, algorithm="sha256")
    return base64.urlsafe_b64encode(digest.digest())


def totp_seal(secret: str) -> str:
    return _sealer().encrypt(secret.encode()).decode()


def totp_unseal(sealed: str) -> str | None:
    try:
        return _sealer().decrypt(sealed.encode()).decode()
    except InvalidToken:
        logger.error("An authenticator app's secret could not be unsealed (SECRET_KEY changed?)")
        return None


def totp_provisioning_uri(user, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=SITE_NAME)


def totp_qr_svg(uri: str) -> str:
    """The QR code of `uri` as inline SVG, drawn here: no third party sees the secret."""
    return segno.make(uri, error="m").svg_inline(
        scale=4, dark="#000", light="#fff", title="QR code for your authenticator app"
    )


def totp_step_of(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time step whose code `code` is, within the allowed drift; None if none."""
    code = "".join(code.split())
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL)
    current = int((time.time() if now is None else now) // TOTP_INTERVAL)
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if constant_time_compare(totp.generate_otp(step), code):
            return step
    return None


def totp_enable(*, user, secret: str, code: str, request=None) -> bool:
    """Turn the app on, only with a correct code from it; that code is then spent."""
    step = totp_step_of(secret, code)
    if step is None:
        return False
    try:
        with transaction.atomic():
            TotpDevice.objects.create(user=user, secret=totp_seal(secret), last_used_step=step)
    except IntegrityError:
        return False  # set up meanwhile, from another tab
    send_security_notice(user, SecurityEvent.TOTP_ENABLED, request=request)
    return True


def totp_verify(*, user, code: str) -> bool:
    """A correct code, never accepted before for this member (a replay is refused)."""
    device = TotpDevice.objects.filter(user=user).first()
    if device is None:
        return False
    secret = totp_unseal(device.secret)
    step = totp_step_of(secret, code) if secret else None
    if step is None:
        return False
    # Conditional UPDATE: of two uses of one code, even at once, one succeeds.
    return bool(
        TotpDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(
            last_used_step=step, last_used_at=timezone.now()
        )
    )


def totp_disable(*, user, request=None) -> bool:
    with transaction.atomic():
        if not TotpDevice.objects.filter(user=user).delete()[0]:
            return False
        _drop_recovery_codes_if_no_factor_left(user)
    send_security_notice(user, SecurityEvent.TOTP_DISABLED, request=request)
    return True


# --- Recovery codes -----------------------------------------------------------------

RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: codes are read off paper. 31 symbols, 10 of them: ~49 bits each.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_CODE_LENGTH = 10


def _normalise_recovery_code(code: str) -> str:
    return "".join(char for char in code.lower() if char.isalnum())


def _recovery_code_hash(code: str) -> str:
    """A keyed hash: the stored values are useless without SECRET_KEY."""
    return salted_hmac(
        "offbrand.mfa.recovery-code", _normalise_recovery_code(code), algorithm="sha256"
    ).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def recovery_codes_left(user) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def recovery_codes_generate(*, user, request=None) -> list[str]:
    """Ten new codes, shown to the member once; every earlier code stops working."""
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(user=user, code_hash=_recovery_code_hash(code)) for code in codes
        )
    send_security_notice(user, SecurityEvent.RECOVERY_CODES_REGENERATED, request=request)
    return codes


def recovery_code_use(*, user, code: str, request=None) -> int | None:
    """Spend one code: how many are left, or None if it is not an unused code of `user`."""
    if not _normalise_recovery_code(code) or len(code) > 64:
        return None
    # Conditional UPDATE: of two uses of one code, even at once, one succeeds.
    spent = RecoveryCode.objects.filter(
        user=user, code_hash=_recovery_code_hash(code), used_at__isnull=True
    ).update(used_at=timezone.now())
    if not spent:
        return None
    left = recovery_codes_left(user)
    send_security_notice(
        user,
        SecurityEvent.RECOVERY_CODE_USED,
        request=request,
        details=f"You have {left} recovery code{'s' if left != 1 else ''} left.",
    )
    return left
