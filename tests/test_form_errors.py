"""Forms with GOV.UK-grade errors: a summary on top, each error under its field, human words."""

import re

import pytest
from django.core import mail

from accounts import tokens
from accounts.models import EmailChangeRequest
from tests.conftest import links_in, path_of
from tests.factories import UserFactory

REGISTER = "/accounts/register/"


def field_group(html: str, field_id: str) -> str:
    """The markup of the field group (`div.field`) holding the input with this id."""
    form = html.split("<form", 1)[1]
    groups = [
        chunk for chunk in form.split('<div class="field">')[1:] if f'id="{field_id}"' in chunk
    ]
    assert len(groups) == 1, f"no single field group holds #{field_id}"
    return groups[0]


def input_tag(html: str, field_id: str) -> str:
    return re.search(rf'<input[^>]*id="{field_id}"[^>]*>', html).group(0)


def test_errors_are_summarised_on_top_with_a_link_to_each_field(client, roles):
    response = client.post(REGISTER, {"email": "nope", "username": "", "password1": "x" * 12})
    html = response.content.decode()
    assert re.search(r"<title>Error: Register · Offbrand</title>", html)
    summary = html.split("data-error-summary", 1)[1].split("</div>", 1)[0]
    assert "There is a problem" in summary
    assert '<a href="#id_email">Enter an email address in the correct format' in summary
    assert '<a href="#id_username">Enter your username.</a>' in summary
    # The summary comes before the heading, and the script that focuses it is a static file.
    assert html.index("data-error-summary") < html.index("<h1>")
    assert '<script src="/static/js/offbrand.js" defer>' in html


def test_a_page_without_errors_has_no_summary_and_a_plain_title(client, roles):
    html = client.get(REGISTER).content.decode()
    assert "data-error-summary" not in html
    assert "<title>Register · Offbrand</title>" in html


def test_a_password_like_the_address_is_refused_under_the_password_field(client, roles):
    response = client.post(
        REGISTER,
        {
            "email": "carolsmith99@example.com",
            "username": "carol",
            "password1": "carolsmith99@example",
        },
    )
    html = response.content.decode()
    group = field_group(html, "id_password1")
    assert "too similar to the email address" in group
    assert "too similar" not in field_group(html, "id_email")
    # Screen readers hear it with the field.
    assert "id_password1_error" in input_tag(html, "id_password1")


def test_an_unrelated_error_keeps_everything_typed_but_the_one_password(client, roles):
    UserFactory(username="quinn")
    response = client.post(
        REGISTER,
        {"email": "someone@example.com", "username": "QUINN", "password1": "a sturdy passphrase"},
    )
    html = response.content.decode()
    assert 'value="someone@example.com"' in html
    assert 'value="QUINN"' in html
    assert html.count('type="password"') == 1  # one field to type again, not two


@pytest.mark.parametrize(
    ("url", "data", "signed_in"),
    [
        (REGISTER, {}, False),
        ("/accounts/login/", {}, False),
        ("/accounts/password/reset/", {}, False),
        ("/accounts/password/change/", {}, True),
        ("/accounts/email/change/", {}, True),
    ],
)
def test_empty_forms_say_what_to_enter_in_words_for_people(client, member, url, data, signed_in):
    if signed_in:
        client.force_login(member)
    html = client.post(url, data).content.decode()
    assert "This field is required." not in html
    assert "data-error-summary" in html
    assert re.search(r"Enter your [a-z ]+\.", html)


@pytest.mark.parametrize(
    "url",
    [
        REGISTER,
        "/accounts/login/",
        "/accounts/password/reset/",
        "/accounts/password/change/",
        "/accounts/email/change/",
        "/accounts/profile/",
        "/moderate/users/bob/suspend/",
        "/users/bob/edit/",
    ],
)
def test_no_label_ends_with_a_colon(client, administrator, url):
    UserFactory(username="bob")
    client.force_login(administrator)
    if url in (REGISTER, "/accounts/login/", "/accounts/password/reset/"):
        client.logout()
    html = client.get(url).content.decode()
    labels = re.findall(r"<label[^>]*>(.*?)</label>", html, re.S)
    assert labels, url
    assert not [label for label in labels if label.strip().endswith(":")]


def test_the_sign_in_refusal_is_written_for_people(client, member):
    html = client.post("/accounts/login/", {"username": "alice", "password": "nope"}).content
    text = html.decode()
    assert "Both are case-insensitive" not in text
    assert "capital letters matter in the password only" in text
    assert "Username or email address" in text


