"""Two upload loops from one member (issue 11): once a session's upload has been
refused, its next ones are refused again from one cache read, in front of Django
(`offbrand.refusal_gate`, which gunicorn calls first): no session, member row,
CSRF, middleware or log line; nobody else is refused."""

import logging
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.http import HttpResponse
from django.test import Client
from PIL import Image

from accounts.ratelimits import LIMITS
from offbrand.refusal_gate import RememberedRefusalGate
from tests.factories import UserFactory

EDIT = "/accounts/profile/"
SPACING = LIMITS["avatar_upload_user"].period  # one picture per window of this many seconds


class GatedHandler:
    """The test client's handler behind the gate, as gunicorn calls
    `offbrand.wsgi.application`: `answered_by_gate` says who answered."""

    def __init__(self, handler):
        self.django = handler
        self.gate = RememberedRefusalGate(self.serve)
        self.response = None
        self.answered_by_gate = False

    def serve(self, environ, start_response):
        self.response = self.django(environ)
        return []

    def __call__(self, environ):
        self.response, answer = None, {}
        body = self.gate(environ, lambda status, headers: answer.update(s=status, h=headers))
        self.answered_by_gate = self.response is None
        if not self.answered_by_gate:
            return self.response
        response = HttpResponse(b"".join(body), status=int(answer["s"].split()[0]))
        del response["Content-Type"]
        for name, value in answer["h"]:
            response[name] = value
        response.wsgi_request = WSGIRequest(environ)
        return response


def gated(client: Client) -> Client:
    client.handler = GatedHandler(client.handler)
    return client


def by_gate(client: Client) -> bool:
    return client.handler.answered_by_gate


@pytest.fixture
def client(client):
    """Pytest-django's client, behind the gate."""
    return gated(client)


def test_gunicorn_s_application_is_the_gate_in_front_of_django():
    from offbrand.unread_body import DrainUnreadUpload
    from offbrand.wsgi import application

    assert isinstance(application.app, DrainUnreadUpload)
    assert isinstance(application.app.app, RememberedRefusalGate)
    assert isinstance(application.app.app.app, WSGIHandler)


def picture(seed: int = 0) -> SimpleUploadedFile:
    """A photo-like PNG of a few hundred KB: over the 64 KB form allowance, so it
    counts as a picture before its body is read."""
    out = BytesIO()
    Image.effect_noise((400, 300), 60 + seed).convert("RGB").save(out, "PNG")
    return SimpleUploadedFile(f"me{seed}.png", out.getvalue(), content_type="image/png")


def upload(client, seed: int = 0, path: str = EDIT, **extra):
    form = {"first_name": "", "last_name": "", "about_me": ""}
    return client.post(path, {**form, "avatar_upload": picture(seed)}, **extra)


@pytest.fixture
def looping(member_client, clock):
    """The member's client has uploaded a picture at second 0 and been refused at 1."""
    clock.at(0)
    assert upload(member_client).status_code == 302
    clock.at(1)
    refused = upload(member_client, 1)
    assert refused.status_code == 429 and refused["Retry-After"] == str(SPACING - 1)
    return member_client


