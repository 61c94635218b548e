"""Posted bodies: a body past the largest form is refused before it is parsed, and a
body Django cannot read (charset, boundary, bytes) gets the 400 page, never a 500."""

import logging
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.http import request as http_request
from django.test import Client

from offbrand import views as site_views
from social.models import POST_MAX_LENGTH, Post
from tests.factories import PostFactory

FORM = "application/x-www-form-urlencoded"
TOKEN = "a" * 32


def csrf_client(user=None) -> Client:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.cookies[settings.CSRF_COOKIE_NAME] = TOKEN
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def parsed(monkeypatch):
    """The length of every form body Django parses into a QueryDict."""
    lengths = []
    original = http_request.QueryDict.__init__

    def spy(self, query_string=None, *args, **kwargs):
        if query_string:
            lengths.append(len(query_string))
        original(self, query_string, *args, **kwargs)

    monkeypatch.setattr(http_request.QueryDict, "__init__", spy)
    return lengths


def test_a_huge_percent_encoded_login_is_refused_before_it_is_parsed(db, parsed, monkeypatch):
    reached = []
    monkeypatch.setattr("django.contrib.auth.forms.authenticate", lambda *a, **k: reached.append(1))
    body = f"csrfmiddlewaretoken={TOKEN}&username=" + "%23" * 800_000 + "&password=x"
    response = csrf_client().post("/accounts/login/", body, content_type=FORM)
    assert response.status_code == 400
    assert "too large" in response.content.decode()
    assert parsed == [] and reached == []


def test_a_huge_post_body_is_refused_with_the_400_page(member, parsed):
    body = urlencode({"csrfmiddlewaretoken": TOKEN, "body": "# " * 400_000})
    response = csrf_client(member).post("/posts/new/", body, content_type=FORM)
    assert response.status_code == 400
    assert "too large" in response.content.decode()
    assert parsed == [] and not Post.objects.exists()


def test_the_longest_post_of_four_byte_emoji_still_posts(member):
    text = "😀" * POST_MAX_LENGTH
    body = urlencode({"csrfmiddlewaretoken": TOKEN, "body": text})
    assert len(body) > 12 * POST_MAX_LENGTH  # the worst case: 12 bytes a character
    response = csrf_client(member).post("/posts/new/", body, content_type=FORM)
    assert response.status_code == 302
    assert Post.objects.get().body == text


def test_a_full_about_me_still_saves(member):
    text = "😀" * 2000
    body = urlencode(
        {"csrfmiddlewaretoken": TOKEN, "first_name": "", "last_name": "", "about_me": text}
    )
    response = csrf_client(member).post("/accounts/profile/", body, content_type=FORM)
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.about_me == text


def test_an_admin_bulk_action_on_100_posts_still_works(administrator):
    pks = [PostFactory().pk for _ in range(100)]
    body = urlencode(
        {
            "csrfmiddlewaretoken": TOKEN,
            "action": "hide_selected",
            "_selected_action": [str(pk) for pk in pks],
            "reason": "😀" * 500,
        },
        doseq=True,
    )
    response = csrf_client(administrator).post("/admin/social/post/", body, content_type=FORM)
    assert response.status_code == 302
    assert Post.objects.filter(hidden=True).count() == 100


URLS = [
    "/accounts/login/",
    "/accounts/register/",
    "/accounts/password/reset/",
    "/accounts/logout/",
    "/",
    "/admin/login/",
    "/accounts/passkey/sign-in/",
    "/posts/new/",
    "/no/such/page/",
]

# Sent with `generic`: `post` would re-encode the bytes to the declared charset.
BAD_BODIES = {
    "utf-16": (f"{FORM}; charset=utf-16", f"csrfmiddlewaretoken={TOKEN}&a=b".encode("utf-16")),
    "latin-1": (
        f"{FORM}; charset=latin-1",
        f"csrfmiddlewaretoken={TOKEN}&a=\xe9".encode("latin-1"),
    ),
    "bad utf-8 bytes": (f"{FORM}; charset=utf-8", b"csrfmiddlewaretoken=" + b"\xff\xfe" * 8),
    "bad boundary": ("multipart/form-data; boundary=", b"--x\r\n\r\n"),
    "no boundary": ("multipart/form-data", b"--x\r\nContent-Disposition: form-data\r\n\r\n"),
    "json": ("application/json", b'{"csrfmiddlewaretoken": "' + TOKEN.encode() + b'"}'),
}


@pytest.mark.parametrize("kind", BAD_BODIES)
@pytest.mark.parametrize("url", URLS)
def test_an_unreadable_body_never_gives_a_500(db, url, kind):
    content_type, body = BAD_BODIES[kind]
    response = csrf_client().generic("POST", url, body, content_type=content_type)
    assert response.status_code < 500, response.content[:300]


