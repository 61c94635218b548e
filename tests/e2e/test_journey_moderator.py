"""A moderator suspends a member, who is signed out at once; editing members stays off limits."""

import re

from playwright.sync_api import Page, expect

from accounts.models import Role
from tests.e2e.helpers import Journey, label, sign_in
from tests.factories import DEFAULT_PASSWORD, UserFactory

REASON = "Spam links"
SIGNED_OUT = f"Your account has been suspended, so you can't sign in. Reason: {REASON}."


def test_moderator_suspends_member(page: Page, open_page, watch):
    Role.objects.create_missing()
    UserFactory(username="max", email="max@example.com", role=Role.objects.get(name="Moderator"))
    UserFactory(username="sam", email="sam@example.com")
    journey = Journey("moderator")

    # The member is signed in, in a browser of her own.
    member_page = open_page()
    member_page.goto("/")
    sign_in(member_page, "sam", DEFAULT_PASSWORD)
    expect(member_page.get_by_text("Welcome back, sam.")).to_be_visible()
    journey.check(member_page, "member-signed-in")

    # The moderator finds her in the moderation list.
    page.goto("/")
    sign_in(page, "max", DEFAULT_PASSWORD)
    expect(page.get_by_text("Welcome back, max.")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Moderate").click()
    expect(page.get_by_role("heading", name="Moderate members")).to_be_visible()
    journey.check(page, "moderation")
    page.get_by_label(label("Username starts with")).fill("sam")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/moderate/users/\?q=sam"))
    cards = page.get_by_role("list", name="Members").get_by_role("listitem")
    expect(cards).to_have_count(1)
    expect(cards.first.get_by_text("Active", exact=True)).to_be_visible()
    journey.check(page, "moderation-search")

    # Suspend, with a reason.
    page.get_by_role("link", name="Suspend sam").click()
    expect(page.get_by_role("heading", name="Suspend sam?")).to_be_visible()
    journey.check(page, "suspend-confirm")
    page.get_by_label(label("Reason (optional)")).fill(REASON)
    page.get_by_role("button", name="Suspend sam").click()
    expect(page).to_have_url(re.compile(r"/moderate/users/\?q=sam"))
    expect(page.get_by_text("sam is suspended and signed out.")).to_be_visible()
    expect(page.get_by_role("button", name="Undo: reinstate sam")).to_be_visible()
    expect(cards.first.get_by_text("Suspended", exact=True)).to_be_visible()
    expect(cards.first.get_by_role("link", name="Reinstate sam")).to_be_visible()
    journey.check(page, "suspended")

    # The member's next page finds her signed out; signing in again says why, and how
    # to appeal.
    member_page.reload()
    member_nav = member_page.get_by_role("navigation", name="Main")
    expect(member_nav.get_by_role("link", name="Sign in")).to_be_visible()
    sign_in(member_page, "sam", DEFAULT_PASSWORD)
    expect(member_page.locator("[data-error-summary]").get_by_text(SIGNED_OUT)).to_be_visible()
    expect(member_nav.get_by_role("link", name="sam")).to_have_count(0)
    journey.check(member_page, "member-signed-out")

    # A moderator is not an administrator: editing members is refused.
    watch.expect_status(403, "/users/sam/edit/")
    page.goto("/users/sam/edit/")
    expect(page.get_by_role("heading", name="You can't open this page")).to_be_visible()
    journey.check(page, "member-edit-forbidden")
