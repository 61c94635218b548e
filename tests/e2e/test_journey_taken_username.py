"""Someone tries to register a username that is taken, in another case."""

import re

from playwright.sync_api import Page, expect

from accounts.models import User
from tests.e2e.helpers import Journey, label
from tests.factories import UserFactory

TAKEN = "A user with that username already exists."


def test_taken_username(page: Page):
    UserFactory(username="Quinn", email="quinn@example.com")
    journey = Journey("taken-username")

    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Register").click()
    page.get_by_label(label("Email address")).fill("someone.else@example.com")
    page.get_by_label(label("Username")).fill("qUINN")
    page.get_by_label(label("Password")).fill("a sturdy passphrase 9")
    page.get_by_role("button", name="Register").click()

    username = page.get_by_label(label("Username"))
    expect(username).to_have_value("qUINN")
    expect(username).to_have_attribute("aria-invalid", "true")
    # Screen readers announce the error with the field...
    expect(username).to_have_accessible_description(re.compile(re.escape(TAKEN)))
    # ...and it is shown beside it, in the same field group.
    field_group = page.locator("div.field", has=username)
    expect(field_group.get_by_text(TAKEN)).to_be_visible()
    # ...and listed in the summary on top, which links to the field.
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(page).to_have_title("Error: Register · Offbrand")
    summary.get_by_role("link", name=TAKEN).click()
    expect(username).to_be_focused()
    journey.check(page, "register-refused")
    assert User.objects.count() == 1
