"""What every browser journey shares: a watch on the browser, the inbox, axe and screenshots."""

import json
import re
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from django.core.mail import EmailMessage
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, Response

from tests.conftest import links_in

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE_LOG = ARTIFACTS / "axe-violations.jsonl"

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

BLOCKING_IMPACTS = {"serious", "critical"}
ALL_IMPACTS = {"minor", "moderate", "serious", "critical"}

_axe = Axe()


class BrowserWatch:
    """Records what should never happen while a person browses the site.

    Console errors, uncaught script errors, failed requests, error responses
    and requests to any host but the site under test. A journey that opens an
    error page on purpose says so first with `expect_status`.
    """

    def __init__(self, site_url: str):
        self.site_host = urlsplit(site_url).netloc
        self.expected: set[tuple[int, str]] = set()
        self.problems: list[str] = []

    def expect_status(self, status: int, path: str) -> None:
        """Allow one error response (and the console line Chromium logs for it)."""
        self.expected.add((status, path))

    def attach(self, context: BrowserContext) -> None:
        context.on("page", self._attach_page)
        for page in context.pages:
            self._attach_page(page)

    def assert_clean(self) -> None:
        assert not self.problems, "The browser saw problems:\n" + "\n".join(self.problems)

    def _attach_page(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        page.on("request", self._on_request)
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)

    def _is_expected(self, url: str, status: int | None = None) -> bool:
        path = urlsplit(url).path
        return any(
            path == expected_path and status in (None, expected_status)
            for expected_status, expected_path in self.expected
        )

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        source = message.location.get("url", "")
        if message.text.startswith("Failed to load resource") and self._is_expected(source):
            return
        self.problems.append(f"console error: {message.text} ({source})")

    def _on_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != self.site_host:
            self.problems.append(f"request to another host: {request.method} {request.url}")

    def _on_request_failed(self, request: Request) -> None:
        if request.failure == "net::ERR_ABORTED":
            # Leaving a page cancels what it was still loading, and a newer
            # navigation cancels an older one still in flight (a redirect to
            # the home page overtaken by the journey's next step). A request
            # the server really fails still shows as an error response, a
            # broken image or a console error.
            return
        self.problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def _on_response(self, response: Response) -> None:
        if response.status >= 400 and not self._is_expected(response.url, response.status):
            self.problems.append(
                f"HTTP {response.status}: {response.request.method} {response.url}"
            )


class Inbox:
    """Django's locmem outbox, filled by live_server's thread in this process."""

    def __init__(self, site_url: str):
        self.site = urlsplit(site_url)
        self.opened: set[int] = set()

    def next_email(self, to: str, subject: str, timeout: float = 5.0) -> EmailMessage:
        """The next unopened email to `to` whose subject contains `subject`."""
        deadline = time.monotonic() + timeout
        while True:
            for index, message in enumerate(mail.outbox):
                recipients = [address.casefold() for address in message.to]
                if (
                    index not in self.opened
                    and to.casefold() in recipients
                    and subject in message.subject
                ):
                    self.opened.add(index)
                    return message
            if time.monotonic() > deadline:
                sent = [(message.to, message.subject) for message in mail.outbox]
                raise AssertionError(
                    f"No new email to {to} about {subject!r} within {timeout}s; outbox: {sent}"
                )
            time.sleep(0.05)

    def next_link(self, to: str, subject: str) -> str:
        """The first link in the next such email, on the live server."""
        return self._on_site(links_in(self.next_email(to, subject))[0])

    def _on_site(self, link: str) -> str:
        parts = urlsplit(link)
        return urlunsplit((self.site.scheme, self.site.netloc, *parts[2:]))


def save_screenshots(page: Page, name: str) -> None:
    """Full-page PNGs of the current page at desktop and phone widths."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.screenshot(path=SCREENSHOTS / f"{name}-{size['width']}.png", full_page=True)
    page.set_viewport_size(original)


def run_axe(page: Page) -> list[dict]:
    """axe-core's violations on the page; the script is injected once per document."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe.axe_script)
    return page.evaluate('axe.run(document, {resultTypes: ["violations"]})')["violations"]


def check_accessibility(
    page: Page,
    name: str,
    ignore_rules: frozenset[str] = frozenset(),
    blocking_impacts: set[str] = BLOCKING_IMPACTS,
) -> None:
    """Run axe; log every violation, fail on serious or critical ones.

    `ignore_rules` is only for markup the site cannot change (Django admin's
    own templates): the caller says why next to the list.
    """
    violations = run_axe(page)
    ARTIFACTS.mkdir(exist_ok=True)
    with AXE_LOG.open("a") as log:
        for violation in violations:
            entry = {
                "page": name,
                "url": page.url,
                "rule": violation["id"],
                "impact": violation["impact"],
                "help": violation["help"],
                "targets": [node["target"] for node in violation["nodes"]],
            }
            log.write(json.dumps(entry) + "\n")
    blocking = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"])
        for violation in violations
        if violation["impact"] in blocking_impacts and violation["id"] not in ignore_rules
    ]
    assert not blocking, f"axe on {name} ({page.url}):\n" + "\n".join(blocking)


