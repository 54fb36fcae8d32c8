"""A real Chromium: a phone (320 px) agrees to a Markdown sheet, sees its withdrawal code with Copy and
Save as text, answers, then withdraws with "Withdraw my answers"; a second phone withdraws on the
/withdraw page with its code; the console's research panel shows the export, the sheet versions and
the audit log, and the bundle downloads. With THIRDSPACE_SCREENSHOTS=<folder> it saves what it saw."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.conftest import ServerProcess
from tests.e2e.test_browser import CHROMIUM_ARGS, _watch_errors
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("THIRDSPACE_SCREENSHOTS")


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        await b.close()


def _shots_dir() -> Path | None:
    if not SHOTS:
        return None
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    return Path(SHOTS)


async def _shot(page: Page, name: str) -> None:
    folder = _shots_dir()
    if folder is not None:
        await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _setup(server: ServerProcess) -> dict[str, Any]:
    """A session with a Markdown sheet and one open, current choice question (through the API)."""
    with httpx.Client(base_url=server.http) as http:
        login = {"username": "facilitator@example.org", "password": PASSWORD}
        auth = {"Authorization": f"Bearer {http.post('/api/auth/token', data=login).json()['access_token']}"}
        sheet = (
            "## What we keep\n\nYour answers, **without your name**. See [the study](https://example.org)."
        )
        body = {"title": "Research day", "settings": {"min_group": 3, "consent_text": sheet}}
        session = http.post("/api/sessions", json=body, headers=auth).json()
        sid = session["id"]
        question = {"kind": "choice", "prompt": "Best part?", "options": ["Talks", "Lunch"]}
        qid = http.post(f"/api/sessions/{sid}/questions", json=question, headers=auth).json()["id"]
        http.put(f"/api/sessions/{sid}/current", json={"question_id": qid}, headers=auth)
        http.patch(f"/api/sessions/{sid}/questions/{qid}", json={"open": True}, headers=auth)
    return dict(session)


def _read(path: Path) -> str:
    return path.read_text()


async def _phone(browser: Browser, server: ServerProcess, code: str, errors: list[str]) -> Page:
    context = await browser.new_context(
        base_url=server.http, viewport={"width": 320, "height": 640}, accept_downloads=True
    )
    page = await context.new_page()
    _watch_errors(page, errors)
    await page.goto(f"/j/{code}")
    await expect(page.locator("#consent")).to_be_visible()
    await expect(page.locator("#consent-text h2")).to_have_text("What we keep")
    await page.click("#consent-agree")
    await expect(page.locator("#withdrawal")).to_be_visible()
    await expect(page.locator("#withdrawal-code")).to_have_text(re.compile(r"^[a-z]+(-[a-z]+){4,}$"))
    return page


async def test_withdrawal_and_the_research_panel(browser: Browser, server_process: ServerProcess) -> None:
    server = server_process
    errors: list[str] = []
    session = _setup(server)
    sid = session["id"]

    first = await _phone(browser, server, session["code"], errors)
    await _shot(first, "phone-withdrawal-code")
    async with first.expect_download() as saving:
        await first.click("#withdrawal-save")
    saved = await (await saving.value).path()
    assert saved is not None
    code_text = _read(Path(saved))
    shown = (await first.locator("#withdrawal-code").text_content() or "").strip()
    assert shown in code_text and "/withdraw" in code_text
    await first.click("#withdrawal-done")
    await first.get_by_role("radio", name="Talks").check()
    await first.click("#send")
    await expect(first.locator("#thanks-heading")).to_have_text("Thanks, your answer is in")
    assert await first.evaluate("document.documentElement.scrollWidth") <= 320

    second = await _phone(browser, server, session["code"], errors)
    second_code = (await second.locator("#withdrawal-code").text_content() or "").strip()

    # The first phone withdraws from the privacy panel.
    await first.locator("details.privacy summary").click()
    await first.click("#withdraw-me")
    await expect(first.locator("#withdraw-confirm-box")).to_be_visible()
    await _shot(first, "phone-withdraw-confirm")
    await first.click("#withdraw-confirm")
    await expect(first).to_have_url(re.compile(r"/withdraw\?done=1$"))
    await expect(first.locator("#withdraw-done")).to_be_visible()

    # The second withdraws on the /withdraw page, typing its code with spaces and capitals.
    await second.goto("/withdraw")
    await second.fill("#withdraw-code", "nope nope")
    await second.click("#withdraw-send")
    await expect(second.locator("#withdraw-status")).to_contain_text("five words")
    await second.fill("#withdraw-code", second_code.replace("-", " ").upper())
    await _shot(second, "withdraw-page")
    await second.click("#withdraw-send")
    await expect(second.locator("#withdraw-done")).to_be_visible()

    # The console's research panel.
    context = await browser.new_context(
        base_url=server.http, viewport={"width": 1280, "height": 720}, accept_downloads=True
    )
    console = await context.new_page()
    _watch_errors(console, errors)
    await console.goto("/login")
    await console.fill("#username", "facilitator@example.org")
    await console.fill("#password", PASSWORD)
    await console.click("button[type=submit]")
    await console.goto(f"/console/{sid}")
    await expect(console.locator("#versions-table tbody tr")).to_have_count(1)
    await expect(console.locator("#versions-table tbody td").nth(2)).to_have_text("0")  # both withdrew
    audit = console.locator("#audit-list li")
    await expect(audit.filter(has_text="withdrew their answers")).to_have_count(2)
    await console.locator("#export-card").scroll_into_view_if_needed()
    await _shot(console, "console-research")
    async with console.expect_download() as downloading:
        await console.click("#export-zip")
    download = await downloading.value
    assert download.suggested_filename.endswith("bundle.zip")
    await console.reload()
    await expect(console.locator("#audit-list li").filter(has_text="exported")).to_have_count(1)
    assert errors == [], errors
