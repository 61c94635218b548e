"""Every page, as each kind of visitor sees it, empty, with errors and after success.

Each state is checked at 1280 and 390 px in the light and the dark scheme
(`check_everywhere`): axe finds no violation of any impact, nothing is wider
than a phone, every element the keyboard reaches shows a focus ring of 3:1 or
more, and a screenshot of each lands in artifacts/screenshots/pages/.
"""

import re
import time

import pytest
from playwright.sync_api import Page, expect

from accounts import ratelimits, tokens
from accounts.models import EmailChangeRequest, ModerationAction, Role
from tests.e2e.helpers import check_everywhere, go_to_settings, label, sign_in
from tests.factories import DEFAULT_PASSWORD, CommentFactory, PostFactory, UserFactory
from tests.mfa import enable_totp

LONG_EMAIL = (
    "a.member.with.a.remarkably.long.address.for.wrapping@subdomain.example-organisation.org"
)


@pytest.fixture
def world(live_server):
    """Members of every kind, posts to read, a suspended member, a long address."""
    Role.objects.create_missing()
    people = {
        "mia": UserFactory(username="mia", email="mia@example.com", about_me="I knit."),
        "max": UserFactory(
            username="max", email="max@example.com", role=Role.objects.get(name="Moderator")
        ),
        "ada": UserFactory(
            username="ada", email="ada@example.com", role=Role.objects.administrator()
        ),
        "una": UserFactory(username="una", email="una@example.com", confirmed=False),
        "sid": UserFactory(username="sid", email="sid@example.com", is_active=False),
        "long": UserFactory(
            username="averyveryverylongusernamethatkeepsgoingandgoing", email=LONG_EMAIL
        ),
        "new": UserFactory(username="nell", email="nell@example.com"),
    }
    post = PostFactory(author=people["mia"], body="Hello **world**, a first post.")
    CommentFactory(post=post, author=people["max"], body="Welcome!")
    PostFactory(author=people["long"], body="https://example.org/" + "a-very-long-path-" * 8)
    ModerationAction.objects.create(
        actor=people["max"],
        member=people["sid"],
        kind=ModerationAction.Kind.SUSPEND,
        reason="Spam links",
    )
    people["post"] = post
    return people


def submit(page: Page, name: str) -> None:
    page.get_by_role("main").get_by_role("button", name=name, exact=True).click()
    page.wait_for_load_state()


def test_every_page_for_a_visitor(page: Page, world, watch, inbox, limits_clock):
    check = check_everywhere
    page.goto("/")
    check(page, "visitor-home")
    page.goto(f"/posts/{world['post'].pk}/")
    check(page, "visitor-post")
    page.goto("/users/mia/")
    check(page, "visitor-profile")
    page.goto("/users/mia/followers/")
    check(page, "visitor-followers")
    watch.expect_status(404, "/users/sid/")
    page.goto("/users/sid/")  # suspended: hidden from visitors
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    check(page, "visitor-suspended-profile-hidden")

    page.goto("/accounts/register/")
    check(page, "visitor-register")
    watch.expect_status(400, "/accounts/register/")
    submit(page, "Register")
    expect(page).to_have_title(re.compile("^Error: "))
    expect(page.locator("[data-error-summary]")).to_be_focused()
    check(page, "visitor-register-errors")

    page.goto("/accounts/login/")
    check(page, "visitor-sign-in")
    submit(page, "Sign in")
    check(page, "visitor-sign-in-errors")
    for _ in range(8):
        ratelimits.hit("signin_account", f"user:{world['new'].pk}")
    page.get_by_label(label("Username or email address")).fill("nell")
    page.get_by_label(label("Password")).fill("not the password")
    submit(page, "Sign in")
    expect(page.get_by_text("One more try.")).to_be_visible()
    check(page, "visitor-sign-in-last-try")
    watch.expect_status(429, "/accounts/login/")
    page.get_by_label(label("Password")).fill("still not it")
    submit(page, "Sign in")
    page.get_by_label(label("Password")).fill(DEFAULT_PASSWORD)
    page.evaluate("document.querySelectorAll('button[disabled]').forEach(b => b.disabled = false)")
    submit(page, "Sign in")
    expect(page.get_by_role("heading", name="Too many attempts")).to_be_visible()
    check(page, "visitor-sign-in-paused", focus=False)  # the buttons wait for the countdown

    page.goto("/accounts/password/reset/")
    check(page, "visitor-reset")
    submit(page, "Send me a link")
    check(page, "visitor-reset-errors")
    page.get_by_label(label("Email address")).fill("mia@example.com")
    submit(page, "Send me a link")
    check(page, "visitor-reset-sent")
    page.goto(inbox.next_link("mia@example.com", "Reset your password"))
    check(page, "visitor-reset-new-password")
    page.get_by_label(label("New password")).fill("mia")
    submit(page, "Set password")
    check(page, "visitor-reset-new-password-errors")
    page.get_by_label(label("New password")).fill("a fresh long passphrase")
    submit(page, "Set password")
    check(page, "visitor-reset-done")
    page.goto("/accounts/password/reset/MQ/not-a-token/")
    check(page, "visitor-reset-bad-link")
    watch.expect_status(400, "/accounts/confirm/not-a-token/")
    page.goto("/accounts/confirm/not-a-token/")
    check(page, "visitor-confirm-bad-link")
    watch.expect_status(404, "/no/such/page/")
    page.goto("/no/such/page/")
    check(page, "visitor-404")


