"""Members follow, write and comment; a moderator hides a comment and its author sees why;
an administrator takes WRITE away from the User role and gives it back."""

import re

from playwright.sync_api import Page, expect

from accounts.models import Role
from social.models import Comment, Post
from tests.e2e.helpers import Journey, label, sign_in
from tests.factories import DEFAULT_PASSWORD, UserFactory

REASON = "Please keep it civil"


def test_follow_write_comment_and_a_moderator_hides_a_comment(page: Page, open_page, watch):
    Role.objects.create_missing()
    UserFactory(username="wren", email="wren@example.com")
    UserFactory(username="finn", email="finn@example.com")
    UserFactory(username="max", email="max@example.com", role=Role.objects.get(name="Moderator"))
    journey = Journey("social")

    # Wren writes a post from the compose box on her (empty) feed.
    wren = open_page()
    wren.goto("/")
    sign_in(wren, "wren", DEFAULT_PASSWORD)
    expect(wren.get_by_role("heading", name="Your feed")).to_be_visible()
    journey.check(wren, "empty-feed")
    wren.get_by_label(label("Your post")).fill("Hello, *Offbrand*! Read https://example.com")
    wren.get_by_role("button", name="Publish").click()
    expect(wren.get_by_text("Your post is published.")).to_be_visible()
    post = wren.get_by_role("article").first
    expect(post.locator("em", has_text="Offbrand")).to_be_visible()
    expect(post.get_by_role("link", name="https://example.com")).to_have_attribute(
        "rel", "nofollow noopener ugc"
    )
    journey.check(wren, "feed-with-post")

    # She edits it: it says "edited".
    wren.get_by_role("link", name="0 comments").click()
    wren.get_by_role("link", name="Edit post").click()
    journey.check(wren, "post-edit")
    wren.get_by_label(label("Your post")).fill("Hello, *Offbrand*! Edited to say hi.")
    wren.get_by_role("button", name="Save").click()
    expect(wren.get_by_text("edited", exact=True)).to_be_visible()
    journey.check(wren, "post-edited")

    # Finn's feed is empty: it suggests Wren, who just posted. He follows her.
    page.goto("/")
    sign_in(page, "finn", DEFAULT_PASSWORD)
    expect(page.get_by_role("heading", name="Who to follow")).to_be_visible()
    journey.check(page, "who-to-follow")
    page.get_by_role("button", name="Follow wren").click()
    expect(page.get_by_text("You follow wren.")).to_be_visible()
    expect(page.get_by_text("Edited to say hi.")).to_be_visible()
    journey.check(page, "feed-following")

    # He comments on her post.
    page.get_by_role("link", name="0 comments").click()
    expect(page.get_by_role("heading", name="Comments")).to_be_visible()
    page.get_by_label(label("Your comment")).fill("You are all wrong and I am shouting")
    page.get_by_role("button", name="Comment").click()
    expect(page.get_by_text("Your comment is posted.")).to_be_visible()
    journey.check(page, "commented")
    post_url = re.sub(r"#.*$", "", page.url)

    # Wren's profile shows the post, her follower, and the list of followers.
    wren.goto("/users/wren/")
    expect(wren.get_by_role("heading", name="Posts")).to_be_visible()
    journey.check(wren, "profile-with-posts")
    wren.get_by_role("link", name="1 followers").click()
    expect(wren.get_by_role("link", name="finn")).to_be_visible()
    journey.check(wren, "followers")

    # The moderator hides the comment, with a reason.
    moderator = open_page()
    moderator.goto("/")
    sign_in(moderator, "max", DEFAULT_PASSWORD)
    moderator.goto(post_url)
    moderator.get_by_role("link", name="Hide comment by finn").click()
    expect(moderator.get_by_role("heading", name="Hide this comment by finn?")).to_be_visible()
    journey.check(moderator, "hide-confirm")
    moderator.get_by_label(label("Reason")).fill(REASON)
    moderator.get_by_role("button", name="Hide the comment by finn").click()
    expect(moderator.get_by_text("Hidden: the comment.")).to_be_visible()
    journey.check(moderator, "comment-hidden")
    moderator.goto("/moderate/record/")
    expect(moderator.get_by_role("cell", name=REASON)).to_be_visible()
    journey.check(moderator, "moderation-record")
    assert Comment.objects.get().hidden

    # Finn sees his comment is hidden, and why; Wren and visitors do not see it.
    page.reload()
    expect(page.get_by_text("This comment is hidden by a moderator")).to_be_visible()
    expect(page.get_by_text(REASON)).to_be_visible()
    journey.check(page, "author-sees-why")
    wren.goto(post_url)
    expect(wren.get_by_text("You are all wrong")).to_have_count(0)
    expect(wren.get_by_text("No comments yet.")).to_be_visible()
    visitor = open_page()
    visitor.goto(post_url)
    expect(visitor.get_by_text("You are all wrong")).to_have_count(0)
    expect(visitor.get_by_role("link", name="Sign in to comment")).to_be_visible()
    journey.check(visitor, "visitor-post")

    # A visitor's landing page says what Offbrand is and shows the recent post.
    visitor.goto("/")
    expect(visitor.get_by_role("heading", name="Recent posts")).to_be_visible()
    expect(visitor.get_by_text("Edited to say hi.")).to_be_visible()
    journey.check(visitor, "landing")


def test_administrator_takes_write_away_and_gives_it_back(page: Page, open_page, watch):
    Role.objects.create_missing()
    UserFactory(username="ada", email="ada@example.com", role=Role.objects.administrator())
    UserFactory(username="sam", email="sam@example.com")
    journey = Journey("write-flag")

    member = open_page()
    member.goto("/")
    sign_in(member, "sam", DEFAULT_PASSWORD)
    compose = member.get_by_role("heading", name="Write a post")
    expect(compose).to_be_visible()
    journey.check(member, "compose-box")

    def set_write_on_user_role(on: bool) -> None:
        page.goto("/admin/accounts/role/")
        page.get_by_role("link", name="User", exact=True).click()
        box = page.get_by_label(label("Write"))
        box.check() if on else box.uncheck()
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_text("was changed successfully")).to_be_visible()

    page.goto("/admin/")  # the admin signs in on the site's sign-in page
    page.get_by_label(label("Username or email address")).fill("ada")
    page.get_by_label(label("Password")).fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    set_write_on_user_role(False)
    assert Role.objects.get(name="User").permission_summary == "FOLLOW, COMMENT"

    member.reload()
    expect(compose).to_have_count(0)
    expect(member.get_by_role("heading", name="Your feed")).to_be_visible()
    journey.check(member, "no-compose-box")

    set_write_on_user_role(True)
    member.reload()
    expect(compose).to_be_visible()
    member.get_by_label(label("Your post")).fill("Back to writing.")
    member.get_by_role("button", name="Publish").click()
    expect(member.get_by_text("Your post is published.")).to_be_visible()
    assert Post.objects.get().body == "Back to writing."
