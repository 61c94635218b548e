"""Every page, as each kind of visitor sees it, empty, with errors and after success.

Each state is checked at 1280 and 390 px in the light and the dark scheme
(`check_everywhere`): axe finds no violation of any impact, nothing is wider
than a phone, every element the keyboard reaches shows a focus ring of 3:1 or
more, and a screenshot of each lands in artifacts/screenshots/pages/.
"""

import re
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from accounts import ratelimits, tokens
from accounts.mfa.models import Passkey
from accounts.models import EmailChangeRequest, ModerationAction, Role
from accounts.services import sign_in_name_key
from social.models import ContentAction
from social.services import content_hide
from tests.e2e.helpers import check_everywhere, go_to_settings, label, sign_in, sign_out
from tests.factories import (
    DEFAULT_PASSWORD,
    CommentFactory,
    FollowFactory,
    PostFactory,
    UserFactory,
)
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
        ratelimits.hit("signin_account", sign_in_name_key("nell"))
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
    page.get_by_label(label("Username starts with")).fill("nobody")
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
    page.locator("select[name=action]").select_option("hide_selected")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_text("Say why you are hiding it")).to_be_visible()
    check_everywhere(page, "administrator-admin-posts-hide-errors")
    page.get_by_role("checkbox", name=re.compile("^Select this object")).first.check()
    page.locator("select[name=action]").select_option("hide_selected")
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


# --- Pages found by listing every URL pattern (and each admin model's pages) -----------


def test_every_remaining_page_for_a_visitor(page: Page, world, watch, inbox, limits_clock):
    """The following lists, empty and with someone, and the page after registering."""
    page.goto("/users/mia/following/")
    check_everywhere(page, "visitor-following-empty")
    FollowFactory(follower=world["mia"], followed=world["long"])
    page.goto("/users/mia/following/")
    check_everywhere(page, "visitor-following")
    page.goto("/accounts/register/")
    page.get_by_label(label("Email address")).fill("newcomer@example.com")
    page.get_by_label(label("Username")).fill("newcomer")
    page.get_by_label(label("Password")).fill("a sturdy passphrase 9")
    submit(page, "Register")
    expect(page).to_have_url(re.compile(r"/accounts/register/done/$"))
    check_everywhere(page, "visitor-register-done")
    # The emailed link, opened signed out: it asks for the account's password.
    link = inbox.next_link("newcomer@example.com", "Confirm your email address")
    sign_out(page)
    page.goto(link)
    check_everywhere(page, "visitor-confirm")
    watch.expect_status(400, urlsplit(link).path)
    page.get_by_label("Password of the account").fill("not the password")
    submit(page, "Confirm my address")
    expect(page.locator("#id_password_error")).to_contain_text(
        "That password is not the account’s."
    )
    check_everywhere(page, "visitor-confirm-password-wrong")
    page.get_by_label("Password of the account").fill("a sturdy passphrase 9")
    submit(page, "Confirm my address")
    check_everywhere(page, "visitor-confirmed")
    page.goto(link)
    expect(page.get_by_role("heading", name="Already confirmed")).to_be_visible()
    check_everywhere(page, "visitor-confirm-already-done")