def assert_images_loaded(page: Page) -> None:
    broken = page.evaluate(
        "[...document.images].filter(image => !image.naturalWidth).map(image => image.src)"
    )
    assert not broken, f"Broken images on {page.url}: {broken}"


def visit_check(page: Page, name: str, ignore_rules: frozenset[str] = frozenset()) -> None:
    """After each navigation: screenshots, images, then the accessibility check."""
    page.wait_for_load_state()
    save_screenshots(page, name)
    assert_images_loaded(page)
    check_accessibility(page, name, ignore_rules)


class Journey:
    """Numbers the steps of one journey, so its screenshots sort in order."""

    def __init__(self, name: str):
        self.name = name
        self.step = 0

    def check(self, page: Page, step: str, ignore_rules: frozenset[str] = frozenset()) -> None:
        self.step += 1
        visit_check(page, f"{self.name}-{self.step:02d}-{step}", ignore_rules)


def label(text: str) -> re.Pattern:
    """A form label exactly, with or without the colon Django's forms add."""
    return re.compile(rf"^\s*{re.escape(text)}:?\s*$")


def sign_in(page: Page, login: str, password: str, *, remember: bool = False) -> None:
    """Sign in through the form, as a person would, from any page of the site."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in").click()
    page.get_by_label(label("Username or email address")).fill(login)
    page.get_by_label(label("Password")).fill(password)
    if remember:
        page.get_by_label(label("Remember me")).check()
    page.get_by_role("button", name="Sign in", exact=True).click()


def open_account_menu(page: Page) -> None:
    """The avatar menu in the top bar (behind Menu on a phone)."""
    toggle = page.get_by_role("button", name="Menu")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    menu = page.locator("details.account-menu")
    if menu.get_attribute("open") is None:
        menu.locator("summary").click()


def sign_out(page: Page) -> None:
    open_account_menu(page)
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()


def go_to_settings(page: Page) -> None:
    open_account_menu(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()


# --- Every page, every way it is seen ---------------------------------------------
# The proof: each page at 1280 and 390 px, light and dark; axe with no
# violation of any impact; nothing wider than a phone; a visible focus ring.

PAGES = SCREENSHOTS / "pages"
MODES = [(DESKTOP, "light"), (DESKTOP, "dark"), (PHONE, "light"), (PHONE, "dark")]
FOCUS_RING_CONTRAST = 3.0
MAX_TABS = 16

_FOCUSED_RING = (Path(__file__).parent / "focus_ring.js").read_text()

_WIDER_THAN_THE_PAGE = (Path(__file__).parent / "wider_than_the_page.js").read_text()


def assert_no_horizontal_overflow(page: Page, name: str) -> None:
    wide = page.evaluate(_WIDER_THAN_THE_PAGE)
    assert not wide, f"{name}: wider than the screen at {page.viewport_size['width']} px: {wide}"


def assert_focus_rings(page: Page, name: str) -> None:
    """Tab through the page; every element that takes focus shows a ring of 3:1 or more."""
    # Start from the top of the page, as a fresh visit would.
    page.evaluate(
        """() => {
            document.body.setAttribute("tabindex", "-1");
            document.body.focus();
            document.body.removeAttribute("tabindex");
            window.scrollTo(0, 0);
        }"""
    )
    seen, faint = 0, []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        ring = page.evaluate(_FOCUSED_RING)
        if ring is None:
            break
        seen += 1
        if ring["best"] < FOCUS_RING_CONTRAST:
            faint.append(f"{ring['element']}: {ring['best']:.2f}:1")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    assert seen, f"{name}: nothing takes keyboard focus"
    assert not faint, f"{name}: focus ring under {FOCUS_RING_CONTRAST}:1 on " + "; ".join(faint)


def check_everywhere(page: Page, name: str, *, focus: bool = True) -> None:
    """The page as it is now, at both widths in both schemes: screenshots, axe with no
    violation of any impact, no sideways scrolling on a phone, focus rings."""
    page.wait_for_load_state()
    PAGES.mkdir(parents=True, exist_ok=True)
    assert_images_loaded(page)
    try:
        for size, scheme in MODES:
            page.set_viewport_size(size)
            page.emulate_media(color_scheme=scheme)
            label = f"{name}-{size['width']}-{scheme}"
            page.screenshot(path=PAGES / f"{label}.png", full_page=True)
            check_accessibility(page, label, blocking_impacts=ALL_IMPACTS)
            if size is PHONE:
                assert_no_horizontal_overflow(page, label)
            elif focus:
                assert_focus_rings(page, label)
    finally:
        page.set_viewport_size(DESKTOP)
        page.emulate_media(color_scheme="light")
