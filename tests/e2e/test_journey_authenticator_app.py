"""A member sets up an authenticator app and recovery codes, and signs in with each.

The codes are computed here from the secret the page shows, as the app would.
"""

import time
from pathlib import Path

import pyotp
from playwright.sync_api import Page, expect

from accounts.mfa.models import RecoveryCode, TotpDevice
from accounts.models import Role
from tests.e2e.helpers import Journey, label, open_account_menu, sign_in
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.mfa import enable_totp

SECURITY = "/accounts/security/"


def sign_out(page: Page) -> None:
    open_account_menu(page)
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have been signed out.")).to_be_visible()


def second_step(page: Page, code: str) -> None:
    sign_in(page, "otto", DEFAULT_PASSWORD)
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    page.get_by_label(label("Code")).fill(code)
    page.get_by_role("button", name="Verify").click()


def test_authenticator_app_and_recovery_codes(page: Page, watch, inbox):
    UserFactory(username="otto", email="otto@example.com")
    journey = Journey("authenticator-app")
    page.goto("/")
    sign_in(page, "otto", DEFAULT_PASSWORD)

    # Set-up: the QR code is drawn in the page; the key is there as text too.
    page.goto(SECURITY)
    page.get_by_role("link", name="Set up an authenticator app").click()
    expect(page.get_by_role("heading", name="Set up an authenticator app")).to_be_visible()
    expect(page.locator("figure.qr svg")).to_be_visible()
    journey.check(page, "setup")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    app = pyotp.TOTP(secret)

    watch.expect_status(400, "/accounts/security/totp/")
    watch.expect_status(400, "/accounts/2fa/")
    page.get_by_label(label("Code from the app")).fill("000000" if app.now() != "000000" else "1")
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#id_code_error").get_by_text("That code isn't right")).to_be_visible()
    assert not TotpDevice.objects.exists()

    setup_code = app.now()
    page.get_by_label(label("Code from the app")).fill(setup_code)
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_text("Your authenticator app is set up.")).to_be_visible()
    inbox.next_email("otto@example.com", "An authenticator app was set up")

    # A later sensitive change may be confirmed with the app instead of the password.
    page.goto("/accounts/security/confirm/?next=/accounts/security/")
    expect(page.get_by_label(label("Code"))).to_be_visible()
    journey.check(page, "confirm-with-app")
    page.goto("/accounts/security/recovery-codes/")

    # Recovery codes: shown once, with a download.
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    journey.check(page, "recovery-codes-none")
    page.get_by_role("button", name="Make new recovery codes").click()
    codes_list = page.get_by_role("list", name="Your recovery codes")
    expect(codes_list.get_by_role("listitem")).to_have_count(10)
    codes = [item.strip() for item in codes_list.get_by_role("listitem").all_inner_texts()]
    journey.check(page, "recovery-codes-shown")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the codes").click()
    assert download.value.suggested_filename == "offbrand-recovery-codes.txt"
    assert Path(download.value.path()).read_text().split() == codes
    page.goto("/accounts/security/recovery-codes/")  # shown once: now only counted
    expect(page.get_by_text("You have 10 unused recovery codes.")).to_be_visible()
    expect(page.get_by_text(codes[0])).to_have_count(0)
    sign_out(page)

    # The set-up code was spent; the app's next code signs in.
    second_step(page, setup_code)
    expect(page.locator("#id_code_error").get_by_text("already used")).to_be_visible()
    journey.check(page, "second-step-refused")
    page.get_by_label(label("Code")).fill(app.at(time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("Welcome back, otto.")).to_be_visible()
    sign_out(page)

    # Phone lost: a recovery code, once.
    second_step(page, codes[0])
    expect(page.get_by_text("Welcome back, otto.")).to_be_visible()
    expect(page.get_by_text("You have 9 recovery codes left.")).to_be_visible()
    inbox.next_email("otto@example.com", "A recovery code was used")
    assert RecoveryCode.objects.filter(used_at__isnull=False).count() == 1
    sign_out(page)
    second_step(page, codes[0])
    expect(page.locator("#id_code_error").get_by_text("already used")).to_be_visible()

    # Cancel, sign in with the next code, and remove the app.
    page.get_by_role("button", name="Cancel and sign in again").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    second_step(page, codes[1])
    expect(page.get_by_text("You have 8 recovery codes left.")).to_be_visible()
    page.goto(SECURITY)
    journey.check(page, "settings-with-app")
    page.get_by_role("link", name="Remove the authenticator app").click()
    heading = page.get_by_role("heading", name="Remove your authenticator app?")
    expect(heading).to_be_visible()
    journey.check(page, "remove-app")
    page.get_by_role("button", name="Remove your authenticator app").click()
    expect(page.get_by_text("Your authenticator app was removed.")).to_be_visible()
    assert not TotpDevice.objects.exists()
    assert not RecoveryCode.objects.exists()


def test_admin_sign_in_asks_for_the_app_code(page: Page, watch):
    """The Django admin signs in on the site's page, so the same second step follows."""
    Role.objects.create_missing()
    boss = UserFactory(username="ada", email="ada@example.com", role=Role.objects.administrator())
    app = enable_totp(boss)
    journey = Journey("admin-second-factor")

    page.goto("/admin/")
    page.get_by_label(label("Username or email address")).fill("ada")
    page.get_by_label(label("Password")).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Confirm it's you")).to_be_visible()
    journey.check(page, "second-step")
    page.goto("/admin/")  # not in yet
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    page.goto("/accounts/2fa/")
    page.get_by_label(label("Code")).fill(app.now())
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Members and roles")).to_be_visible()
