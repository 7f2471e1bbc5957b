"""Browser tests: Debian's chromium driven by Playwright against a real `rxgen serve` with a
tiny random-weight model. They never skip: a missing browser is a failure that says what to
install (`make test` installs it when it can)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Response,
    sync_playwright,
)

from tests.webapp.server_process import ADMIN_PASSWORD, ROOT, Server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
AXE = ROOT / "webapp" / "client" / "node_modules" / "axe-core" / "axe.min.js"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: browser tests (chromium + a real rxgen serve)")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from drivers.diffusion.tiny import ensure_tiny_sd

    model = ensure_tiny_sd(tmp_path_factory.getbasetemp() / "rxgen-tiny-sd")
    models = tmp_path_factory.mktemp("e2e-models")
    (models / "tiny").symlink_to(model, target_is_directory=True)
    return models


# Package scope, not session: sync Playwright keeps an event loop running in the main thread
# while it is open, and the suites collected after this package call asyncio.run().
@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory, tiny_models: Path) -> Iterator[Server]:
    index = ROOT / "webapp" / "static" / "index.html"
    if not index.is_file():
        pytest.fail(
            f"{index} is missing: build the client (cd webapp/client && npm ci && npm run build)"
        )
    root = tmp_path_factory.mktemp("e2e-server")
    running = Server(root / "data", tiny_models).start()
    yield running
    running.stop()


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`, "
            "as root; `make test` does this when it runs as root)"
        )
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


class Served(Protocol):
    """What serves the page: ``rxgen serve`` or ``rxgen debug``."""

    @property
    def url(self) -> str: ...


class Session:
    """One browser page on the server, with the problems the page reported."""

    def __init__(self, page: Page, server: Served, name: str) -> None:
        self.page = page
        self.server = server
        self.name = name
        self.problems: list[str] = []
        self.shots = 0
        page.on("console", self._console)
        page.on("response", self._response)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, message: ConsoleMessage) -> None:
        # Failed loads are judged by _response, which knows the URL.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console error: {message.text}")

    def _response(self, response: Response) -> None:
        path = response.url.removeprefix(self.server.url).split("?")[0]
        # Before login the app asks who is logged in; 401 is that answer, not a failure.
        expected = response.status == 401 and path == "/api/auth/me"
        if response.status >= 400 and not expected:
            self.problems.append(f"HTTP {response.status} from {response.request.method} {path}")

    def goto(self, path: str) -> None:
        self.page.goto(self.server.url + path)

    def login(self, name: str = "admin", password: str = ADMIN_PASSWORD) -> None:
        self.goto("/app/image")
        self.page.wait_for_url("**/app/login")
        self.page.fill("#login-name", name)
        self.page.fill("#login-password", password)
        self.page.click("form.login button[type=submit]")
        self.page.wait_for_url("**/app/image")
        self.page.locator(".connection.open").wait_for()

    def nav(self, title: str) -> None:
        self.page.get_by_role("navigation", name="Main").get_by_role("link", name=title).click()
        self.page.wait_for_url(f"**/app/{title.lower()}")

    def shot(self, label: str) -> None:
        SCREENSHOTS.mkdir(exist_ok=True)
        self.shots += 1
        self.page.screenshot(path=str(SCREENSHOTS / f"{self.name}-{self.shots:02d}-{label}.png"))

    def axe(self, label: str, exclude: tuple[str, ...] = ()) -> None:
        """axe-core's WCAG 2.x A/AA rules on the page as it is now: no violations allowed."""
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            # Evaluated through the DevTools protocol, so the page's CSP (no inline scripts)
            # stays on for the app itself.
            self.page.evaluate(AXE.read_text() + "\n;undefined")
        result: dict[str, Any] = self.page.evaluate(
            "async (exclude) => await axe.run("
            "{include: [['body']], exclude: exclude.map(s => [s])},"
            " {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})",
            list(exclude),
        )
        violations = [
            {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]
        ]
        assert violations == [], f"axe on {label}: {json.dumps(violations, indent=1)}"

    def assert_clean(self) -> None:
        assert self.problems == [], "\n".join(self.problems)


@pytest.fixture
def session(browser: Browser, server: Server, request: pytest.FixtureRequest) -> Iterator[Session]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(30_000)
    opened = Session(page, server, request.node.name.removeprefix("test_"))
    yield opened
    context.close()
