"""Email through real transports: SMTP, an anymail ESP, and a server that is down."""

import socket
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

from accounts.models import User
from accounts.tasks import deliver_email
from offbrand.email_url import mailer_from_url

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
    # The mail goes out after the answer (a taken address must answer alike),
    # so the page is the usual one; the failure is logged, the account kept.
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
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


# --- EMAIL_URL: every documented form, against a real SMTP server ------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for localhost and 127.0.0.1, trusted by the client."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "cert.pem", folder / "key.pem"


class TlsAwareInbox(Inbox):
    """Records, with each message, whether the session was encrypted."""

    async def handle_DATA(self, server, session, envelope):
        envelope.encrypted = server.transport.get_extra_info("ssl_object") is not None
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def tls_smtp_servers(certificate, monkeypatch):
    """Two real servers: one offering STARTTLS on a plain port, one speaking TLS at once."""
    import ssl

    cert, key = certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts our certificate
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    inbox = TlsAwareInbox()
    starttls = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=server_context)
    implicit = Controller(inbox, hostname="127.0.0.1", port=free_port(), ssl_context=server_context)
    starttls.start()
    implicit.start()
    yield inbox, starttls.port, implicit.port
    starttls.stop()
    implicit.stop()


@pytest.mark.parametrize(
    ("url", "server", "encrypted"),
    [
        ("smtp://mailer:s%40cret@localhost:{starttls}", "starttls", False),
        ("smtp://mailer:s%40cret@localhost:{starttls}/?tls=True", "starttls", True),
        ("smtp+tls://mailer:s%40cret@localhost:{starttls}", "starttls", True),
        ("smtps://mailer:s%40cret@localhost:{implicit}", "implicit", True),
        ("smtp://mailer:s%40cret@localhost:{implicit}/?ssl=True", "implicit", True),
        ("smtp+ssl://mailer:s%40cret@localhost:{implicit}", "implicit", True),
    ],
)
def test_every_documented_smtp_url_does_what_it_says(
    url, server, encrypted, tls_smtp_servers, settings
):
    inbox, starttls, implicit = tls_smtp_servers
    url = url.format(starttls=starttls, implicit=implicit)
    mailer = mailer_from_url(url, timeout=5, base_dir=Path("/srv"))
    options = mailer["OPTIONS"]
    assert options["password"] == "s@cret"
    # The test server asks for no login: send without the credentials.
    options.update(username=None, password=None)
    settings.MAILERS = {"default": mailer}
    assert mail.send_mail("hi", "body", "a@example.com", ["b@example.com"]) == 1
    [envelope] = inbox.messages
    assert envelope.encrypted is encrypted


def test_starttls_asked_of_a_server_without_it_sends_nothing(smtp_server, settings):
    from smtplib import SMTPNotSupportedError

    inbox, port = smtp_server
    mailer = mailer_from_url(f"smtp://localhost:{port}/?tls=True", timeout=5, base_dir=Path("/"))
    settings.MAILERS = {"default": mailer}
    with pytest.raises(SMTPNotSupportedError):
        mail.send_mail("hi", "b", "a@example.com", ["b@example.com"])
    assert inbox.messages == []


def test_filemail_with_three_slashes_is_an_absolute_folder():
    mailer = mailer_from_url("filemail:///var/mail/offbrand", timeout=5, base_dir=Path("/srv/app"))
    assert mailer["OPTIONS"]["file_path"] == "/var/mail/offbrand"
    relative = mailer_from_url("filemail://sent", timeout=5, base_dir=Path("/srv/app"))
    assert relative["OPTIONS"]["file_path"] == "/srv/app/sent"


@pytest.mark.parametrize(
    "url", ["smtp://h:587/?tls=maybe", "smtp://h/?starttls=1", "smtps://h/?tls=True", "ftp://h"]
)
def test_an_email_url_not_understood_stops_the_start(url):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        mailer_from_url(url, timeout=5, base_dir=Path("/"))


def test_settings_read_email_url_through_the_parser():
    from tests.test_deploy_settings import fresh_settings

    values = fresh_settings("MAILERS", EMAIL_URL="smtp://u:p@mail.example.com:587/?tls=True")
    options = values["MAILERS"]["default"]["OPTIONS"]
    assert (options["use_tls"], options["use_ssl"], options["port"]) == (True, False, 587)
    values = fresh_settings("MAILERS", EMAIL_URL="smtps://u:p@mail.example.com:465")
    options = values["MAILERS"]["default"]["OPTIONS"]
    assert (options["use_tls"], options["use_ssl"]) == (False, True)
