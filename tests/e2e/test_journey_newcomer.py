"""A newcomer registers, confirms, signs in, fills in a profile, changes and resets the password."""

import re
import time
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e.helpers import Journey, go_to_settings, label, sign_out

EMAIL = "nora@example.com"
USERNAME = "nora"
FIRST_PASSWORD = "a sturdy passphrase 9"
SECOND_PASSWORD = "another sturdy passphrase 7"
THIRD_PASSWORD = "a third sturdy passphrase 5"
THIRTY_DAYS = 30 * 24 * 3600
FIRST_NAME = "Nora"
ABOUT_ME = ["I knit jumpers.", "And I climb hills."]


def focus_is_visible(page: Page) -> bool:
    return page.evaluate(
        """() => {
            const style = getComputedStyle(document.activeElement);
            return style.boxShadow !== "none" || style.outlineStyle !== "none";
        }"""
    )


def avatar_picture(tmp_path: Path) -> Path:
    """A real picture, wider than tall, as a phone might send."""
    path = tmp_path / "nora.png"
    Image.new("RGB", (400, 300), (40, 120, 200)).save(path, "PNG")
    return path


def test_newcomer(page: Page, inbox, tmp_path):
    journey = Journey("newcomer")
    nav = page.get_by_role("navigation", name="Main")

    page.goto("/")
    expect(page.get_by_role("heading", name="Welcome to Offbrand!")).to_be_visible()
    journey.check(page, "home")

    # Register.
    nav.get_by_role("link", name="Register").click()
    journey.check(page, "register")
    page.get_by_label(label("Email address")).fill(EMAIL)
    page.get_by_label(label("Username")).fill(USERNAME)
    page.get_by_label(label("Password")).fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    journey.check(page, "register-done")

    # Confirm the address from the email.
    page.goto(inbox.next_link(EMAIL, "Confirm your email address"))
    journey.check(page, "confirm")
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_text("Your email address is confirmed")).to_be_visible()
    journey.check(page, "confirmed")

    sign_out(page)
    expect(page.get_by_text("You have been signed out.")).to_be_visible()

    # Sign in by email address, in another case, and stay signed in.
    nav.get_by_role("link", name="Sign in").click()
    journey.check(page, "sign-in")
    page.get_by_label(label("Username or email address")).fill(EMAIL.upper())
    page.get_by_label(label("Password")).fill(FIRST_PASSWORD)
    page.get_by_label(label("Remember me")).check()
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text(f"Welcome back, {USERNAME}.")).to_be_visible()
    journey.check(page, "signed-in")
    session = next(c for c in page.context.cookies() if c["name"] == "sessionid")
    assert abs(session["expires"] - (time.time() + THIRTY_DAYS)) < 3600
    # Flash messages can be dismissed.
    page.get_by_role("button", name="Dismiss message").click()
    expect(page.get_by_text(f"Welcome back, {USERNAME}.")).to_have_count(0)

    # Fill in the profile, with a picture, and see it on the public page.
    go_to_settings(page)
    expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Profile").click()
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    journey.check(page, "profile-edit")
    page.get_by_label(label("First name")).fill(FIRST_NAME)
    page.get_by_label(label("About me")).fill("\n".join(ABOUT_ME))
    page.get_by_label(label("Upload a photo")).set_input_files(avatar_picture(tmp_path))
    page.get_by_role("button", name="Save profile").click()
    expect(page).to_have_url(re.compile("/accounts/profile/$"))
    expect(page.get_by_text("Your profile has been updated.")).to_be_visible()
    page.get_by_role("link", name="See your public profile").click()
    expect(page).to_have_url(re.compile(f"/users/{USERNAME}/$"))
    expect(page.get_by_role("heading", name=USERNAME, exact=True)).to_be_visible()
    expect(page.get_by_text(FIRST_NAME, exact=True)).to_be_visible()
    # The line break is kept: the text renders on two lines.
    about = page.get_by_text(ABOUT_ME[0])
    expect(about).to_be_visible()
    assert about.inner_text() == "\n".join(ABOUT_ME)
    avatar = page.get_by_role("img", name=f"Avatar of {USERNAME}")
    expect(avatar).to_have_attribute("src", re.compile(r"^/media/avatars/"))
    avatar.evaluate("image => image.decode()")
    assert avatar.evaluate("image => image.naturalWidth") == 256
    assert avatar.evaluate("image => image.naturalHeight") == 256
    journey.check(page, "profile")

    # Change the password.
    go_to_settings(page)
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Password").click()
    journey.check(page, "password-change")
    page.get_by_label(label("Current password")).fill(FIRST_PASSWORD)
    page.get_by_label(label("New password")).fill(SECOND_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password has been changed.")).to_be_visible()
    journey.check(page, "password-changed")
    assert inbox.next_email(EMAIL, "Your password was changed")
    sign_out(page)

    # Forget it, and set a new one from the emailed link.
    nav.get_by_role("link", name="Sign in").click()
    page.get_by_role("link", name="Forgot your password?").click()
    journey.check(page, "password-reset")
    page.get_by_label(label("Email address")).fill(EMAIL)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    journey.check(page, "password-reset-sent")
    page.goto(inbox.next_link(EMAIL, "Reset your password"))
    expect(page.get_by_role("heading", name="Set a new password")).to_be_visible()
    journey.check(page, "password-reset-confirm")
    page.get_by_label(label("New password")).fill(THIRD_PASSWORD)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", name="Your password has been set")).to_be_visible()
    journey.check(page, "password-reset-complete")

    # Sign in with the new password, by keyboard alone.
    page.get_by_role("main").get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(re.compile("/accounts/login/"))
    login = page.get_by_label(label("Username or email address"))
    expect(login).to_be_focused()  # autofocus
    page.keyboard.type(USERNAME)
    assert focus_is_visible(page)
    page.keyboard.press("Tab")
    expect(page.get_by_label(label("Password"))).to_be_focused()
    page.keyboard.type(THIRD_PASSWORD)
    assert focus_is_visible(page)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Show password")).to_be_focused()
    assert focus_is_visible(page)
    page.keyboard.press("Tab")
    expect(page.get_by_label(label("Remember me"))).to_be_focused()
    assert focus_is_visible(page)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_focused()
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Welcome back, {USERNAME}.")).to_be_visible()
    journey.check(page, "welcome-back")
