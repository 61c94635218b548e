"""A member who never confirmed signs in on a phone, is held back, and asks for a new link."""

import re

from playwright.sync_api import Page, expect

from tests.e2e.helpers import PHONE, Journey, sign_in
from tests.factories import DEFAULT_PASSWORD, UserFactory


def test_unconfirmed_member(page: Page, inbox):
    member = UserFactory(username="otto", email="otto@example.com", confirmed=False)
    journey = Journey("unconfirmed")
    page.set_viewport_size(PHONE)

    # On a phone the navigation folds behind a Menu button.
    page.goto("/")
    menu = page.get_by_role("button", name="Menu")
    sign_in_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(sign_in_link).to_be_hidden()
    journey.check(page, "home-phone")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(sign_in_link).to_be_visible()
    journey.check(page, "menu-open")

    sign_in(page, "OTTO", DEFAULT_PASSWORD)
    expect(page.get_by_text("Welcome back, otto.")).to_be_visible()

    # Until the address is confirmed, account pages lead to the explanation.
    page.goto("/accounts/password/change/")
    expect(page).to_have_url(re.compile(r"/accounts/unconfirmed/$"))
    expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()
    journey.check(page, "unconfirmed")

    page.get_by_role("main").get_by_role("button", name="Send again").click()
    expect(
        page.get_by_text(f"A new confirmation link is on its way to {member.email}.")
    ).to_be_visible()
    journey.check(page, "link-resent")

    page.goto(inbox.next_link(member.email, "Confirm your email address"))
    journey.check(page, "confirm")
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_text("Your email address is confirmed")).to_be_visible()
    journey.check(page, "confirmed")

    page.goto("/accounts/password/change/")
    expect(page.get_by_role("heading", name="Change your password")).to_be_visible()
    member.refresh_from_db()
    assert member.confirmed