def test_password_pages_have_one_password_field_with_one_short_hint(client, member, password):
    client.force_login(member)
    html = client.get("/accounts/password/change/").content.decode()
    assert html.count('type="password"') == 2  # the current one and the new one
    assert "data-password-input" in html  # the show-password toggle's place
    assert "<li>Your password can’t be too similar" not in html  # Django's long list


def test_password_reset_pages_lead_back_to_sign_in(client, member):
    assert (
        'href="/accounts/login/">Back to sign in'
        in client.get("/accounts/password/reset/").content.decode()
    )
    client.post("/accounts/password/reset/", {"email": member.email})
    link = path_of(links_in(mail.outbox[0])[0])
    page = client.get(link, follow=True).content.decode()
    assert 'href="/accounts/login/">Back to sign in' in page
    junk = client.get("/accounts/password/reset/MQ/junk-token/").content.decode()
    assert 'href="/accounts/login/">Back to sign in' in junk


def test_the_email_change_link_page_names_the_address_it_switches_to(client, member, password):
    client.force_login(member)
    client.post("/accounts/email/change/", {"new_email": "alice@new.example", "password": password})
    token = tokens.make_email_change_token(EmailChangeRequest.objects.get(user=member))
    html = client.get(f"/accounts/email/confirm/{token}/").content.decode()
    assert "will change to <strong>alice@new.example</strong>" in html
    assert "Change my address to alice@new.example" in html


def test_wording_is_email_address_everywhere(client, member, administrator):
    client.force_login(administrator)
    assert (
        "Username or email address starts with" in client.get("/moderate/users/").content.decode()
    )
    client.force_login(member)
    profile = client.get("/users/alice/").content.decode()
    assert "<dt>Email address</dt>" in profile
    assert ">Email<" not in profile


# --- The second-factor forms ---------------------------------------------------------

DJANGO_DEFAULTS = (
    "This field is required.",
    "Ensure this value has at most",
    "Null characters are not allowed.",
    "Enter a whole number.",
    "Enter a valid value.",
)


def errors_of(response) -> tuple[str, str]:
    """The page's text and its error summary, checked for Django's default messages."""
    import html as entities

    text = entities.unescape(response.content.decode())
    assert "data-error-summary" in text, "no error summary"
    assert not [default for default in DJANGO_DEFAULTS if default in text]
    return text, text.split("data-error-summary", 1)[1].split("</div>", 1)[0]


@pytest.fixture
def second_step(client, member, password):
    """A browser between the password and the second factor (alice has an app)."""
    from tests.mfa import enable_totp, password_step

    enable_totp(member)
    assert password_step(client, "alice", password)["Location"].startswith("/accounts/2fa/")
    return client


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Enter the 6-digit code from your authenticator app, or one of your recovery codes."),
        ("7" * 65, "That is too long for a code: the app shows 6 digits"),
        ("123\x00456", "Type the code again: it has a character that can't be typed"),
    ],
)
def test_the_second_step_says_what_to_enter(second_step, code, message):
    text, summary = errors_of(second_step.post("/accounts/2fa/", {"code": code}))
    assert message in summary


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Enter the 6-digit code from your authenticator app."),
        ("7" * 65, "That is too long for a code: the app shows 6 digits"),
    ],
)
def test_re_authentication_with_the_app_says_what_to_enter(member_client, member, code, message):
    from tests.mfa import enable_totp

    enable_totp(member)
    page = member_client.get("/accounts/security/confirm/").content.decode()
    assert "recovery codes" not in page  # they are not taken here
    text, summary = errors_of(member_client.post("/accounts/security/confirm/", {"code": code}))
    assert message in summary


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "Enter the 6-digit code your authenticator app shows."),
        ("12345a", "The code is 6 digits, like 123456."),
        ("1234567890123", "The code is 6 digits, like 123456."),
    ],
)
def test_setting_up_the_app_says_what_to_enter(member_client, code, message):
    member_client.get("/accounts/security/totp/")
    text, summary = errors_of(member_client.post("/accounts/security/totp/", {"code": code}))
    assert message in summary


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter a name for this passkey, such as “Laptop”."),
        ("k" * 101, "A passkey’s name can be at most 100 characters long (this one has 101)."),
        ("Lap\x00top", "Type the name again: it has a character that can't be typed"),
    ],
)
def test_naming_a_passkey_says_what_to_enter(member_client, name, message):
    response = member_client.post(
        "/accounts/security/passkeys/add/", {"name": name, "credential": "{}", "token": "x"}
    )
    text, summary = errors_of(response)
    assert message in summary


