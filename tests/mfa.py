"""What the second-factor tests share: members with factors, and the sign-in steps."""

import html
import time

import pyotp
from django.contrib.auth import SESSION_KEY
from django.core import mail

from accounts.mfa import services
from accounts.mfa.models import TotpDevice

LOGIN = "/accounts/login/"
SECOND_STEP = "/accounts/2fa/"
SECURITY = "/accounts/security/"


def enable_totp(user) -> pyotp.TOTP:
    """Give `user` an authenticator app; the returned TOTP makes its codes."""
    secret = services.totp_new_secret()
    TotpDevice.objects.create(user=user, secret=services.totp_seal(secret))
    return pyotp.TOTP(secret)


def code_at(totp: pyotp.TOTP, offset_steps: int = 0) -> str:
    return totp.at(time.time() + offset_steps * 30)


def password_step(client, login: str, password: str, **extra):
    """Post the sign-in form; the response (a redirect to the second step, for a member with
    a factor)."""
    return client.post(LOGIN, {"username": login, "password": password, **extra})


def signed_in_as(client):
    """The member id the session is signed in as, or None."""
    return client.session.get(SESSION_KEY)


def page_text(response) -> str:
    """The page's HTML with entities decoded (`isn't`, not `isn&#x27;t`)."""
    return html.unescape(response.content.decode())


def last_notice(subject: str):
    """The latest email whose subject contains `subject`."""
    found = [message for message in mail.outbox if subject in message.subject]
    assert found, f"no email about {subject!r}: {[m.subject for m in mail.outbox]}"
    return found[-1]
