"""Browser journeys: Debian's Chromium, driven by Playwright, against pytest-django's live_server.

Every test here is marked `browser` and skipped, visibly, where Chromium is missing.

Playwright's sync API keeps an asyncio event loop running in the main thread,
and Django refuses ORM calls (factories, model assertions, the database flush
between tests) while one runs unless DJANGO_ALLOW_ASYNC_UNSAFE is set. Both
are confined to this package: Playwright starts with the first journey and
stops after the last one, and the variable is set only in between. Set for the
whole session it would leak into the subprocesses other tests start, and
`manage.py check --deploy` there fails with async.E001.

The test database is in-memory SQLite: one connection, shared by the live
server's threads. Two requests querying it at once (a page's images, say) make
SQLite fail with "bad parameter or other API misuse", so this package's live
server answers one request at a time.
"""

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import django.test.testcases
import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread
from playwright.sync_api import Browser, BrowserContext, BrowserType, Page, Playwright
from playwright.sync_api import sync_playwright as start_playwright
from pytest_django.live_server_helper import LiveServer

from tests.e2e.helpers import AXE_LOG, DESKTOP, SCREENSHOTS, BrowserWatch, Inbox

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
NO_CHROMIUM = (
    "Chromium not found: install it with `apt-get install -y chromium` to run the browser tests"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Pages of a local server answer at once: fail fast instead of after 30 s.
TIMEOUT_MS = 5000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if found is None:
        pytest.skip(NO_CHROMIUM)
    return found


@pytest.fixture(scope="session", autouse=True)
def fresh_artifacts() -> None:
    """Screenshots and the axe log describe this run only."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    AXE_LOG.unlink(missing_ok=True)


class OneRequestAtATimeServer(ThreadedWSGIServer):
    """A thread per connection, as Chromium expects, but the application one request at a time.

    Only the call into Django is serialised: a connection Chromium opens ahead
    of time and leaves idle holds no lock.
    """

    def set_app(self, application):
        lock = threading.Lock()

        def one_at_a_time(environ, start_response):
            with lock:
                return application(environ, start_response)

        super().set_app(one_at_a_time)


class OneRequestAtATimeThread(LiveServerThread):
    server_class = OneRequestAtATimeServer


@pytest.fixture(scope="package")
def live_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """pytest-django's live server, with requests to the shared SQLite connection serialised."""
    address = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(django.test.testcases, "LiveServerThread", OneRequestAtATimeThread)
        server = LiveServer(address)
    assert isinstance(server.thread.httpd, OneRequestAtATimeServer)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def browser_test(chromium_executable, transactional_db, live_server) -> None:
    """Every journey needs Chromium, and a live server with a database it can see."""


# --- Playwright, for this package only ---------------------------------------
# pytest-playwright's own fixtures live for the whole session; these replace the
# ones that hold Playwright's event loop, so it ends with the last journey.


@pytest.fixture(scope="package")
def orm_beside_event_loop() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="package")
def playwright(orm_beside_event_loop) -> Iterator[Playwright]:
    with start_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="package")
def browser_type(playwright: Playwright, browser_name: str) -> BrowserType:
    return getattr(playwright, browser_name)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict, chromium_executable: str) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": chromium_executable,
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="package")
def browser(browser_type: BrowserType, browser_type_launch_args: dict) -> Iterator[Browser]:
    browser = browser_type.launch(**browser_type_launch_args)
    yield browser
    browser.close()


@pytest.fixture(scope="package")
def browser_context_args(live_server) -> dict:
    """Journeys write `page.goto("/")`, on a desktop-sized window."""
    return {"base_url": live_server.url, "viewport": DESKTOP}


# --- Watched pages -------------------------------------------------------------


@pytest.fixture
def watch(live_server) -> Iterator[BrowserWatch]:
    """Fails the test at teardown if any watched page saw a problem."""
    watch = BrowserWatch(live_server.url)
    yield watch
    watch.assert_clean()


@pytest.fixture
def new_watched_context(new_context, watch: BrowserWatch) -> Callable[[], BrowserContext]:
    def new_watched_context() -> BrowserContext:
        context = new_context()
        context.set_default_timeout(TIMEOUT_MS)
        watch.attach(context)
        return context

    return new_watched_context


@pytest.fixture
def context(new_watched_context) -> BrowserContext:
    """pytest-playwright's `page` comes from this context, so it is watched too."""
    return new_watched_context()


@pytest.fixture
def open_page(new_watched_context) -> Callable[[], Page]:
    """A page in a browser context of its own: a second person, watched like `page`."""
    return lambda: new_watched_context().new_page()


@pytest.fixture
def inbox(live_server) -> Inbox:
    return Inbox(live_server.url)


@pytest.fixture
def limits_clock(monkeypatch) -> None:
    """The rate limiter's clock alone stands still at an hour's start (so at the start of
    every limit's window); Playwright and the rest of the server keep the real one."""
    import time
    from types import SimpleNamespace

    from accounts import ratelimits

    hour = int(time.time()) // 3600 * 3600
    monkeypatch.setattr(ratelimits, "time", SimpleNamespace(time=lambda: float(hour)))
