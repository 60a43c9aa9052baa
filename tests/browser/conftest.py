"""Headless Chromium against the session's live Kinko: one browser and one signed-in context per module, and a
guard on every page that fails the test when the console logs an error, throws, or a request fails or is refused."""

import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    expect,
    sync_playwright,
)

from tests.browser import axe
from tests.live import APPID, ROOT, LiveKinko, Worker, manage_py

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SCREENSHOTS = ROOT / "docs" / "screenshots"
USERNAME = "browser-operator"
PASSWORD = f"browser-{uuid.uuid4().hex}"  # a new one per run; the user is created or reset with it
TIMEOUT_MS = 10_000


def manage_env(kinko: LiveKinko) -> dict[str, str]:
    return {**os.environ, "KINKO_DATA_DIR": str(kinko.data_dir), "KINKO_APPID": APPID}


@dataclass
class PageGuard:
    """Everything that went wrong on a page: console errors, uncaught exceptions, failed requests and responses
    with a status of 400 or more, except the (status, URL pattern) pairs a test said it expects."""

    expected: list[tuple[int, re.Pattern]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def expect_status(self, status: int, url_pattern: str) -> None:
        self.expected.append((status, re.compile(url_pattern)))

    def _is_expected(self, status: int, url: str) -> bool:
        return any(status == want and pattern.search(url) for want, pattern in self.expected)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        refused = re.match(r"Failed to load resource: the server responded with a status of (\d+)", message.text)
        if refused and self._is_expected(int(refused.group(1)), message.location.get("url", "")):
            return
        self.problems.append(f"console error: {message.text} at {message.location.get('url', '?')}")

    def on_page_error(self, error: Exception) -> None:
        self.problems.append(f"page error: {error}")

    def on_request_failed(self, request: Request) -> None:
        # A load the browser itself abandoned because the test navigated on (net::ERR_ABORTED) is not a failure
        # of the server; every other failure is.
        if request.failure == "net::ERR_ABORTED":
            return
        self.problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def on_response(self, response: Response) -> None:
        if response.status >= 400 and not self._is_expected(response.status, response.url):
            self.problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def on_load(self, page: Page) -> None:
        self.problems.extend(axe.violations(page))

    def watch(self, page: Page) -> None:
        self._on_load = lambda: self.on_load(page)
        page.on("load", self._on_load)
        page.on("console", self.on_console)
        page.on("pageerror", self.on_page_error)
        page.on("requestfailed", self.on_request_failed)
        page.on("response", self.on_response)

    def unwatch(self, page: Page) -> None:
        page.remove_listener("load", self._on_load)
        page.remove_listener("console", self.on_console)
        page.remove_listener("pageerror", self.on_page_error)
        page.remove_listener("requestfailed", self.on_request_failed)
        page.remove_listener("response", self.on_response)


@pytest.fixture(scope="session")
def operator(kinko) -> tuple[str, str]:
    """A console superuser with a known password, made in the live server's database."""
    manage_py(
        manage_env(kinko),
        "shell",
        "--verbosity",
        "0",
        "-c",
        "from django.contrib.auth import get_user_model\n"
        f"user, _ = get_user_model().objects.get_or_create(username={USERNAME!r})\n"
        "user.is_staff = user.is_superuser = user.is_active = True\n"
        f"user.set_password({PASSWORD!r})\n"
        "user.save()",
    )
    return USERNAME, PASSWORD


@pytest.fixture(scope="module")
def browser() -> Browser:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def sign_in(context: BrowserContext, kinko: LiveKinko, operator: tuple[str, str], lands: str = "/") -> None:
    """Sign in through /login/ the way a person does, in whatever language the context asks for, landing on
    `lands` (a sub-user lands on the first page it may open); the context keeps the session cookie."""
    page = context.new_page()
    guard = PageGuard()
    guard.watch(page)
    page.goto(f"{kinko.url}/login/")
    page.locator('input[name="username"]').fill(operator[0])
    page.locator('input[name="password"]').fill(operator[1])
    page.locator('main button[type="submit"]').click()
    expect(page).to_have_url(f"{kinko.url}{lands}")
    guard.unwatch(page)
    page.close()
    assert guard.problems == [], "signing in went wrong:\n" + "\n".join(guard.problems)


@pytest.fixture(scope="module")
def new_context(browser, kinko):
    """new_context(**options) → a fresh browser context (closed after the module) with bounded default waits."""
    contexts = []

    def make(**options) -> BrowserContext:
        context = browser.new_context(base_url=kinko.url, **{"viewport": {"width": 1280, "height": 900}, **options})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def context(new_context, kinko, operator) -> BrowserContext:
    """The module's signed-in context."""
    made = new_context()
    sign_in(made, kinko, operator)
    return made


@pytest.fixture
def guard() -> PageGuard:
    return PageGuard()


@contextlib.contextmanager
def checked(context: BrowserContext, guard: PageGuard) -> Iterator[Page]:
    """A new page of `context` watched by the guard, failing the test at the end for what the guard saw."""
    page = context.new_page()
    guard.watch(page)
    yield page
    guard.unwatch(page)  # closing the page may abort requests: that is the test's end, not the console's fault
    page.close()
    if guard.problems:
        pytest.fail("the page reported problems:\n" + "\n".join(guard.problems))


@pytest.fixture
def page(context, guard) -> Page:
    """A signed-in page, checked at teardown for console errors, page errors, failed and refused requests."""
    with checked(context, guard) as watched:
        yield watched


@pytest.fixture
def anonymous_page(new_context, guard) -> Page:
    """A page in a fresh context that has not signed in, with the same checks."""
    with checked(new_context(), guard) as watched:
        yield watched


@pytest.fixture
def fresh_page(new_context, kinko, operator, guard) -> Page:
    """A signed-in page in a context of its own, for tests that change what the context keeps (language, clock)."""
    context = new_context()
    sign_in(context, kinko, operator)
    with checked(context, guard) as watched:
        yield watched


def pytest_collection_modifyitems(config, items):
    """`make screenshots` (KINKO_SCREENSHOTS=1) runs only the browser tests that take a screenshot."""
    if os.environ.get("KINKO_SCREENSHOTS") != "1":
        return
    keep = [item for item in items if "screenshot" in getattr(item, "fixturenames", ())]
    config.hook.pytest_deselected(items=[item for item in items if item not in keep])
    items[:] = keep


@pytest.fixture
def screenshot(tmp_path):
    """screenshot(page, name) → a full-page PNG of the page. Only `make screenshots` (KINKO_SCREENSHOTS=1) writes
    docs/screenshots/<name>.png, replacing the last run's; any other run writes under the test's tmp_path, so the
    suite never modifies a tracked file."""
    folder = SCREENSHOTS if os.environ.get("KINKO_SCREENSHOTS") == "1" else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(scope="module")
def start_worker(kinko):
    """start_worker() → the log of a real Celery worker on the embedded filesystem broker, sharing the live server's
    data dir, started on the first call and stopped after the module. The session server runs with --no-worker, so
    queued jobs wait until this is called: a test can look at a queued job first."""
    workers: list[Worker] = []

    def start() -> Path:
        if not workers:
            workers.append(Worker("filesystem://", kinko.data_dir, {"KINKO_APPID": APPID}))
        return workers[0].log_path

    yield start
    for worker in workers:
        worker.stop()
