"""An administrator lets the User role moderate; a signed-in member sees it at once."""

import re

from playwright.sync_api import Page, expect

from accounts.models import Role, User
from tests.e2e.helpers import Journey, label, sign_in
from tests.factories import DEFAULT_PASSWORD, UserFactory

MODERATION = "/moderate/users/"


def test_administrator_grants_moderation(page: Page, open_page, watch):
    Role.objects.create_missing()
    UserFactory(username="ada", email="ada@example.com", role=Role.objects.administrator())
    UserFactory(username="mia", email="mia@example.com")
    journey = Journey("administrator")

    # A member, signed in in a browser of her own, may not moderate yet.
    member_page = open_page()
    member_page.goto("/")
    sign_in(member_page, "mia", DEFAULT_PASSWORD)
    member_nav = member_page.get_by_role("navigation", name="Main")
    expect(member_page.get_by_text("Welcome back, mia.")).to_be_visible()
    expect(member_nav.get_by_role("link", name="Moderate")).to_have_count(0)
    watch.expect_status(403, MODERATION)
    member_page.goto(MODERATION)
    expect(member_page.get_by_role("heading", name="You can't open this page")).to_be_visible()
    journey.check(member_page, "member-forbidden")
    member_page.get_by_role("link", name="Back to the home page").click()
    expect(member_page.get_by_role("heading", name="Your feed")).to_be_visible()

    # The administrator ticks Moderate on the User role.
    # The admin signs in on the site's own sign-in page.
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/admin/$"))
    journey.check(page, "admin-login")
    page.get_by_label(label("Username or email address")).fill("ada")
    page.get_by_label(label("Password")).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Members and roles")).to_be_visible()
    journey.check(page, "admin-index")
    page.get_by_role("link", name="Roles", exact=True).click()
    journey.check(page, "admin-roles")
    page.get_by_role("link", name="User", exact=True).click()
    journey.check(page, "admin-role-user")
    page.get_by_label(label("Moderate")).check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("was changed successfully")).to_be_visible()
    journey.check(page, "admin-role-saved")
    assert Role.objects.get(name="User").permission_summary == "FOLLOW, COMMENT, WRITE, MODERATE"

    # The member reloads the home page and finds moderation in her navigation.
    member_page.reload()
    moderate = member_nav.get_by_role("link", name="Moderate")
    expect(moderate).to_be_visible()
    journey.check(member_page, "member-can-moderate")
    moderate.click()
    expect(member_page).to_have_url(re.compile(f"{MODERATION}$"))
    journey.check(member_page, "member-moderation")

    # The administrator makes the member a moderator from her public profile.
    page.goto("/users/mia/")
    expect(page.get_by_role("heading", name="mia", exact=True)).to_be_visible()
    journey.check(page, "member-profile")
    page.get_by_role("link", name="Edit member").click()
    expect(page.get_by_role("heading", name="Edit mia")).to_be_visible()
    journey.check(page, "member-edit")
    page.get_by_label(label("Role")).select_option(label="Moderator")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/users/mia/$"))
    expect(page.get_by_text("Saved mia.")).to_be_visible()
    expect(page.get_by_role("definition").filter(has_text="Moderator")).to_be_visible()
    journey.check(page, "member-moderator")
    assert User.objects.get(username="mia").role.name == "Moderator"

    # One member editor: the admin's member list leads to the same page, and back to
    # the list as it was filtered.
    moderators = Role.objects.get(name="Moderator").pk
    page.goto(f"/admin/accounts/user/?role__id__exact={moderators}")
    page.get_by_role("link", name="mia", exact=True).click()
    expect(page).to_have_url(re.compile(r"/users/mia/edit/\?next="))
    expect(page.get_by_role("heading", name="Edit mia")).to_be_visible()
    journey.check(page, "admin-member-edit")
    page.get_by_label(label("First name")).fill("Mia")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/admin/accounts/user/\?role__id__exact={moderators}$"))
    expect(page.get_by_text("Saved mia.")).to_be_visible()
    journey.check(page, "admin-member-saved")
    assert User.objects.get(username="mia").first_name == "Mia"

    # The password is set with the admin's own form, reached from the editor.
    page.goto("/users/mia/edit/")
    page.get_by_role("link", name="Set the password of mia").click()
    journey.check(page, "admin-member-password")
    page.locator("#id_password1").fill("a fresh passphrase for mia")
    page.locator("#id_password2").fill("a fresh passphrase for mia")
    page.get_by_role("button", name=re.compile("Change password")).click()
    expect(page.get_by_role("heading", name="Edit mia")).to_be_visible()
    expect(page.get_by_text("Password changed successfully.")).to_be_visible()
    assert User.objects.get(username="mia").check_password("a fresh passphrase for mia")