@pytest.mark.parametrize("url", ["/accounts/login/", "/", "/admin/login/", "/posts/new/"])
def test_a_non_utf8_charset_gets_the_friendly_400_page(db, url):
    content_type, body = BAD_BODIES["latin-1"]
    response = csrf_client().generic("POST", url, body, content_type=content_type)
    assert response.status_code == 400
    assert "UTF-8" in response.content.decode()


def test_a_signed_in_member_with_a_bad_charset_gets_the_400_page(member):
    content_type, body = BAD_BODIES["utf-16"]
    response = csrf_client(member).generic("POST", "/posts/new/", body, content_type=content_type)
    assert response.status_code == 400


# --- The log: one line per refusal, a traceback for real errors --------------------------

REFUSED_BODIES = {
    "too large": (FORM, f"csrfmiddlewaretoken={TOKEN}&a=".encode() + b"b" * 70_000),
    "too many fields": (FORM, "&".join(f"f{n}=x" for n in range(1100)).encode()),
    **{kind: BAD_BODIES[kind] for kind in ("utf-16", "latin-1", "bad boundary", "no boundary")},
}

REASONS = {
    "too large": "RequestDataTooBig",
    "too many fields": "TooManyFieldsSent",
    "utf-16": "must be UTF-8 encoded",
    "latin-1": "must be UTF-8 encoded",
    "bad boundary": "MultiPartParserError",
    "no boundary": "MultiPartParserError",
}


def log_lines(caplog) -> list[str]:
    """What the log would show for the captured records, line by line."""
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records).splitlines()


@pytest.mark.parametrize("kind", REFUSED_BODIES)
@pytest.mark.parametrize("url", ["/accounts/login/", "/posts/new/"])
def test_a_refused_body_is_one_short_warning_line(db, caplog, url, kind):
    """A client that floods the site with unreadable or oversized bodies must not fill its
    log with a traceback each (30-odd lines a request): each refusal is one warning line
    saying where and why."""
    caplog.set_level(logging.INFO)
    content_type, body = REFUSED_BODIES[kind]
    response = csrf_client().generic("POST", url, body, content_type=content_type)
    assert response.status_code == 400
    (line,) = [line for line in log_lines(caplog) if "django.tasks" not in line]
    assert line.startswith("WARNING ")
    assert f"Refused POST {url}: " in line
    assert REASONS[kind] in line


def test_a_refused_path_cannot_forge_log_lines(db, caplog):
    content_type, body = REFUSED_BODIES["too large"]
    url = "/users/x%0AERROR%20forged%20line/edit/"  # a path the URLconf takes
    assert csrf_client().generic("POST", url, body, content_type=content_type).status_code == 400
    (line,) = log_lines(caplog)
    assert "\\nERROR forged line" in line


def test_a_flood_of_foreign_host_headers_is_one_line_each(db, caplog):
    """A scanner trying Host headers that are not ours: one warning line a request."""
    for _ in range(3):
        response = Client(raise_request_exception=False).get("/", HTTP_HOST="evil.example")
        assert response.status_code == 400
    lines = log_lines(caplog)
    assert len(lines) == 3
    assert all(line.startswith("WARNING ") and "DisallowedHost" in line for line in lines)


def test_a_real_error_is_still_logged_in_full(db, caplog, monkeypatch):
    def explode(self, request, *args, **kwargs):
        raise RuntimeError("a real bug")

    monkeypatch.setattr(site_views.IndexView, "get", explode)
    response = Client(raise_request_exception=False).get("/")
    assert response.status_code == 500
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.name == "django.request"
    text = "\n".join(log_lines(caplog))
    assert "Traceback" in text and "RuntimeError: a real bug" in text


def test_a_path_outside_the_media_folder_is_one_short_warning_line(db, caplog):
    """The attack report's F4: an anonymous `GET /media/..%2f..%2fetc%2fpasswd` was
    answered 400, but logged an ERROR with a 16-line traceback quoting the path twice
    (about 9 KB of log for a 4 KB request, in a loop). Now one warning line."""
    client = Client(raise_request_exception=False)
    response = client.get("/media/..%2f..%2f" + "A" * 3900)
    assert response.status_code == 400
    lines = log_lines(caplog)
    (line,) = lines
    assert line.startswith("WARNING django.security.SuspiciousFileOperation: Refused GET /media/")
    assert "SuspiciousFileOperation" in line and "Traceback" not in line
    assert len(line) < 1000


def test_a_member_refused_the_administration_is_one_line_without_traceback(member_client, caplog):
    """F4: a signed-in member opening /admin/ got "Forbidden (Permission denied)" with a
    traceback. Django's own one line for a 403 stays, without the traceback."""
    for path in ("/admin/", "/admin/login/"):
        caplog.clear()
        assert member_client.get(path).status_code == 403
        (record,) = caplog.records
        assert record.levelno == logging.WARNING and not record.exc_info
        assert log_lines(caplog) == [
            f"WARNING django.request: Forbidden (Permission denied): {path}"
        ]
