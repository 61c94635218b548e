"""Two upload loops from one member (issue 11): once a session's upload has been
refused, its next ones are refused again from one cache read, without its session,
its member row, CSRF or the rest of the middleware; nobody else is refused."""

from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from accounts.ratelimits import LIMITS
from tests.factories import UserFactory

EDIT = "/accounts/profile/"
SPACING = LIMITS["avatar_upload_user"].period  # one picture per window of this many seconds


def picture(seed: int = 0) -> SimpleUploadedFile:
    """A photo-like PNG of a few hundred KB: over the 64 KB form allowance, so it
    counts as a picture before its body is read."""
    out = BytesIO()
    Image.effect_noise((400, 300), 60 + seed).convert("RGB").save(out, "PNG")
    return SimpleUploadedFile(f"me{seed}.png", out.getvalue(), content_type="image/png")


def upload(client, seed: int = 0):
    form = {"first_name": "", "last_name": "", "about_me": ""}
    return client.post(EDIT, {**form, "avatar_upload": picture(seed)})


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

    assert again.status_code == 429
    assert again["Retry-After"] == str(SPACING - 2)  # the time left in the window, rounded up
    html = again.content.decode()
    assert f"Try again in {SPACING - 2} seconds" in html and f'href="{EDIT}"' in html
    # The headers every page carries.
    assert "frame-ancestors 'none'" in again["Content-Security-Policy"]
    assert "camera=()" in again["Permissions-Policy"]
    assert again["X-Frame-Options"] == "DENY"
    assert again["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in again["Cache-Control"] and "Cookie" in again["Vary"]


def test_after_the_window_the_member_uploads_again(looping, clock, member):
    clock.at(SPACING - 0.5)
    assert upload(looping, 2).status_code == 429
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


def test_other_members_and_visitors_are_not_refused(looping, clock, roles):
    clock.at(2)
    other = Client()
    other.force_login(UserFactory(username="bob", email="bob@example.com"))
    assert upload(other).status_code == 302

    visitor = Client()
    assert visitor.get("/").status_code == 200
    sent_to_sign_in = upload(visitor)
    assert sent_to_sign_in.status_code == 302
    assert sent_to_sign_in["Location"].startswith("/accounts/login/")


def test_a_refusal_is_remembered_only_for_the_session_that_met_it(
    looping, clock, member, django_assert_max_num_queries
):
    """A stranger cannot have uploads refused for someone else: the refusal is
    remembered under the session cookie of the refused member's own request."""
    clock.at(2)
    # A made-up session cookie is nobody's session: a visitor, never refused.
    stranger = Client()
    stranger.cookies["sessionid"] = "x" * 32
    for seed in range(3):
        assert upload(stranger, seed).status_code == 302  # to the sign-in page
    # The same member in another browser meets the member's limit on its own (the
    # full checks), and only then is that session's refusal remembered.
    second = Client()
    second.force_login(member)
    with django_assert_max_num_queries(10) as full_checks:
        assert upload(second, 4).status_code == 429
    assert len(full_checks) > 0


def test_a_refusal_while_an_upload_runs_lasts_as_long_as_that_upload(
    member_client, member, clock, monkeypatch, django_assert_num_queries
):
    """While one browser's picture decodes, the member's other browser is refused, at
    once the second time; once the decode is done (and the window over), it uploads."""
    from accounts import avatars

    second = Client()
    second.force_login(member)
    render = avatars.render_avatar
    during = []

    def render_while_the_other_browser_loops(source, **kwargs):
        first = upload(second, 1)
        with django_assert_num_queries(0):
            again = upload(second, 2)
        during.append((first.status_code, again.status_code, again["Retry-After"]))
        return render(source, **kwargs)

    monkeypatch.setattr("accounts.forms.render_avatar", render_while_the_other_browser_loops)
    clock.at(0)
    assert upload(member_client).status_code == 302
    assert during == [(429, 429, "5")]
    # The decode is over: no longer "still saving", but the window's picture is taken.
    refused = upload(second, 3)
    assert refused.status_code == 429 and "Too many attempts" in refused.content.decode()
    monkeypatch.setattr("accounts.forms.render_avatar", render)

    clock.at(SPACING)
    assert upload(second, 4).status_code == 302


@pytest.mark.parametrize(
    "extra",
    [
        {"CONTENT_LENGTH": "abc"},
        {"CONTENT_LENGTH": "-1"},
        {"CONTENT_LENGTH": "9" * 40},
        {"HTTP_COOKIE": "sessionid=\xff\x00Ã©; sessionid="},
        {"HTTP_COOKIE": "sessionid"},
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
