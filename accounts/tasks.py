"""Background work: sending mail off the request path with `django.tasks`."""

import logging
import smtplib
from datetime import timedelta

from django.core.mail import EmailMultiAlternatives
from django.tasks import task, task_backends
from django.utils import timezone

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
) -> None:
    """Send one composed message through the configured mailer.

    When the mail server is unreachable and the task backend can run work
    later (the database queue can), the message is queued again with a
    growing delay, so an outage delays mail instead of losing it.
    """
    message = EmailMultiAlternatives(subject, body, from_email, to)
    message.attach_alternative(html, "text/html")
    try:
        message.send()
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
        )
