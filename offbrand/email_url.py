"""EMAIL_URL, read the way the README documents it.

django-environ ignores `?tls=True` and turns `smtps://` into STARTTLS, so the
URL is parsed here instead, and anything not understood stops the start with
a message rather than sending mail in a way nobody asked for.

- `smtp://user:pass@host:25`: plain SMTP.
- `smtp://user:pass@host:587/?tls=True`, `smtp+tls://…`: STARTTLS (the send
  fails if the server does not offer it).
- `smtps://user:pass@host:465`, `smtp://…/?ssl=True`, `smtp+ssl://…`: TLS
  from the first byte.
- `consolemail://`: printed on the console.
- `filemail:///absolute/path`, `filemail://relative/path`: one file per
  message in that folder (relative to the project).
- `memorymail://`, `dummymail://`: kept in memory, or dropped (tests).
"""

from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BACKENDS = {
    "consolemail": "django.core.mail.backends.console.EmailBackend",
    "filemail": "django.core.mail.backends.filebased.EmailBackend",
    "memorymail": "django.core.mail.backends.locmem.EmailBackend",
    "dummymail": "django.core.mail.backends.dummy.EmailBackend",
}
SMTP_SCHEMES = {"smtp": None, "smtp+tls": "tls", "smtps": "ssl", "smtp+ssl": "ssl"}
TRUE, FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def _flag(name: str, value: str) -> bool:
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise ImproperlyConfigured(f"EMAIL_URL: {name}={value!r} must be True or False.")


def mailer_from_url(url: str, *, timeout: int, base_dir: Path) -> dict:
    """The MAILERS entry for `url`; ImproperlyConfigured for anything unclear."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in BACKENDS:
        options = {}
        if scheme == "filemail":
            # filemail:///var/mail -> /var/mail; filemail://mail -> <base_dir>/mail
            path = unquote(parts.netloc + parts.path)
            if not path:
                raise ImproperlyConfigured("EMAIL_URL: filemail:// needs a folder.")
            options["file_path"] = str(base_dir / path)  # an absolute path stays absolute
        return {"BACKEND": BACKENDS[scheme], "OPTIONS": options}
    if scheme not in SMTP_SCHEMES:
        raise ImproperlyConfigured(
            f"EMAIL_URL: unknown scheme {parts.scheme!r}; use smtp, smtps, "
            "smtp+tls, smtp+ssl, consolemail, filemail, memorymail or dummymail."
        )
    security = SMTP_SCHEMES[scheme]
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() not in {"tls", "ssl"}:
            raise ImproperlyConfigured(
                f"EMAIL_URL: unknown option {name!r}; only tls=True or ssl=True is understood."
            )
        if _flag(name, value):
            if security and security != name.lower():
                raise ImproperlyConfigured(
                    "EMAIL_URL: choose STARTTLS (tls) or SSL (ssl), not both."
                )
            security = name.lower()
    if not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL: an SMTP URL needs a host.")
    default_port = {"ssl": 465, "tls": 587}.get(security, 25)
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": parts.hostname,
            "port": parts.port or default_port,
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "use_tls": security == "tls",
            "use_ssl": security == "ssl",
            "timeout": timeout,
        },
    }