def test_every_remaining_page_for_a_member(page: Page, world, watch, open_page):
    """Following lists, a post written, edited (empty, with errors, saved), a comment
    refused and posted, the account deletion refused, and a passkey's removal."""
    page.goto("/")
    sign_in(page, "nell", DEFAULT_PASSWORD)
    page.goto("/users/mia/")
    page.get_by_role("button", name="Follow mia").click()
    page.goto("/users/nell/following/")
    check_everywhere(page, "member-following")
    page.goto("/users/mia/followers/")
    check_everywhere(page, "member-followers")

    page.goto("/")
    page.get_by_label(label("Your post")).fill("My first post, *with* feeling.")
    submit(page, "Publish")
    check_everywhere(page, "member-post-published")
    post = world["new"].posts.get()
    page.goto(f"/posts/{post.pk}/")
    page.get_by_role("link", name="Edit post").click()
    expect(page).to_have_url(re.compile(rf"/posts/{post.pk}/edit/$"))
    check_everywhere(page, "member-post-edit")
    watch.expect_status(400, f"/posts/{post.pk}/edit/")
    page.get_by_label(label("Your post")).fill("")
    submit(page, "Save")
    expect(page.locator("#id_body_error")).to_contain_text("Your post is empty.")
    check_everywhere(page, "member-post-edit-errors")
    page.get_by_label(label("Your post")).fill("My first post, edited.")
    submit(page, "Save")
    expect(page).to_have_url(re.compile(rf"/posts/{post.pk}/$"))
    check_everywhere(page, "member-post-edited")

    watch.expect_status(400, f"/posts/{world['post'].pk}/")
    page.goto(f"/posts/{world['post'].pk}/")
    submit(page, "Comment")
    expect(page.locator("#id_body_error")).to_contain_text("Your comment is empty.")
    check_everywhere(page, "member-comment-errors")
    page.get_by_label(label("Your comment")).fill("Lovely.")
    submit(page, "Comment")
    expect(page.get_by_text("Lovely.")).to_be_visible()
    check_everywhere(page, "member-commented")

    watch.expect_status(400, "/accounts/delete/")
    page.goto("/accounts/delete/")
    page.get_by_label(label("Type your username to confirm")).fill("not-nell")
    submit(page, "Delete my account")
    expect(page.locator("#id_username_error")).to_contain_text("That isn't your username.")
    check_everywhere(page, "member-settings-delete-errors")

    Passkey.objects.create(
        user=world["new"], name="Laptop", credential_id="e2e-credential", public_key=b"key"
    )
    page.goto("/accounts/security/")
    check_everywhere(page, "member-settings-security-with-a-passkey")
    page.get_by_role("link", name="Remove Laptop").click()
    check_everywhere(page, "passkey-remove-confirm")
    submit(page, "Remove the passkey “Laptop”")
    expect(page.get_by_text("Passkey “Laptop” removed.")).to_be_visible()
    check_everywhere(page, "passkey-removed")

    other_device = open_page()
    other_device.goto("/")
    sign_in(other_device, "nell", DEFAULT_PASSWORD)
    page.goto("/accounts/sessions/")
    check_everywhere(page, "member-settings-devices-two")
    submit(page, "Sign out all other devices")
    expect(page.get_by_text("Signed out 1 other device.")).to_be_visible()
    check_everywhere(page, "member-settings-devices-signed-out-others")

    page.goto(f"/posts/{post.pk}/")
    page.get_by_role("button", name="Delete post").click()
    page.wait_for_load_state()
    check_everywhere(page, "member-post-deleted")


def test_every_remaining_page_for_a_moderator(page: Page, world, watch):
    """A comment hidden (asked, then done) and restored, and a hidden post restored."""
    page.goto("/")
    sign_in(page, "max", DEFAULT_PASSWORD)
    comment = world["post"].comments.get()
    page.goto(f"/posts/{world['post'].pk}/")
    page.get_by_role("link", name="Hide comment by max").click()
    check_everywhere(page, "moderator-hide-comment-confirm")
    page.get_by_label(label("Reason")).fill("Off topic")
    submit(page, "Hide the comment by max")
    check_everywhere(page, "moderator-comment-hidden")
    page.goto(f"/moderate/comments/{comment.pk}/restore/")
    check_everywhere(page, "moderator-restore-comment-confirm")
    watch.expect_status(400, f"/moderate/comments/{comment.pk}/restore/")
    page.locator("#id_reason").evaluate("(field, text) => field.value = text", "n" * 501)
    submit(page, "Restore the comment by max")
    expect(page.locator("#id_reason_error")).to_contain_text("The note can be at most 500")
    check_everywhere(page, "moderator-restore-comment-errors")
    page.goto(f"/posts/{world['post'].pk}/")
    page.get_by_role("link", name="Hide the post by mia").click()
    page.get_by_label(label("Reason")).fill("Spam links")
    submit(page, "Hide the post by mia")
    check_everywhere(page, "moderator-post-hidden")
    page.get_by_role("link", name="Restore the post by mia").click()
    check_everywhere(page, "moderator-restore-post-confirm")
    submit(page, "Restore the post by mia")
    check_everywhere(page, "moderator-post-restored")

    # The other actions on members: asked, refused (a reason over 1,000 characters), done.
    page.goto("/moderate/users/sid/reinstate/")
    check_everywhere(page, "moderator-reinstate-confirm")
    page.goto("/moderate/users/mia/clear_about/")
    check_everywhere(page, "moderator-clear-about-confirm")
    watch.expect_status(400, "/moderate/users/mia/clear_about/")
    page.locator("#id_reason").evaluate("(field, text) => field.value = text", "r" * 1001)
    submit(page, "Clear the about-me of mia")
    expect(page.locator("#id_reason_error")).to_contain_text("1000 characters")
    check_everywhere(page, "moderator-clear-about-errors")
    page.locator("#id_reason").fill("Spam links")
    submit(page, "Clear the about-me of mia")
    check_everywhere(page, "moderator-about-cleared")
    page.goto("/moderate/users/mia/clear_avatar/")
    check_everywhere(page, "moderator-clear-avatar-confirm")


