"""The browser suite's harness: one `thirdspace serve` (a subprocess on a free port, its SQLite database
migrated in a tmp folder, configured by THIRDSPACE_* variables) and one Debian Chromium per module.

Every page a test opens through `Watch` records console errors, uncaught page errors, failed requests,
HTTP errors, Content-Security-Policy violations, dialogs (a payload's `alert` runs one) and every request
to another origin; the `watch` fixture fails the test on any of them. `Watch.step` screenshots a page
state into the e2e folder (THIRDSPACE_E2E_SHOTS, default build/e2e/) and runs axe-core on it: a
violation of serious or critical impact is a problem too. Each test's axe runs are kept in its folder
(axe.json beside its screenshots), and the report (axe-report.json and axe-report.md next to the
screenshots) is made from every test's axe.json there: running the test files one at a time builds the
whole suite's report, each run replacing only its own tests' rows.

axe-core is vendored for the tests only (tests/e2e/vendor/axe-core, scripts/vendor.sh) and evaluated in
the page by Playwright; the app never serves it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    Request,
    Response,
    async_playwright,
    expect,
)

from tests.conftest import CLI, ServerProcess, run_server
from tests.databases import PostgresDatabases, SqliteDatabases
from tests.factories import PASSWORD

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
SHOTS = Path(os.environ.get("THIRDSPACE_E2E_SHOTS") or ROOT / "build" / "e2e")
# WCAG 2.0, 2.1 and 2.2 at levels A and AA; only serious and critical findings fail a test.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}

# Runs in every page before its own scripts: CSP violations are reported to the harness, and a payload
# that runs (an `onerror`, a `<script>`, a `javascript:` link) can be told by this flag or by a dialog.
WATCH_INIT = """
if (!Object.prototype.hasOwnProperty.call(window, '__xss')) {  // a popup may run this twice
  document.addEventListener('securitypolicyviolation', (e) => {
    const where = `${e.sourceFile}:${e.lineNumber}`;
    window.__thirdspaceReport && window.__thirdspaceReport(
      `CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${where})`);
  });
  Object.defineProperty(window, '__xss', {
    set(value) { window.__thirdspaceReport && window.__thirdspaceReport(`a payload ran: ${value}`); },
    get() { return undefined; },
  });
}
"""


class AxeReport:
    """The axe runs of the tests in this run; each test's are written to its folder as axe.json, and the
    report is rebuilt from every axe.json in the e2e folder (so earlier runs of other files stay in it)."""

    def __init__(self) -> None:
        self.runs: dict[str, list[dict[str, Any]]] = {}

    def start(self, test: str) -> None:
        """A test begins: its earlier screenshots and axe runs go (a renamed step leaves nothing stale)."""
        shutil.rmtree(SHOTS / test, ignore_errors=True)
        self.runs[test] = []

    def add(self, test: str, state: str, url: str, result: dict[str, Any]) -> list[dict[str, Any]]:
        violations = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [
                    {"target": n["target"], "summary": n.get("failureSummary", "")} for n in v["nodes"]
                ],
            }
            for v in result["violations"]
        ]
        run = {"state": f"{test}/{state}", "url": url, "passes": len(result["passes"])}
        self.runs.setdefault(test, []).append({**run, "violations": violations})
        return [v for v in violations if v["impact"] in FAILING_IMPACTS]

    def finish(self, test: str, node: pytest.Item) -> None:
        """Write the test's axe runs beside its screenshots, with where it sits in the suite."""
        runs = self.runs.pop(test, [])
        if not runs:
            return
        path, line, _ = node.location
        indices = getattr(node, "callspec", None)
        order = [path, line, sorted(indices.indices.items()) if indices else []]
        folder = SHOTS / test
        folder.mkdir(parents=True, exist_ok=True)
        record = {"test": node.nodeid, "order": order, "runs": runs}
        (folder / "axe.json").write_text(json.dumps(record, indent=2) + "\n")

    @staticmethod
    def write(folder: Path) -> None:
        """axe-report.json and axe-report.md from every test's axe.json in the folder, in suite order."""
        tests = [json.loads(p.read_text()) for p in folder.glob("*/axe.json")]
        if not tests:
            return
        tests.sort(key=lambda t: (t["order"][0], t["order"][1], json.dumps(t["order"][2])))
        meta = {"axe_core": (AXE_JS.parent / "VERSION").read_text().strip(), "tags": AXE_TAGS}
        runs = [run for t in tests for run in t["runs"]]
        (folder / "axe-report.json").write_text(json.dumps({**meta, "runs": runs}, indent=2) + "\n")
        failing = [
            run["state"] for run in runs if any(v["impact"] in FAILING_IMPACTS for v in run["violations"])
        ]
        lines = [
            "# axe-core report of the browser suite",
            "",
            f"{meta['axe_core']}, rules tagged {', '.join(AXE_TAGS)}; a serious or critical violation "
            "fails the test that reached the state.",
            "",
            f"{len(runs)} page states in {len(tests)} tests; {len(failing)} with a serious or critical "
            "violation. tests/e2e/test_faults.py breaks a page on purpose and expects its violation, so "
            "its rows may show one; no other row does.",
        ]
        module = None
        for test in tests:
            if test["order"][0] != module:
                module = test["order"][0]
                lines += ["", f"## {module}", "", "| Page state | Rules passed | Violations (impact) |"]
                lines.append("|---|---|---|")
            for run in test["runs"]:
                found = ", ".join(f"{v['id']} ({v['impact']})" for v in run["violations"]) or "none"
                lines.append(f"| {run['state']} | {run['passes']} | {found} |")
        (folder / "axe-report.md").write_text("\n".join(lines) + "\n")