def test_removing_a_members_factors_asks_for_the_reason_in_words(client, administrator, member):
    from tests.mfa import enable_totp

    enable_totp(member)
    client.force_login(administrator)
    response = client.post("/users/alice/factors/remove/", {"reason": ""})
    text, summary = errors_of(response)
    assert "Say why you are removing alice’s second factors" in summary
    response = client.post("/users/alice/factors/remove/", {"reason": "x" * 1001})
    text, summary = errors_of(response)
    assert "The reason can be at most 1000 characters long (this one has 1001)." in summary


# --- The social forms and the admin's own forms ---------------------------------------


@pytest.fixture
def a_post(member):
    from tests.factories import PostFactory

    return PostFactory(author=member, body="A first post.")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Your post is empty."),
        ("p" * 2001, "Your post is 2001 characters long; the most is 2000."),
        ("Hello\x00world", "Type your post again: it has a character that can't be typed"),
    ],
)
def test_writing_and_editing_a_post_say_what_is_wrong_in_words(
    member_client, a_post, body, message
):
    for url in ("/posts/new/", f"/posts/{a_post.pk}/edit/"):
        text, summary = errors_of(member_client.post(url, {"body": body}))
        assert message in summary, url


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Your comment is empty."),
        ("Nice\x00one", "Type your comment again: it has a character that can't be typed"),
    ],
)
def test_a_comment_says_what_is_wrong_in_words(member_client, a_post, body, message):
    text, summary = errors_of(member_client.post(f"/posts/{a_post.pk}/", {"body": body}))
    assert message in summary


@pytest.mark.parametrize(
    ("action", "reason", "message"),
    [
        ("hide", "", "Say why you are hiding it: the author will see the reason."),
        ("hide", "r" * 501, "The reason can be at most 500 characters long (this one has 501)."),
        ("hide", "Spam\x00links", "Type the reason again: it has a character that can't be typed"),
        ("restore", "n" * 501, "The note can be at most 500 characters long (this one has 501)."),
        ("restore", "Ok\x00", "Type the note again: it has a character that can't be typed"),
    ],
)
def test_hiding_and_restoring_say_what_is_wrong_with_the_reason(
    client, moderator, a_post, action, reason, message
):
    from social.services import content_hide

    if action == "restore":
        content_hide(actor=moderator, content=a_post, reason="Spam")
    client.force_login(moderator)
    response = client.post(f"/moderate/posts/{a_post.pk}/{action}/", {"reason": reason})
    text, summary = errors_of(response)
    assert message in summary


def admin_errors(response) -> str:
    """An admin form's page after a refusal: its errors, none of them Django's defaults."""
    import html as entities

    text = entities.unescape(response.content.decode())
    assert response.status_code == 200
    assert "errornote" in text, "the admin shows no error"
    assert not [default for default in DJANGO_DEFAULTS if default in text]
    return text


def test_the_admins_add_member_page_says_what_to_enter(admin_client, roles):
    text = admin_errors(admin_client.post("/admin/accounts/user/add/", {}))
    assert "Enter the username." in text
    text = admin_errors(
        admin_client.post(
            "/admin/accounts/user/add/",
            {"username": "ne\x00w", "email": "new@example.com", "usable_password": "false"},
        )
    )
    assert "Type the username again: it has a character that can't be typed" in text


def test_the_admins_role_page_says_what_to_enter(admin_client, roles):
    text = admin_errors(admin_client.post("/admin/accounts/role/add/", {"name": ""}))
    assert "Enter the name." in text
    text = admin_errors(admin_client.post("/admin/accounts/role/add/", {"name": "x" * 65}))
    assert "Name can be at most 64 characters long (this one has 65)." in text


def test_the_admins_password_form_says_what_to_enter(admin_client, member):
    url = f"/admin/accounts/user/{member.pk}/password/"
    text = admin_errors(admin_client.post(url, {"usable_password": "true"}))
    assert "Enter the password." in text


def test_a_null_character_in_the_admins_hide_reason_is_not_no_action_selected(admin_client, a_post):
    response = admin_client.post(
        "/admin/social/post/",
        {"action": "hide_selected", "_selected_action": [a_post.pk], "reason": "Spam\x00"},
        follow=True,
    )
    text = response.content.decode()
    assert "No action selected." not in text
    assert "1 post hidden." in text