def test_every_page_for_an_unconfirmed_member(page: Page, world, watch, limits_clock):
    page.goto("/")
    sign_in(page, "una", DEFAULT_PASSWORD)
    banner = page.get_by_role("region", name="Confirm your address")
    expect(banner).to_be_visible()
    check_everywhere(page, "unconfirmed-home")
    page.goto("/accounts/unconfirmed/")
    check_everywhere(page, "unconfirmed-explained")
    banner.get_by_role("button", name="Send again").click()
    check_everywhere(page, "unconfirmed-sent-again")
    banner.get_by_role("button", name="Send again").click()
    expect(page.get_by_text("you can ask again in 3 minutes")).to_be_visible()
    check_everywhere(page, "unconfirmed-sent-twice")
    page.goto("/users/una/")
    check_everywhere(page, "unconfirmed-profile")
    banner.get_by_role("link", name="Change address").click()
    check_everywhere(page, "unconfirmed-change-address")


def test_every_page_for_a_member(page: Page, world, watch, tmp_path):
    page.goto("/")
    sign_in(page, "nell", DEFAULT_PASSWORD)
    check_everywhere(page, "member-feed-empty")
    page.goto("/users/nell/")
    expect(page.get_by_text("Add a photo and a few words about yourself")).to_be_visible()
    check_everywhere(page, "member-profile-empty")
    page.goto("/users/mia/")
    page.get_by_role("button", name="Follow mia").click()
    page.goto("/")
    check_everywhere(page, "member-feed")
    watch.expect_status(400, "/posts/new/")
    submit(page, "Publish")
    check_everywhere(page, "member-post-errors")
    page.goto(f"/posts/{world['post'].pk}/")
    check_everywhere(page, "member-post")

    go_to_settings(page)
    check_everywhere(page, "member-settings")
    settings_nav = page.get_by_role("navigation", name="Settings")
    settings_nav.get_by_role("link", name="Profile").click()
    check_everywhere(page, "member-settings-profile")
    page.get_by_label(label("About me")).fill("x" * 2001)
    submit(page, "Save profile")
    check_everywhere(page, "member-settings-profile-errors")
    page.get_by_label(label("About me")).fill("I climb hills.")
    submit(page, "Save profile")
    expect(page.get_by_text("Your profile has been updated.")).to_be_visible()
    check_everywhere(page, "member-settings-profile-saved")

    settings_nav.get_by_role("link", name="Email address").click()
    check_everywhere(page, "member-settings-email")
    submit(page, "Send the link")
    check_everywhere(page, "member-settings-email-errors")
    page.get_by_label(label("New email address")).fill("nell@new.example")
    page.get_by_label(label("Current password")).fill(DEFAULT_PASSWORD)
    submit(page, "Send the link")
    check_everywhere(page, "member-settings-email-sent")
    change = EmailChangeRequest.objects.get(user=world["new"])
    page.goto(f"/accounts/email/confirm/{tokens.make_email_change_token(change)}/")
    expect(page.get_by_text("nell@new.example").first).to_be_visible()
    check_everywhere(page, "member-email-change-link")

    page.goto("/accounts/password/change/")
    check_everywhere(page, "member-settings-password")
    page.get_by_label(label("Current password")).fill(DEFAULT_PASSWORD)
    page.get_by_label(label("New password")).fill("nell@example.com")
    submit(page, "Change password")
    expect(page.locator("#id_new_password1_error")).to_contain_text("too similar")
    check_everywhere(page, "member-settings-password-errors")

    for item, name in [
        ("Passkeys and two-factor", "security"),
        ("Devices", "devices"),
        ("Delete account", "delete"),
    ]:
        page.get_by_role("navigation", name="Settings").get_by_role("link", name=item).click()
        check_everywhere(page, f"member-settings-{name}")
    watch.expect_status(400, "/accounts/security/totp/")
    page.goto("/accounts/security/totp/")
    check_everywhere(page, "member-settings-totp")
    submit(page, "Turn on")
    check_everywhere(page, "member-settings-totp-errors")

    watch.expect_status(403, "/moderate/users/")
    page.goto("/moderate/users/")
    check_everywhere(page, "member-403")