_report = AxeReport()


def pytest_sessionfinish(session: pytest.Session) -> None:
    if SHOTS.is_dir():
        _report.write(SHOTS)


class Watch:
    """Collects every problem of the pages opened through it; `allow` names one expected HTTP refusal."""

    def __init__(self, browser: Browser, server: ServerProcess, test_name: str) -> None:
        self.browser = browser
        self.server = server
        self.origin = server.http
        self.test_name = test_name
        self.problems: list[str] = []
        self.allowed: list[tuple[str, int]] = []
        self.contexts: list[BrowserContext] = []
        self.axe_runs = 0
        # The console's confirmations (Next, Close, Reset, Delete, ...): every message asked, in order,
        # and the answer the facilitator gives (yes unless a test says no).
        self.confirms: list[str] = []
        self.accept_confirms = True

    # --- contexts and pages --------------------------------------------------------------------

    async def context(self, **options: Any) -> BrowserContext:
        """A new browser context (a separate phone or person) whose pages are all watched."""
        options.setdefault("base_url", self.server.http)
        context = await self.browser.new_context(**options)
        await context.expose_binding("__thirdspaceReport", self._report_binding)
        await context.add_init_script(WATCH_INIT)
        context.on("page", self.page)
        self.contexts.append(context)
        return context

    async def new_page(self, **options: Any) -> Page:
        context = await self.context(**options)
        return await context.new_page()

    def page(self, page: Page) -> Page:
        page.on("pageerror", lambda exc: self.problems.append(f"{page.url}: page error: {exc}"))
        page.on("console", lambda message: self._console(page, message))
        page.on("requestfailed", self._request_failed)
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("dialog", lambda dialog: self._dialog(page, dialog))  # a coroutine: pyee awaits it
        return page

    def _report_binding(self, source: dict[str, Any], text: str) -> None:
        self.problems.append(f"{source['page'].url}: {text}")

    def _console(self, page: Page, message: ConsoleMessage) -> None:
        # Chromium logs every 4xx/5xx as "Failed to load resource"; _response judges those by URL.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"{page.url}: console error: {message.text}")

    def _request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in {"data", "blob", "about"}:
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin and not (
            parts.scheme in {"ws", "wss"} and parts.netloc == urlsplit(self.origin).netloc
        ):
            self.problems.append(f"request to another origin: {request.method} {request.url}")

    def _request_failed(self, request: Request) -> None:
        failure = request.failure or ""
        # A navigation away (or a download) aborts what the old page was still loading.
        if "ERR_ABORTED" in failure:
            return
        self.problems.append(f"{request.method} {request.url} failed: {failure}")

    def _response(self, response: Response) -> None:
        if response.status < 400:
            return
        for part, status in self.allowed:
            if part in response.url and status == response.status:
                self.allowed.remove((part, status))
                return
        self.problems.append(f"{response.request.method} {response.url} -> {response.status}")

    async def _dialog(self, page: Page, dialog: Dialog) -> None:
        if dialog.type == "confirm":
            # The console asks before closing or deleting: the facilitator says yes, or no when the
            # test set `accept_confirms` to False. (The payloads of tests/e2e/test_safety.py call
            # alert, never confirm, so a confirm is always the page's.)
            self.confirms.append(dialog.message)
            if self.accept_confirms:
                await dialog.accept()
            else:
                await dialog.dismiss()
            return
        self.problems.append(f"{page.url}: a {dialog.type} dialog opened: {dialog.message!r}")
        await dialog.dismiss()

    def allow(self, url_part: str, status: int) -> None:
        self.allowed.append((url_part, status))

    # --- steps -----------------------------------------------------------------------------------

    async def step(self, page: Page, name: str, *, full: bool = True, axe: bool = True) -> None:
        """One page state: a screenshot in the e2e folder and an axe-core run (serious or critical
        violations become problems)."""
        folder = SHOTS / self.test_name
        folder.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(folder / f"{name}.png"), full_page=full)
        if axe:
            for violation in await self.axe(page, name):
                targets = "; ".join(" ".join(n["target"]) for n in violation["nodes"][:5])
                rule = f"{violation['id']} ({violation['impact']})"
                self.problems.append(f"axe {rule} on {name}: {violation['help']} [{targets}]")

    async def axe(self, page: Page, state: str, rules: list[str] | None = None) -> list[dict[str, Any]]:
        """Runs axe-core on the page as it is now, recorded as this test's `state`; the serious and
        critical violations."""
        if not await page.evaluate("typeof window.axe !== 'undefined'"):
            await page.evaluate(AXE_JS.read_text())
        only: dict[str, Any] = (
            {"type": "rule", "values": rules} if rules else {"type": "tag", "values": AXE_TAGS}
        )
        result = await page.evaluate(
            "(only) => axe.run(document, {runOnly: only, resultTypes: ['violations']})", only
        )
        self.axe_runs += 1
        return _report.add(self.test_name, state, page.url, result)

    def check(self) -> None:
        problems = "\n".join(self.problems)
        assert not self.problems, f"the pages reported {len(self.problems)} problem(s):\n{problems}"
        assert not self.allowed, f"an expected refusal did not happen: {self.allowed}"

    # --- people ------------------------------------------------------------------------------

    async def facilitator(self, **options: Any) -> Page:
        """A logged-in facilitator's console (1280x900 unless told)."""
        return await self.login("facilitator@example.org", **options)

    async def login(self, email: str, **options: Any) -> Page:
        """The account's console (/console) after logging in on the login page, in a context of its
        own (1280x900 unless told)."""
        options.setdefault("viewport", {"width": 1280, "height": 900})
        page = await self.new_page(**options)
        await page.goto("/login?next=/console")
        await page.fill("#username", email)
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await expect(page).to_have_url(re.compile(r"/console$"))
        return page

    async def phone(self, *, width: int = 320, height: int = 640, **options: Any) -> Page:
        return await self.new_page(viewport={"width": width, "height": height}, **options)

    async def joined_phones(self, join_url: str, session_id: str, count: int) -> list[Page]:
        """`count` phones (320 px, a context each) that followed the join link to the session's page."""
        phones = []
        for _ in range(count):
            phone = await self.phone()
            await phone.goto(join_url)
            await expect(phone).to_have_url(re.compile(rf"/s/{session_id}$"))
            phones.append(phone)
        return phones