@pytest.mark.parametrize("username", ["taken", "TAKEN"])
def test_the_admins_add_member_page_says_a_name_is_taken(admin_client, roles, username):
    UserFactory(username="taken")
    data = {"username": username, "email": "new@example.com"}
    data |= {"password1": "a sturdy passphrase 9", "password2": "a sturdy passphrase 9"}
    text = admin_errors(admin_client.post("/admin/accounts/user/add/", data))
    assert "A user with that username already exists." in text


def test_the_admins_role_page_says_a_name_is_taken(admin_client, roles):
    text = admin_errors(admin_client.post("/admin/accounts/role/add/", {"name": "Moderator"}))
    assert "There is already a role with that name." in text


def test_a_wrong_password_on_an_emailed_link_is_summarised_like_every_form(client, roles):
    """The link's page asks a visitor who is not signed in for the account's password."""
    newcomer = UserFactory(username="nora", email="nora@example.com", confirmed=False)
    url = f"/accounts/confirm/{tokens.make_confirmation_token(newcomer)}/"
    assert "data-error-summary" not in client.get(url).content.decode()
    response = client.post(url, {"password": "not the password"})
    text, summary = errors_of(response)
    assert "<title>Error: " in text
    assert '<a href="#id_password">That password is not the account’s.</a>' in summary
    # Under the label, before the input, and read with it.
    group = text.split('<label for="id_password">', 1)[1]
    assert group.index('id="id_password_error"') < group.index("<input")
    assert 'aria-describedby="id_password_error"' in input_tag(text, "id_password")


@pytest.mark.parametrize(
    "url",
    [
        "/admin/accounts/user/add/",
        "/admin/accounts/role/add/",
        "/admin/accounts/user/{member}/password/",
        "/admin/accounts/moderationaction/{action}/change/",
        "/admin/social/post/{post}/change/",
        "/admin/social/contentaction/{content_action}/change/",
        # The lists' action bars: Django labels its select "Action:".
        "/admin/accounts/user/",
        "/admin/accounts/role/",
        "/admin/social/post/",
        "/admin/social/comment/",
    ],
)
def test_no_admin_form_label_ends_with_a_colon(admin_client, member, moderator, a_post, url):
    from accounts.models import ModerationAction
    from social.services import content_hide

    action = ModerationAction.objects.create(
        actor=moderator, member=member, kind=ModerationAction.Kind.SUSPEND, reason="Spam"
    )
    content_action = content_hide(actor=moderator, content=a_post, reason="Spam")
    url = url.format(
        member=member.pk, action=action.pk, post=a_post.pk, content_action=content_action.pk
    )
    html = admin_client.get(url).content.decode()
    labels = [
        # A label's own words: a select inside it (the action bar's) is not its text.
        re.sub(r"<[^>]+>", "", re.sub(r"<select.*?</select>", "", label, flags=re.S)).strip()
        for label in re.findall(r"<label[^>]*>(.*?)</label>", html, re.S)
    ]
    assert labels, url
    assert not [label for label in labels if label.endswith(":")], labels


def test_the_admins_add_member_page_has_the_sites_short_hints(admin_client):
    from accounts.forms import PASSWORD_HINT, USERNAME_HELP

    html = admin_client.get("/admin/accounts/user/add/").content.decode()
    assert USERNAME_HELP in html
    assert PASSWORD_HINT in html
    assert "Your password can’t be too similar" not in html  # Django's long list
    assert "Required. 150 characters or fewer." not in html


def test_a_forms_messages_follow_each_forms_own_labels_and_limits():
    """The messages are worked out once per field and kept (every sign-in builds a
    form); a form that names or limits its field per use still gets its own words."""
    from django import forms

    from accounts.forms import HumanErrorsMixin

    class Named(forms.Form):
        note = forms.CharField(max_length=10)

        def __init__(self, *args, label, limit, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["note"].label, self.fields["note"].max_length = label, limit

    class NamedForm(HumanErrorsMixin, Named):
        pass

    for label, limit in [("Title", 5), ("Summary", 7), ("Title", 5)]:
        assert NamedForm({}, label=label, limit=limit).errors["note"] == [
            f"Enter your {label.lower()}."
        ]
        too_long = NamedForm({"note": "x" * 11}, label=label, limit=limit)
        assert (
            too_long.fields["note"]
            .error_messages["max_length"]
            .startswith(f"{label} can be at most {limit} characters long")
        )
