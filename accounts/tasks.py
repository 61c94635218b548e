"""Background work: sending mail off the request path with `django.tasks`."""

import logging
import smtplib
from datetime import timedelta

from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.tasks import task, task_backends
from django.utils import timezone

from accounts.models import SentMail

logger = logging.getLogger(__name__)

# Retries of a mail that the server refused, while the backend can defer:
# about 1, 2, 4, ... minutes apart, for a little over a day in all.
MAX_DELIVERY_ATTEMPTS = 12


@task()
def deliver_email(
    *,
    subject: str,
    body: str,
    html: str,
    to: list[str],
    from_email: str,
    attempt: int = 1,
    message_key: str = "",
) -> None:
    """Send one composed message through the configured mailer, once.

    When the mail server is unreachable and the task backend can run work
    later (the database queue can), the message is queued again with a
    growing delay, so an outage delays mail instead of losing it.
    `message_key` (given when the mail is queued) makes a retry harmless.
    """
    message = EmailMultiAlternatives(subject, body, from_email, to)
    message.attach_alternative(html, "text/html")
    if message_key:
        domain = from_email.rpartition("@")[2].strip("> ") or "offbrand.invalid"
        message.extra_headers["Message-ID"] = f"<{message_key}@{domain}>"
    try:
        send_once(message, message_key)
    except (OSError, smtplib.SMTPException) as error:
        backend = task_backends[deliver_email.backend]
        if not backend.supports_defer or attempt >= MAX_DELIVERY_ATTEMPTS:
            logger.error("Could not send %r to %s: %s", subject, to, error)
            raise
        delay = timedelta(minutes=2 ** (attempt - 1))
        logger.warning(
            "Could not send %r to %s (attempt %d): %s; retrying in %s",
            subject,
            to,
            attempt,
            error,
            delay,
        )
        deliver_email.using(run_after=timezone.now() + delay).enqueue(
            subject=subject,
            body=body,
            html=html,
            to=to,
            from_email=from_email,
            attempt=attempt + 1,
            message_key=message_key,
        )


def send_once(message: EmailMultiAlternatives, key: str) -> None:
    """Send unless a message with this key was sent; record it in the same transaction.

    The row is inserted before sending, so a concurrent run of the same task
    waits on it and then finds the message sent. If the worker dies while
    sending, the transaction (and the row) goes with it and a retry sends.
    The one gap left is a death after the mail server accepted the message
    and before the commit: the retry then sends it again with the same
    Message-ID, which lets a receiving system drop the copy.
    """
    if not key:  # queued before keys existed
        message.send()
        return
    try:
        with transaction.atomic():
            SentMail.objects.create(key=key)
            message.send()
    except IntegrityError:
        logger.info("Mail %s was sent already; not sending it again", key)
