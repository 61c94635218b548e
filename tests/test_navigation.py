"""The top bar, the avatar menu, the settings area and the unconfirmed banner."""

import re

import pytest
from django.template import Context, Template
from django.test import RequestFactory

SETTINGS_PAGES = ["/accounts/profile/", "/accounts/email/change/", "/accounts/password/change/"]


def top_bar(html: str) -> str:
    return html.split('<nav class="nav" aria-label="Main">', 1)[1].split("</nav>", 1)[0]


def links(fragment: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", text).strip()
        for text in re.findall(r"<a [^>]*>(.*?)</a>", fragment, re.S)
    ]


def test_the_top_bar_keeps_daily_items_and_the_avatar_menu_leads_to_settings(client, member):
    client.force_login(member)
    nav = top_bar(client.get("/").content.decode())
    assert links(nav) == ["Offbrand", "Home", "Your profile", "Settings"]
    assert '<details class="account-menu">' in nav
    assert "Sign out" in nav
    assert "Password" not in links(nav) and "Email" not in links(nav)


@pytest.mark.parametrize(
    ("who", "extra"), [("moderator", ["Moderate"]), ("administrator", ["Moderate", "Admin"])]
)
def test_moderate_and_admin_appear_when_the_role_allows(client, request, who, extra):
    client.force_login(request.getfixturevalue(who))
    assert links(top_bar(client.get("/").content.decode()))[3:-1] == extra


def test_the_current_page_is_marked_in_every_menu(client, member):
    client.force_login(member)
    nav = top_bar(client.get("/users/alice/").content.decode())
    assert re.search(r'<a href="/users/alice/" aria-current="page">Your profile</a>', nav)
    assert nav.count("aria-current") == 1  # Home is not marked on every page
    html = client.get("/accounts/password/change/").content.decode()
    side = html.split('class="settings-nav"', 1)[1].split("</nav>", 1)[0]
    assert '<a href="/accounts/password/change/" aria-current="page">Password</a>' in side
    assert side.count("aria-current") == 1
    # The avatar menu's Settings item is marked as the section being shown.
    assert re.search(
        r'<a href="/accounts/settings/" aria-current="page">Settings</a>',
        client.get("/accounts/settings/").content.decode(),
    )


@pytest.mark.parametrize("url", SETTINGS_PAGES)
def test_account_pages_share_the_settings_side_list(client, member, url):
    client.force_login(member)
    html = client.get(url).content.decode()
    side = html.split('class="settings-nav"', 1)[1].split("</nav>", 1)[0]
    assert links(side)[:3] == ["Profile", "Email address", "Password"]


def test_side_list_items_whose_page_does_not_exist_are_left_out(rf, member):
    request = RequestFactory().get("/")
    request.user = member
    template = Template(
        '{% load accounts %}{% nav_link "no:such|accounts:password_change" "P" %}|'
        '{% nav_link "no:such" "X" %}'
    )
    rendered = template.render(Context({"request": request}))
    assert rendered == '<li><a href="/accounts/password/change/">P</a></li>|'


@pytest.mark.parametrize(
    ("url", "data", "message"),
    [
        ("/accounts/profile/", {"about_me": "Hi"}, "Your profile has been updated."),
        (
            "/accounts/email/change/",
            {"new_email": "alice@new.example", "password": "PASSWORD"},
            "We sent a link to alice@new.example.",
        ),
        (
            "/accounts/password/change/",
            {"old_password": "PASSWORD", "new_password1": "a new long passphrase"},
            "Your password has been changed.",
        ),
    ],
)
def test_saving_in_settings_returns_to_the_same_page_with_a_message(
    client, member, password, url, data, message
):
    client.force_login(member)
    data = {key: password if value == "PASSWORD" else value for key, value in data.items()}
    response = client.post(url, data, follow=True)
    assert response.redirect_chain == [(url, 302)]
    assert message in response.content.decode()


def test_an_unconfirmed_member_sees_the_banner_and_no_links_that_bounce(client, unconfirmed):
    client.force_login(unconfirmed)
    html = client.get("/").content.decode()
    banner = html.split('class="banner"', 1)[1].split("</div>\n</div>", 1)[0]
    assert "Confirm your address" in banner
    assert 'action="/accounts/confirm/resend/"' in banner and "Send again" in banner
    assert 'href="/accounts/email/change/">Change address' in banner
    nav = top_bar(html)
    assert "Settings" not in links(nav)
    assert "/accounts/profile/" not in nav and "/accounts/password/change/" not in nav
    # Every link in the top bar opens for them.
    for href in re.findall(r'href="([^"]+)"', nav):
        assert client.get(href).status_code == 200, href


def test_send_again_from_the_banner_stays_on_the_page(client, unconfirmed):
    client.force_login(unconfirmed)
    response = client.post("/accounts/confirm/resend/", {"next": "/users/newbie/"}, follow=True)
    assert response.redirect_chain == [("/users/newbie/", 302)]
    assert (
        "A new confirmation link is on its way to newbie@example.com." in response.content.decode()
    )


def test_send_again_ignores_a_next_on_another_site(client, unconfirmed):
    client.force_login(unconfirmed)
    response = client.post("/accounts/confirm/resend/", {"next": "https://evil.example/"})
    assert response["Location"] == "/accounts/unconfirmed/"


def test_confirmed_members_and_visitors_see_no_banner(client, member):
    assert 'class="banner"' not in client.get("/").content.decode()
    client.force_login(member)
    assert 'class="banner"' not in client.get("/").content.decode()