def test_every_page_for_a_moderator(page: Page, world, watch):
    page.goto("/")
    sign_in(page, "max", DEFAULT_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Moderate").click()
    check_everywhere(page, "moderator-list")
    page.get_by_label(label("Username or email address starts with")).fill("nobody")
    page.get_by_role("button", name="Search").click()
    check_everywhere(page, "moderator-list-empty")
    page.goto("/users/sid/")
    check_everywhere(page, "moderator-suspended-profile")
    page.goto("/moderate/users/?q=mia")
    page.get_by_role("link", name="Suspend mia").click()
    check_everywhere(page, "moderator-suspend-confirm")
    submit(page, "Suspend mia")
    expect(page.get_by_role("button", name="Undo: reinstate mia")).to_be_visible()
    check_everywhere(page, "moderator-suspended")
    page.get_by_role("button", name="Undo: reinstate mia").click()
    check_everywhere(page, "moderator-undone")
    page.goto(f"/posts/{world['post'].pk}/")
    page.get_by_role("link", name="Hide the post by mia").click()
    check_everywhere(page, "moderator-hide-confirm")
    submit(page, "Hide the post by mia")
    check_everywhere(page, "moderator-hide-errors")
    page.goto("/moderate/record/")
    check_everywhere(page, "moderator-record")


def test_every_page_for_an_administrator(page: Page, world, watch):
    page.goto("/")
    sign_in(page, "ada", DEFAULT_PASSWORD)
    page.goto("/users/mia/")
    check_everywhere(page, "administrator-profile")
    page.get_by_role("link", name="Edit member").click()
    check_everywhere(page, "administrator-member-edit")
    page.get_by_label(label("Email address")).fill("")
    submit(page, "Save")
    check_everywhere(page, "administrator-member-edit-errors")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    check_everywhere(page, "administrator-admin")
    page.goto("/admin/accounts/user/")
    check_everywhere(page, "administrator-admin-members")
    # The admin's member page is the one member editor, which links to the admin's
    # password form and delete page.
    page.goto(f"/admin/accounts/user/{world['mia'].pk}/change/")
    expect(page).to_have_url(re.compile(r"/users/mia/edit/\?next="))
    check_everywhere(page, "administrator-admin-member")
    page.get_by_role("link", name="Set the password of mia").click()
    check_everywhere(page, "administrator-admin-member-password")
    page.go_back()
    page.get_by_role("link", name="Delete mia").click()
    check_everywhere(page, "administrator-admin-member-delete")
    # Removing a member's second factors, from the editor: asked, then refused without a reason.
    enable_totp(world["max"])
    page.goto("/users/max/edit/")
    page.get_by_role("link", name="Remove second factors of max").click()
    check_everywhere(page, "administrator-factors-remove")
    watch.expect_status(400, "/users/max/factors/remove/")
    submit(page, "Remove second factors")
    expect(page.locator("#id_reason_error")).to_contain_text("Say why you are removing")
    check_everywhere(page, "administrator-factors-remove-errors")
    page.goto("/admin/accounts/role/")
    check_everywhere(page, "administrator-admin-roles")
    page.goto("/admin/social/post/")
    check_everywhere(page, "administrator-admin-posts")
    page.goto(f"/admin/social/post/{world['post'].pk}/change/")
    check_everywhere(page, "administrator-admin-post")
    page.goto("/admin/social/comment/")
    check_everywhere(page, "administrator-admin-comments")
    # Hide from the list: without a reason (refused, with a message), then with one.
    page.goto("/admin/social/post/")
    page.get_by_role("checkbox", name=re.compile("^Select this object")).first.check()
    page.get_by_label("Action:").select_option("hide_selected")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_text("Say why you are hiding it")).to_be_visible()
    check_everywhere(page, "administrator-admin-posts-hide-errors")
    page.get_by_role("checkbox", name=re.compile("^Select this object")).first.check()
    page.get_by_label("Action:").select_option("hide_selected")
    page.get_by_label("Reason (the author sees it)").fill("Spam links")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_text("1 post hidden.")).to_be_visible()
    check_everywhere(page, "administrator-admin-posts-hidden")
    page.goto("/admin/social/contentaction/")
    check_everywhere(page, "administrator-admin-content-record")


