"""Generated input through every form: no 5xx, and every member row stays valid.

Each Hypothesis example runs inside a transaction that is rolled back, so
examples don't accumulate; the cache (rate limits, sessions) is cleared per example.
"""

from contextlib import contextmanager

from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.utils.http import url_has_allowed_host_and_scheme
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User

EXAMPLES = 150
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text that stresses forms: any Unicode (surrogates excluded: they can't be sent
# as UTF-8), control characters and NUL, emoji, right-to-left text, long strings.
NASTY = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\u202eevil\u202c",
        "שלום עולם",
        "مرحبا",
        "👩‍👩‍👧‍👦🔥",
        "Ǆ ǅ ǆ ß ẞ İ ı",
        "ﬀ",
        "a" * 5000,
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "%s %(x)s {0} {{x}}",
        "\r\n\t\x0b\x0c",
        "alice",
        "ALICE@EXAMPLE.COM",
    ]
)
TEXT = st.one_of(
    NASTY,
    st.text(st.characters(exclude_categories=["Cs"]), max_size=300),
    st.text(st.characters(codec="ascii"), max_size=40),
    st.text(alphabet=st.sampled_from("\x00\x01\x1f\x7f\u200b\u202e\ufeff"), max_size=10),
    st.text(max_size=20).map(lambda t: t * 100),
)
EMAILS = st.one_of(
    TEXT,
    st.emails().map(str),
    st.builds(lambda local, dom: f"{local}@{dom}", TEXT, TEXT),
    st.sampled_from(["alice@example.com", "ALICE@example.com", "mod@Example.com"]),
)
USERNAMES = st.one_of(
    TEXT,
    st.from_regex(r"[\w.@+-]{1,150}", fullmatch=True),
    st.sampled_from(["alice", "ALICE", "Mod", "target", "boss"]),
)
PASSWORDS = st.one_of(TEXT, st.just("correct horse battery staple"))
BOOLS = st.sampled_from(["", "on", "true", "false", "\x00", "1"])


def make_client(user=None) -> Client:
    client = Client()
    client.raise_request_exception = False
    if user is not None:
        client.force_login(user)
    return client


class Rollback(Exception):
    pass


@contextmanager
def isolated_example():
    """One example: fresh cache, and a transaction that is always rolled back."""
    cache.clear()
    try:
        with transaction.atomic():
            yield
            raise Rollback
    except Rollback:
        pass


def assert_members_valid():
    users = list(User.objects.all())
    for user in users:
        user.full_clean()
    emails = [user.email.casefold() for user in users]
    assert len(emails) == len(set(emails)), emails
    usernames = [user.username.casefold() for user in users]
    assert len(usernames) == len(set(usernames)), usernames


def post_and_check(client, url, data):
    response = client.post(url, data)
    assert response.status_code < 500, (url, data, response.status_code)
    assert_members_valid()
    return response


@FUZZ
@given(email=EMAILS, username=USERNAMES, password1=PASSWORDS, password2=PASSWORDS)
def test_register_never_errors_and_keeps_members_valid(
    member, email, username, password1, password2
):
    with isolated_example():
        data = {
            "email": email,
            "username": username,
            "password1": password1,
            "password2": password2,
        }
        post_and_check(make_client(), "/accounts/register/", data)


@FUZZ
@given(username=st.one_of(USERNAMES, EMAILS), password=PASSWORDS, remember=BOOLS)
def test_sign_in_never_errors(member, username, password, remember):
    with isolated_example():
        data = {"username": username, "password": password, "remember": remember}
        post_and_check(make_client(), "/accounts/login/", data)


@FUZZ
@given(first_name=TEXT, last_name=TEXT, about_me=TEXT)
def test_profile_edit_never_errors_and_keeps_members_valid(member, first_name, last_name, about_me):
    with isolated_example():
        data = {"first_name": first_name, "last_name": last_name, "about_me": about_me}
        post_and_check(make_client(member), "/accounts/profile/", data)