def test_every_remaining_admin_page(page: Page, world, watch):
    """Each registered model's list, add and change pages an administrator can reach,
    the app pages, a history page, and "add user" empty, with errors and after success."""
    comment = world["post"].comments.get()
    content_hide(actor=world["max"], content=comment, reason="Off topic")
    page.goto("/")
    sign_in(page, "ada", DEFAULT_PASSWORD)
    for path, name in [
        ("/admin/accounts/", "administrator-admin-accounts"),
        ("/admin/social/", "administrator-admin-social"),
        ("/admin/django_tasks_database/", "administrator-admin-tasks"),
        ("/admin/django_tasks_database/dbtaskresult/", "administrator-admin-task-results"),
        ("/admin/accounts/moderationaction/", "administrator-admin-moderation-log"),
        (
            f"/admin/accounts/moderationaction/{ModerationAction.objects.get().pk}/change/",
            "administrator-admin-moderation-log-entry",
        ),
        (f"/admin/social/comment/{comment.pk}/change/", "administrator-admin-comment"),
        (
            f"/admin/social/contentaction/{ContentAction.objects.get().pk}/change/",
            "administrator-admin-content-record-entry",
        ),
        (f"/admin/social/post/{world['post'].pk}/history/", "administrator-admin-post-history"),
        ("/admin/accounts/role/add/", "administrator-admin-role-add"),
    ]:
        page.goto(path)
        check_everywhere(page, name)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errornote")).to_be_visible()
    check_everywhere(page, "administrator-admin-role-add-errors")
    page.goto(f"/admin/accounts/role/{Role.objects.get(name='Moderator').pk}/change/")
    check_everywhere(page, "administrator-admin-role")
    page.goto(f"/admin/accounts/role/{Role.objects.get(name='Moderator').pk}/delete/")
    check_everywhere(page, "administrator-admin-role-delete")

    page.goto("/admin/accounts/user/add/")
    check_everywhere(page, "administrator-admin-member-add")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Enter the username.")).to_be_visible()
    check_everywhere(page, "administrator-admin-member-add-errors")
    page.get_by_label(label("Username")).fill("olive")
    page.get_by_label(label("Email address")).fill("olive@example.com")
    page.locator("#id_password1").fill("a sturdy passphrase 9")
    page.locator("#id_password2").fill("a sturdy passphrase 9")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/users/olive/edit/"))
    check_everywhere(page, "administrator-admin-member-added")

    page.goto(f"/admin/accounts/user/{world['mia'].pk}/password/")
    page.get_by_role("button", name=re.compile("Change password")).click()
    expect(page.get_by_text("Enter the password.")).to_be_visible()
    check_everywhere(page, "administrator-admin-member-password-errors")

    page.goto("/admin/accounts/user/?q=una")
    page.get_by_role("checkbox", name=re.compile("^Select this object")).first.check()
    page.locator("select[name=action]").select_option("mark_confirmed")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_text("1 member confirmed.")).to_be_visible()
    check_everywhere(page, "administrator-admin-members-confirmed")
