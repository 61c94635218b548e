"""Someone guesses a member's password from a new browser until the account's budget for
new browsers is used up; the next try, even the right one, is refused."""

import re

from playwright.sync_api import Page, expect

from accounts.ratelimits import LIMITS, SIGN_IN_WINDOW
from tests.e2e.helpers import Journey, label
from tests.factories import DEFAULT_PASSWORD, UserFactory

LOGIN = "/accounts/login/"
NO_MATCH = "don't match an account"
ATTEMPTS = LIMITS["signin_account"].count


def test_lockout_after_the_budget_of_wrong_passwords(page: Page, watch, limits_clock):
    UserFactory(username="lena", email="lena@example.com")
    journey = Journey("lockout")

    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in").click()
    journey.check(page, "sign-in")
    for attempt in range(1, ATTEMPTS + 1):
        page.get_by_label(label("Username or email address")).fill("lena")
        page.get_by_label(label("Password")).fill(f"not my password {attempt}")
        page.get_by_role("button", name="Sign in", exact=True).click()
        summary = page.locator("[data-error-summary]")
        expect(summary.filter(has_text=NO_MATCH)).to_be_visible()
        expect(summary).to_be_focused()
        expect(page.get_by_text("Welcome back")).to_have_count(0)
        if attempt == 1:
            journey.check(page, "wrong-password")
        # Warned before the last allowed attempt.
        expect(page.get_by_text("One more try.")).to_have_count(1 if attempt == ATTEMPTS - 1 else 0)
        if attempt == ATTEMPTS - 1:
            journey.check(page, "last-try-warning")

    # The account is locked now: the right password is not even checked.
    watch.expect_status(429, LOGIN)
    page.get_by_label(label("Username or email address")).fill("lena")
    page.get_by_label(label("Password")).fill(DEFAULT_PASSWORD)
    with page.expect_response(
        lambda response: response.request.method == "POST" and response.url.endswith(LOGIN)
    ) as answer:
        page.get_by_role("button", name="Sign in", exact=True).click()
    assert answer.value.status == 429
    assert answer.value.headers["retry-after"] == str(SIGN_IN_WINDOW)  # a whole window left
    # The same page, not a dead end: the form, what was typed, and when to come back.
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="Too many attempts")).to_be_visible()
    expect(page.get_by_label(label("Username or email address"))).to_have_value("lena")
    countdown = page.locator("[data-countdown]")
    expect(countdown).to_have_text(re.compile(rf"^{SIGN_IN_WINDOW // 60 - 1} minutes 5\d seconds$"))
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_disabled()
    expect(page.get_by_text("Welcome back")).to_have_count(0)
    reset = page.get_by_role("link", name="reset your password")
    expect(reset).to_be_visible()
    journey.check(page, "locked")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Sign in")).to_be_visible()

    # The way out is the reset form.
    reset.click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    journey.check(page, "password-reset")
