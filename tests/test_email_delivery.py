"""Email through real transports: SMTP, an anymail ESP, and a server that is down."""

import socket
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from django.core import mail

from accounts.models import User
from accounts.tasks import deliver_email

REGISTER = {
    "email": "dora@example.com",
    "username": "dora",
    "password1": "a sturdy passphrase 9",
    "password2": "a sturdy passphrase 9",
}


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def smtp_mailer(port):
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def test_registration_mail_arrives_over_smtp_with_a_working_link(
    client, roles, settings, smtp_server
):
    inbox, port = smtp_server
    settings.MAILERS = smtp_mailer(port)
    client.post("/accounts/register/", REGISTER)
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["dora@example.com"]
    message = message_from_bytes(envelope.content)
    assert message["Subject"] == "[Offbrand] Confirm your email address"
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    body = text.get_payload(decode=True).decode()
    link = next(word for word in body.split() if "/accounts/confirm/" in word)
    client.post(link.split("testserver", 1)[1])
    assert User.objects.get(username="dora").confirmed


def test_a_refused_connection_loses_nothing_and_send_again_works(
    client, roles, settings, smtp_server
):
    settings.MAILERS = smtp_mailer(free_port())  # nobody listens there
    response = client.post("/accounts/register/", REGISTER, follow=True)
    assert response.status_code == 200
    assert "may be delayed" in response.content.decode()
    user = User.objects.get(username="dora")
    assert response.context["user"] == user
    # The mail server is back: "send again" delivers.
    inbox, port = smtp_server
    settings.MAILERS = smtp_mailer(port)
    response = client.post("/accounts/confirm/resend/", follow=True)
    assert "on its way" in response.content.decode()
    assert [m.rcpt_tos for m in inbox.messages] == [["dora@example.com"]]


def test_password_reset_answers_the_same_while_the_mail_server_is_down(client, member, settings):
    settings.MAILERS = smtp_mailer(free_port())
    response = client.post("/accounts/password/reset/", {"email": member.email})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"


def test_with_a_deferring_queue_a_failed_delivery_is_queued_again(settings):
    settings.MAILERS = smtp_mailer(free_port())
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    from django.tasks import task_backends

    deliver_email.call(
        subject="s", body="b", html="<p>b</p>", to=["x@example.com"], from_email="a@example.com"
    )
    [retry] = task_backends["default"].results
    assert retry.kwargs["attempt"] == 2
    assert retry.task.run_after is not None


def test_registration_goes_through_an_anymail_esp_backend(client, roles, settings):
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    client.post("/accounts/register/", REGISTER)
    [message] = mail.outbox
    assert message.anymail_status.status == {"sent"}
    assert message.to == ["dora@example.com"]