@FUZZ
@given(new_email=EMAILS, password=PASSWORDS)
def test_email_change_never_errors(member, moderator, new_email, password):
    with isolated_example():
        data = {"new_email": new_email, "password": password}
        post_and_check(make_client(member), "/accounts/email/change/", data)


@FUZZ
@given(old=PASSWORDS, new1=PASSWORDS, new2=PASSWORDS)
def test_password_change_never_errors(member, old, new1, new2):
    with isolated_example():
        data = {"old_password": old, "new_password1": new1, "new_password2": new2}
        post_and_check(make_client(member), "/accounts/password/change/", data)


@FUZZ
@given(email=EMAILS)
def test_password_reset_never_errors(member, email):
    with isolated_example():
        post_and_check(make_client(), "/accounts/password/reset/", {"email": email})


@settings(FUZZ, max_examples=EXAMPLES + 100)
@given(
    username=USERNAMES,
    email=EMAILS,
    first_name=TEXT,
    last_name=TEXT,
    about_me=TEXT,
    role=st.one_of(st.sampled_from(["User", "Moderator", "Administrator"]), TEXT),
    confirmed=BOOLS,
    is_active=BOOLS,
)
def test_admin_member_edit_never_errors_and_keeps_members_valid(
    roles,
    member,
    moderator,
    administrator,
    username,
    email,
    first_name,
    last_name,
    about_me,
    role,
    confirmed,
    is_active,
):
    with isolated_example():
        data = {
            "username": username,
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "about_me": about_me,
            "role": str(roles[role].pk) if role in roles else role,
            "confirmed": confirmed,
            "is_active": is_active,
        }
        post_and_check(make_client(administrator), "/users/alice/edit/", data)


SMALL_FUZZ = settings(FUZZ, max_examples=60)


@SMALL_FUZZ
@given(password=PASSWORDS, next_url=TEXT)
def test_reauthenticate_never_errors(member, password, next_url):
    with isolated_example():
        client = make_client(member)
        response = client.post(
            "/accounts/reauthenticate/", {"password": password, "next": next_url}
        )
        assert response.status_code < 500
        if response.status_code == 302:
            location = response["Location"]
            assert url_has_allowed_host_and_scheme(location, {"testserver"}), location


@SMALL_FUZZ
@given(username=USERNAMES)
def test_account_delete_never_errors(member, administrator, username):
    with isolated_example():
        post_and_check(make_client(member), "/accounts/delete/", {"username": username})


@SMALL_FUZZ
@given(reason=TEXT)
def test_factor_removal_never_errors(member, administrator, reason):
    from tests.mfa import enable_totp

    with isolated_example():
        enable_totp(member)
        post_and_check(
            make_client(administrator), "/users/alice/factors/remove/", {"reason": reason}
        )


@FUZZ
@given(body=TEXT, comment=TEXT, reason=TEXT, cursor=TEXT)
def test_posts_comments_and_hiding_never_error_and_stay_safe(
    member, moderator, body, comment, reason, cursor
):
    from social.models import Comment, Post

    with isolated_example():
        writer, mod = make_client(member), make_client(moderator)
        post_and_check(writer, "/posts/new/", {"body": body})
        post = Post.objects.filter(author=member).first() or Post.objects.create(
            author=member, body="seed", body_html="<p>seed</p>"
        )
        post_and_check(writer, f"/posts/{post.pk}/", {"body": comment})
        post_and_check(writer, f"/posts/{post.pk}/edit/", {"body": body})
        post_and_check(mod, f"/moderate/posts/{post.pk}/hide/", {"reason": reason})
        for row in (*Post.objects.all(), *Comment.objects.all()):
            assert 0 < len(row.body) <= (2000 if isinstance(row, Post) else 1000)
            assert "<script" not in row.body_html
        for path in ("/", f"/users/alice/?before={cursor}", f"/posts/{post.pk}/"):
            assert writer.get(path, {"before": cursor}).status_code < 500