def test_the_looping_member_is_refused_again_from_the_cache_alone(
    looping, clock, django_assert_num_queries
):
    clock.at(2.5)
    with django_assert_num_queries(0):  # no session, no member, nothing else
        again = upload(looping, 2)

    assert by_gate(looping) and again.status_code == 429
    assert again["Retry-After"] == str(SPACING - 2)  # the time left in the window, rounded up
    html = again.content.decode()
    assert f"Try again in {SPACING - 2} seconds" in html and f'href="{EDIT}"' in html
    # The headers every page carries.
    assert "frame-ancestors 'none'" in again["Content-Security-Policy"]
    assert "camera=()" in again["Permissions-Policy"]
    assert again["X-Frame-Options"] == "DENY"
    assert again["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in again["Cache-Control"] and "Cookie" in again["Vary"]
    assert again["Content-Length"] == str(len(again.content))


def test_the_gate_s_refusal_carries_the_headers_of_django_s(member_client, clock):
    """The same page and headers as the refusal Django served, Retry-After aside."""
    clock.at(0)
    assert upload(member_client).status_code == 302
    clock.at(1)
    served = upload(member_client, 1)
    assert not by_gate(member_client)
    clock.at(2)
    again = upload(member_client, 2)
    assert by_gate(member_client)

    assert again.content == served.content.replace(b"5 seconds", b"4 seconds")
    same = {"Retry-After", "Content-Length", "Date"}
    assert {k: v for k, v in again.items() if k not in same} == {
        k: v for k, v in served.items() if k not in same
    }


def test_over_https_the_gate_s_refusal_carries_hsts(member_client, clock, settings):
    settings.SECURE_HSTS_SECONDS = 3600
    clock.at(0)
    assert upload(member_client, secure=True).status_code == 302
    clock.at(1)
    served = upload(member_client, 1, secure=True)
    clock.at(2)
    again = upload(member_client, 2, secure=True)
    assert by_gate(member_client) and again.status_code == 429
    assert again["Strict-Transport-Security"] == served["Strict-Transport-Security"]
    assert upload(member_client, 3).status_code == 429  # plain HTTP: learnt apart
    assert "Strict-Transport-Security" not in (again := upload(member_client, 4))
    assert by_gate(member_client) and again.status_code == 429


def test_a_plain_http_upload_is_still_sent_to_https_first(member_client, clock, settings):
    """Where the front would redirect to HTTPS, the gate leaves the answer to Django."""
    settings.SECURE_SSL_REDIRECT = True
    clock.at(0)
    assert upload(member_client, secure=True).status_code == 302
    clock.at(1)
    assert upload(member_client, 1, secure=True).status_code == 429
    clock.at(2)
    assert upload(member_client, 2, secure=True).status_code == 429 and by_gate(member_client)
    plain = upload(member_client, 3)
    assert not by_gate(member_client)
    assert plain.status_code == 301 and plain["Location"].startswith("https://")


def test_refusals_answered_by_the_gate_log_one_line_a_minute(looping, clock, caplog):
    """Not one warning per refusal (130 a second in a loop): a count, once a minute."""
    clock.at(2)
    with caplog.at_level(logging.WARNING):
        for seed in range(5):
            assert upload(looping, seed).status_code == 429
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in lines] == ["offbrand.refusal_gate"]
    assert "Uploads refused from a remembered refusal: 1 in the last" in lines[0].getMessage()


def test_after_the_window_the_member_uploads_again(looping, clock, member):
    clock.at(SPACING - 0.5)
    assert upload(looping, 2).status_code == 429 and by_gate(looping)
    clock.at(SPACING)
    assert upload(looping, 3).status_code == 302
    member.refresh_from_db()
    assert member.avatar


def test_the_member_s_other_requests_are_not_refused(looping, clock):
    clock.at(2)
    assert looping.get(EDIT).status_code == 200
    assert looping.get("/").status_code == 200
    # An edit without a picture is not held back by the picture window.
    edited = looping.post(EDIT, {"first_name": "Al", "last_name": "", "about_me": ""})
    assert edited.status_code == 302
    # A picture-sized body to another page, or with another method: not this refusal.
    elsewhere = upload(looping, 2, path="/accounts/email/change/")
    assert not by_gate(looping) and elsewhere.status_code == 413
    put = looping.put(EDIT, b"x" * 100_000, content_type="application/octet-stream")
    assert not by_gate(looping) and put.status_code != 429


def test_other_members_and_visitors_are_not_refused(looping, clock, roles):
    clock.at(2)
    other = gated(Client())
    other.force_login(UserFactory(username="bob", email="bob@example.com"))
    assert upload(other).status_code == 302

    visitor = gated(Client())
    assert visitor.get("/").status_code == 200
    sent_to_sign_in = upload(visitor)
    assert not by_gate(visitor) and sent_to_sign_in.status_code == 302
    assert sent_to_sign_in["Location"].startswith("/accounts/login/")


def test_a_refusal_is_remembered_only_for_the_session_that_met_it(
    looping, clock, member, django_assert_max_num_queries
):
    """A stranger cannot have uploads refused for someone else: the refusal is
    remembered under the session cookie of the refused member's own request."""
    clock.at(2)
    # A made-up session cookie is nobody's session: a visitor, never refused.
    stranger = gated(Client())
    stranger.cookies["sessionid"] = "x" * 32
    for seed in range(3):
        assert upload(stranger, seed).status_code == 302  # to the sign-in page
        assert not by_gate(stranger)
    # The looping member's cookie, one character changed: nobody's session either.
    forged = gated(Client())
    real = looping.cookies["sessionid"].value
    forged.cookies["sessionid"] = real[:-1] + ("a" if real[-1] != "a" else "b")
    assert upload(forged).status_code == 302 and not by_gate(forged)
    # The same member in another browser meets the member's limit on its own (the
    # full checks), and only then is that session's refusal remembered.
    second = gated(Client())
    second.force_login(member)
    with django_assert_max_num_queries(10) as full_checks:
        assert upload(second, 4).status_code == 429
    assert len(full_checks) > 0 and not by_gate(second)
    assert upload(second, 5).status_code == 429 and by_gate(second)