def add_account(server: ServerProcess, email: str, role: str) -> None:
    """An account on the test's server, made as an administrator does (`thirdspace user add EMAIL
    --role ROLE`), with the suite's password."""
    subprocess.run(
        [*CLI, "user", "add", email, "--role", role, "--password-stdin"],
        env=server.env,
        check=True,
        capture_output=True,
        input=PASSWORD + "\n",
        text=True,
    )


async def open_presenter(context: BrowserContext, session_id: str) -> Page:
    """The session's presenter at 1280x720 in the facilitator's context, connected."""
    presenter = await context.new_page()
    await presenter.set_viewport_size({"width": 1280, "height": 720})
    await presenter.goto(f"/presenter/{session_id}")
    await expect(presenter.locator("#conn")).to_have_text("Connected")
    return presenter


@pytest.fixture(scope="module")
def e2e_server_env() -> dict[str, str]:
    """Extra THIRDSPACE_* settings for this module's server ("{port}" stands for its port)."""
    return {}


@pytest.fixture(scope="module")
def e2e_server(
    tmp_path_factory: pytest.TempPathFactory,
    e2e_server_env: dict[str, str],
    databases: SqliteDatabases | PostgresDatabases,
) -> Iterator[ServerProcess]:
    """One `thirdspace serve` per test module; each test makes its own session in it."""
    base = tmp_path_factory.mktemp("e2e-server")
    with run_server(base, e2e_server_env, databases.fresh(base)) as server:
        yield server


@pytest.fixture(scope="module")
async def e2e_browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture
async def watch(
    e2e_browser: Browser, e2e_server: ServerProcess, request: pytest.FixtureRequest
) -> AsyncIterator[Watch]:
    """Pages that fail the test on any problem they report (checked after the test's own asserts)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    _report.start(name)
    w = Watch(e2e_browser, e2e_server, name)
    yield w
    for context in w.contexts:
        await context.close()
    assert isinstance(request.node, pytest.Item)
    _report.finish(name, request.node)
    if request.node.stash.get(_failed_key, False):
        return  # the test failed already; its own message says why
    w.check()


_failed_key = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    if call.when == "call" and getattr(report, "failed", False):
        item.stash[_failed_key] = True
    return report
