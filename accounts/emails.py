"""Composing Offbrand's email from templates, and handing it to the task queue.

Every email `NAME` has three templates under `templates/emails/`:
`NAME_subject.txt`, `NAME.txt` and `NAME.html`.
"""

import logging
import uuid
from functools import partial

from django.conf import settings
from django.tasks import TaskResultStatus
from django.template.loader import render_to_string

from accounts import ratelimits
from accounts.addresses import delivery_address
from accounts.tasks import deliver_email

logger = logging.getLogger(__name__)


def site_url() -> str:
    """The base of absolute links: always `SITE_URL`.

    Never the request's Host: a port or name a client sent (even an allowed
    one, such as 127.0.0.1:8001 behind the proxy) must not reach a mail.
    """
    return settings.SITE_URL


def compose_email(name: str, context: dict) -> dict:
    subject = render_to_string(f"emails/{name}_subject.txt", context).strip()
    return {
        "subject": f"{settings.OFFBRAND_MAIL_SUBJECT_PREFIX} {subject}",
        "body": render_to_string(f"emails/{name}.txt", context),
        "html": render_to_string(f"emails/{name}.html", context),
        "from_email": settings.OFFBRAND_MAIL_SENDER,
    }


AFTER_RESPONSE = "offbrand_after_response"


def after_response(request, function, /, *args, **kwargs) -> None:
    """Run `function(*args, **kwargs)` once the response has gone out.

    Flows whose answer must not tell who is registered (sign-up, password
    reset) send their mail -- or send none -- here: with the embedded default's
    immediate task backend the mail would otherwise go out inside the request,
    and how long the request took would tell. `AfterResponseMiddleware` hands
    the work to the response's `close()`, which the server calls once the
    body is sent. Without a request (a command), it runs at once.
    """
    if request is None:
        function(*args, **kwargs)
        return
    if not hasattr(request, AFTER_RESPONSE):
        setattr(request, AFTER_RESPONSE, [])
    getattr(request, AFTER_RESPONSE).append(partial(function, *args, **kwargs))


def run_after_response(request, response) -> None:
    """Attach the request's pending work to `response.close()` (see `after_response`)."""
    for job in getattr(request, AFTER_RESPONSE, ()):

        def run(job=job):
            try:
                job()
            except Exception:  # the visitor has their answer; the failure is the log's
                logger.exception("Work after the response failed: %r", job)

        response._resource_closers.append(run)


# Gmail ignores dots in the name, and answers for googlemail.com as for gmail.com.
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def mailbox_key(address: str) -> str:
    """The mailbox an address reaches, for counting (never for sending or storing):
    the address the SMTP backend delivers to (`"v"@ｅxample.com` is v@example.com,
    `addresses.delivery_address`), case-folded, without a `+tag` (`victim+1@x` and
    `victim+2@x` reach one mailbox at most providers), and at Gmail without dots
    (`v.i.c.t.i.m@googlemail.com` is victim@gmail.com). Elsewhere a dot may make
    another person's address."""
    delivered = delivery_address(address) or address
    local, _, domain = delivered.casefold().rpartition("@")
    local = local.split("+", 1)[0] or local
    if domain in DOTLESS_DOMAINS:
        domain = DOTLESS_DOMAINS[domain]
        local = local.replace(".", "") or local
    return f"{local}@{domain}"


def send_email(name: str, *, to: str, context: dict, request=None, ceiling: bool = True) -> bool:
    """Queue the email `name` to one address.

    Returns False when it could not be handed over (the immediate backend
    reports the mail server's failure at once); the caller tells the member
    that the email may be delayed. The failure is logged by the task.

    Every mail counts against one ceiling per address (`mail_to_address`,
    10 an hour), whichever flow or account asks: per-flow caps alone let a
    stranger take turns between flows and new accounts. Past it the mail is
    dropped (False). `ceiling=False` is only for security notices to an
    address its holder confirmed (`notices.send_security_notice`): a stranger
    cannot cause them, and a thief must not silence them by flooding the
    mailbox first.
    Without the cache the mail goes out: the flows' own limits fail closed.
    """
    if ceiling:
        verdict = ratelimits.hit("mail_to_address", mailbox_key(to))
        if not verdict.allowed and not verdict.unavailable:
            logger.warning("Not sending the %s email: the address had its mail this hour", name)
            return False
    context = {"site_url": site_url(), **context}
    try:
        result = deliver_email.enqueue(
            to=[to], message_key=uuid.uuid4().hex, **compose_email(name, context)
        )
    except Exception:  # a queue that cannot even take the job
        logger.exception("Could not queue the %s email to %s", name, to)
        return False
    return result.status != TaskResultStatus.FAILED