def test_when_the_cache_is_down_django_decides_as_before(looping, clock, monkeypatch):
    """The gate cannot read its marker: the upload goes on to Django, whose checks
    refuse it (they fail closed), never a 500."""
    from accounts import ratelimits

    class Down:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise ConnectionError("cache down")

            return fail

    clock.at(2)
    monkeypatch.setattr(ratelimits, "cache", Down())
    refused = upload(looping, 2)
    assert not by_gate(looping) and refused.status_code == 429
    assert "Temporarily unavailable" in refused.content.decode()


def test_a_failure_inside_the_gate_lets_django_decide(looping, clock, monkeypatch):
    monkeypatch.setattr("offbrand.refusal_gate.WSGIRequest", lambda environ: 1 / 0, raising=True)
    clock.at(2)
    refused = upload(looping, 2)
    assert not by_gate(looping) and refused.status_code == 429


def test_a_refusal_while_an_upload_runs_lasts_as_long_as_that_upload(
    member_client, member, clock, monkeypatch, django_assert_num_queries
):
    """While one browser's picture decodes, the member's other browser is refused, at
    once the second time; once the decode is done (and the window over), it uploads."""
    from accounts import avatars

    second = gated(Client())
    second.force_login(member)
    render = avatars.render_avatar
    during = []

    def render_while_the_other_browser_loops(source, **kwargs):
        first = upload(second, 1)
        with django_assert_num_queries(0):
            again = upload(second, 2)
        during.append((first.status_code, again.status_code, again["Retry-After"], by_gate(second)))
        return render(source, **kwargs)

    monkeypatch.setattr("accounts.forms.render_avatar", render_while_the_other_browser_loops)
    clock.at(0)
    assert upload(member_client).status_code == 302
    assert during == [(429, 429, "5", True)]
    # The decode is over: no longer "still saving", but the window's picture is taken.
    refused = upload(second, 3)
    assert refused.status_code == 429 and "Too many attempts" in refused.content.decode()
    monkeypatch.setattr("accounts.forms.render_avatar", render)

    clock.at(SPACING)
    assert upload(second, 4).status_code == 302


def test_a_host_not_ours_gets_django_s_400_not_the_gate_s_refusal(looping, clock):
    """Attack report A3: the gate answered its 429 to any `Host`; a host not in
    `ALLOWED_HOSTS` is Django's 400 (and its one log line) for everyone."""
    clock.at(2)
    response = upload(looping, 2, HTTP_HOST="evil.example")
    assert not by_gate(looping)
    assert response.status_code == 400


def test_a_script_name_from_a_client_does_not_move_the_site(member, db):
    """Attack report A2: gunicorn takes `SCRIPT_NAME` from a header sent through its
    proxy's address and strips it from the path, so `/anything/accounts/profile/`
    reached the profile page past a proxy's per-path limit. The site lives at the
    root: the path is the whole path."""
    from wsgiref.util import setup_testing_defaults

    from offbrand.wsgi import application

    def status_of(script_name: str, path_info: str) -> int:
        environ = {"SCRIPT_NAME": script_name, "PATH_INFO": path_info, "HTTP_HOST": "testserver"}
        setup_testing_defaults(environ)
        answer = {}
        body = application(environ, lambda status, headers: answer.update(status=status))
        b"".join(body)
        return int(answer["status"].split()[0])

    assert status_of("", "/accounts/login/") == 200
    assert status_of("/static-not-limited", "/accounts/login/") == 404
    assert status_of("/accounts", "/login/") == 200  # the same page, asked for by its path


@pytest.mark.parametrize(
    "extra",
    [
        {"CONTENT_LENGTH": "abc"},
        {"CONTENT_LENGTH": "-1"},
        {"CONTENT_LENGTH": "9" * 40},
        {"HTTP_COOKIE": "sessionid=\xff\x00Ã©; sessionid="},
        {"HTTP_COOKIE": "sessionid"},
        {"HTTP_COOKIE": "sessionid=" + "x" * 10_000},
        {"HTTP_COOKIE": 'sessionid="\\"; a=b=c; ;;'},
        {"PATH_INFO": "/accounts/profile/\xff%ff"},
        {"SCRIPT_NAME": "/\xff"},
    ],
)
def test_bad_input_never_gives_a_500(looping, clock, extra):
    clock.at(2)
    form = {"first_name": "", "last_name": "", "about_me": "", "avatar_upload": picture()}
    response = looping.post(EDIT, form, **extra)
    assert response.status_code < 500