def test_every_page_of_the_second_factor(page: Page, world, watch):
    """The sign-in's second step, re-authentication with the app and adding a passkey,
    empty and with the errors their forms give."""
    app = enable_totp(world["mia"])
    page.goto("/")
    sign_in(page, "mia", DEFAULT_PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/$"))
    check_everywhere(page, "second-step")
    watch.expect_status(400, "/accounts/2fa/")
    submit(page, "Verify")
    expect(page.locator("#id_code_error")).to_contain_text("or one of your recovery codes")
    check_everywhere(page, "second-step-errors")
    page.get_by_label(label("Code")).fill(app.now())
    submit(page, "Verify")
    expect(page).not_to_have_url(re.compile(r"/accounts/2fa/"))

    page.goto("/accounts/security/confirm/")
    check_everywhere(page, "reauthenticate-with-the-app")
    watch.expect_status(400, "/accounts/security/confirm/")
    submit(page, "Confirm")
    expect(page.locator("#id_code_error")).to_contain_text("from your authenticator app")
    check_everywhere(page, "reauthenticate-with-the-app-errors")
    page.get_by_label(label("Code")).fill(app.at(time.time() + 30))
    submit(page, "Confirm")

    page.goto("/accounts/security/passkeys/add/")
    check_everywhere(page, "passkey-add")
    watch.expect_status(400, "/accounts/security/passkeys/add/")
    # Past the browser's passkey prompt (passkeys.js): what the server says of an empty name.
    page.evaluate("document.querySelector('form.passkey-form').submit()")
    page.wait_for_load_state()
    expect(page.locator("#id_name_error")).to_contain_text("Enter a name for this passkey")
    check_everywhere(page, "passkey-add-errors")
    page.goto("/accounts/security/recovery-codes/")
    check_everywhere(page, "recovery-codes")
    page.goto("/accounts/security/totp/remove/")
    check_everywhere(page, "totp-remove-confirm")
    page.goto("/accounts/reauthenticate/")
    check_everywhere(page, "reauthenticate-with-the-password")
    watch.expect_status(400, "/accounts/reauthenticate/")
    submit(page, "Confirm")
    expect(page.locator("#id_password_error")).to_contain_text("Enter your password")
    check_everywhere(page, "reauthenticate-with-the-password-errors")
