"""A moderator suspends a member, who is signed out at once; editing members stays off limits."""

import re

from playwright.sync_api import Page, expect

from accounts.models import Role
from tests.e2e.helpers import Journey, label, sign_in
from tests.factories import DEFAULT_PASSWORD, UserFactory

REASON = "Spam links"
SIGNED_OUT = f"Your account has been suspended, so you have been signed out. Reason: {REASON}"


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
    page.get_by_label(label("Username or email starts with")).fill("sam")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/moderate/users/\?q=sam"))
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(2)  # the heading and sam
    expect(rows.nth(1).get_by_role("cell", name="Active")).to_be_visible()
    journey.check(page, "moderation-search")

    # Suspend, with a reason.
    page.get_by_role("link", name="Suspend sam").click()
    expect(page.get_by_role("heading", name="Suspend sam?")).to_be_visible()
    journey.check(page, "suspend-confirm")
    page.get_by_label(label("Reason (optional)")).fill(REASON)
    page.get_by_role("button", name="Yes, suspended").click()
    expect(page).to_have_url(re.compile(r"/moderate/users/$"))
    expect(page.get_by_text("Suspended: sam.")).to_be_visible()
    sam_row = page.get_by_role("row").filter(has=page.get_by_role("link", name="sam", exact=True))
    expect(sam_row.get_by_role("cell", name="Suspended")).to_be_visible()
    expect(sam_row.get_by_role("link", name="Reinstate sam")).to_be_visible()
    journey.check(page, "suspended")

    # The member's next page finds her signed out, and tells her why.
    member_page.reload()
    expect(member_page.get_by_role("status").get_by_text(SIGNED_OUT)).to_be_visible()
    member_nav = member_page.get_by_role("navigation", name="Main")
    expect(member_nav.get_by_role("link", name="Sign in")).to_be_visible()
    expect(member_nav.get_by_role("link", name="sam")).to_have_count(0)
    journey.check(member_page, "member-signed-out")

    # A moderator is not an administrator: editing members is refused.
    watch.expect_status(403, "/users/sam/edit/")
    page.goto("/users/sam/edit/")
    expect(page.get_by_role("heading", name="You can't open this page")).to_be_visible()
    journey.check(page, "member-edit-forbidden")