def small_dear_picture(seed: int = 0) -> SimpleUploadedFile:
    """The attack report's F5: a 2048x2048 PNG of one colour is about 17 KB, under the
    64 KB form allowance, but decodes at full size (the dearest decode there is)."""
    out = BytesIO()
    Image.new("RGB", (2048, 2048), (seed, 90, 160)).save(out, "PNG")
    assert len(out.getvalue()) < 64 * 1024
    return SimpleUploadedFile(f"flat{seed}.png", out.getvalue(), content_type="image/png")


def test_small_pictures_in_a_loop_are_spread_one_per_window(member_client, member, clock):
    """F5: such pictures were not counted as pictures (counted only from a body over
    64 KB, before it is read): bob got 10 decodes in 2.5 s. Now one per window,
    refused with the same 429, whatever their size."""
    form = {"first_name": "", "last_name": "", "about_me": ""}
    answers = []
    for n in range(5):
        clock.at(n)
        response = member_client.post(EDIT, {**form, "avatar_upload": small_dear_picture(n)})
        answers.append(response.status_code)
    assert answers == [302, 429, 429, 429, 429]
    assert response["Retry-After"] == str(SPACING - 4)
    assert "You can try again in" in response.content.decode()
    clock.at(SPACING)
    response = member_client.post(EDIT, {**form, "avatar_upload": small_dear_picture(7)})
    assert response.status_code == 302  # counted once, in the view: the next window is free
    # A large picture is counted once too, before its body is read.
    clock.at(2 * SPACING)
    assert upload(member_client, 8).status_code == 302


# --- Through gunicorn: what a browser that uploads too soon sees -------------------

BIG = 4_500_000  # a camera-sized picture: megabytes still coming when the answer is written


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The site under gunicorn (one sync worker, the embedded default), avatars up to
    5 MiB, with the member signed in and refused once: their next uploads meet the gate."""
    from tests.servers import MEMBER_PASSWORD, MEMBER_USERNAME, Deployment, Gunicorn
    from tests.servers import Client as Browser

    folder = tmp_path_factory.mktemp("uploads")
    deployment = Deployment(
        database_url=f"sqlite:///{folder / 'db.sqlite3'}",
        redis_url="",
        extra={"OFFBRAND_AVATAR_MAX_BYTES": str(5 * 1024 * 1024)},
    )
    server = Gunicorn(deployment, workers=1)
    try:
        deployment.prepare()
        server.start()
        browser = Browser(server.url, timeout=30)
        assert browser.sign_in(MEMBER_USERNAME, MEMBER_PASSWORD).status == 302
        _, token = browser.csrf_pair(EDIT)
        yield server, browser, token
    finally:
        server.stop()
        deployment.destroy()


def raw_upload(served, *, read_early: bool) -> bytes:
    """One upload of BIG bytes on a plain socket: the whole body sent, then the answer
    read to its end; or, with `read_early`, sending stops as soon as an answer comes."""
    import select
    import socket

    server, browser, token = served
    boundary = "rawsocketboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n'
            f'{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name="avatar_upload"; '
            f'filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + bytes(BIG)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    head = (
        f"POST {EDIT} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nCookie: {cookie}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    answer = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:
        if read_early:
            client.sendall(head)
            unsent = memoryview(body)
            while unsent and not select.select([client], [], [], 0)[0]:
                unsent = unsent[client.send(unsent[:65536]) :]
        else:
            client.sendall(head + body)
        while chunk := client.recv(65536):
            answer += chunk
    return answer


def refused_in_full(answer: bytes) -> bool:
    head, _, page = answer.partition(b"\r\n\r\n")
    return head.startswith(b"HTTP/1.1 429 ") and answered_in_full(answer) and b"Try again" in page


def refused_but_for_a_new_window(answers: list[bytes]) -> bool:
    """Every answer whole, and all of them the 429 page but one: a picture is taken
    every 6 seconds, and a refused upload read at the drain's rate takes a few tenths
    of a second, so a run of them may reach a new window once."""
    taken = [answer for answer in answers if not refused_in_full(answer)]
    return len(taken) <= 1 and all(answered_in_full(answer) for answer in taken)


def refused_upload(served) -> bytes:
    """An upload refused (the window's picture taken first if it was not)."""
    for _ in range(3):
        answer = raw_upload(served, read_early=False)
        if not answer.startswith(b"HTTP/1.1 200 "):
            return answer
    return answer


def answered_in_full(answer: bytes) -> bool:
    """A whole answer, not a reset: the refusal, or, once a new window has opened, the
    form's own answer to the picture (these bytes are no image)."""
    head, _, page = answer.partition(b"\r\n\r\n")
    length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
    return head.startswith((b"HTTP/1.1 429 ", b"HTTP/1.1 200 ")) and len(page) == length


def test_a_browser_that_sends_its_whole_upload_then_reads_sees_the_429_page(served):
    """Not a connection reset: the worker reads what the client still sends (issue 11)."""
    first = raw_upload(served, read_early=False)  # the member's picture of this window
    assert first.startswith((b"HTTP/1.1 200 ", b"HTTP/1.1 302 ", b"HTTP/1.1 429 "))
    answers = [raw_upload(served, read_early=False) for _ in range(6)]
    assert refused_but_for_a_new_window(answers)


def test_a_browser_that_reads_as_soon_as_the_answer_comes_sees_the_429_page(served):
    answers = [raw_upload(served, read_early=True) for _ in range(6)]
    assert refused_but_for_a_new_window(answers)


def test_a_slow_uploader_no_longer_holds_the_worker_after_its_refusal(served):
    """The rest of a refused upload is read beside the worker, which answers the next
    request at once (with one worker, the refused client's 2 seconds held everyone)."""
    import socket

    from tests.servers import Client as Browser

    server, browser, _ = served
    cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    head = (
        f"POST {EDIT} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nCookie: {cookie}\r\n"
        f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {BIG}\r\n\r\n"
    ).encode()
    for _ in range(3):
        assert refused_in_full(refused_upload(served))
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as slow:
            slow.sendall(head + bytes(100_000))  # then nothing more for a while
            answer = slow.recv(65536)
            if answer.startswith(b"HTTP/1.1 400 "):
                continue  # a new picture window opened in between: this body was parsed
            assert answer.startswith(b"HTTP/1.1 429 ")
            page = Browser(server.url, timeout=30).get("/")
            assert page.status == 200 and page.seconds < 1
            return
    pytest.fail("no upload was refused in three windows")


def test_a_member_uploading_in_a_loop_is_held_to_the_drain_s_rate(served):
    """Two clients that post a refused picture again the moment its 429 arrives: every
    answer is whole (the 429 page but for one window's picture), and what the worker
    reads of their bodies stays within the drain's rate (at the loopback's speed they
    made it read hundreds of megabytes a second, the cores everyone else's pages
    needed)."""
    from offbrand.unread_body import DRAIN_RATE

    answers, elapsed, _ = looping_uploads(served, seconds=2.0)
    assert answers and refused_but_for_a_new_window(answers)
    # What the kernel buffers in flight beyond the rate: a few turns' worth at most.
    assert len(answers) * BIG <= DRAIN_RATE * elapsed + 4 * BIG


def test_while_a_member_loops_another_browser_s_refused_upload_still_shows_its_page(served):
    """The rate is shared, not taken by the loop: a browser that uploads too soon while
    two loops run still reads its whole 429 page, not a reset (one of its posts may
    fall in a new window and be taken)."""
    loops, _, others = looping_uploads(served, seconds=3.0, meanwhile=4)
    assert refused_but_for_a_new_window(loops) and refused_but_for_a_new_window(others)


def looping_uploads(served, *, seconds: float, meanwhile: int = 0):
    """Two clients posting a refused picture again the moment each answer arrives, for
    `seconds`; meanwhile another browser posts `meanwhile` times, one after another.
    Returns the loops' answers, how long they ran, and the other browser's answers."""
    import threading
    import time

    raw_upload(served, read_early=False)  # this window's picture, if it is not used yet
    answers: list[bytes] = []
    stop = time.monotonic() + seconds

    def loop() -> None:
        while time.monotonic() < stop:
            answers.append(raw_upload(served, read_early=False))

    started = time.monotonic()
    loops = [threading.Thread(target=loop) for _ in range(2)]
    for thread in loops:
        thread.start()
    time.sleep(0.5)
    others = [raw_upload(served, read_early=False) for _ in range(meanwhile)]
    for thread in loops:
        thread.join()
    return answers, time.monotonic() - started, others
