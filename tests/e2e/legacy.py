"""The per-test browser, error watcher and screenshot helper that tests written before the harness
(tests/e2e/conftest.py) still use; new tests take the `watch` fixture instead."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, Response, async_playwright

from tests.e2e.conftest import CHROMIUM_ARGS

SHOTS = Path(os.environ["THIRDSPACE_SCREENSHOTS"]) if os.environ.get("THIRDSPACE_SCREENSHOTS") else None


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        await b.close()


class Watch:
    """Collects script errors and failed requests from every page; `allow` names one expected refusal."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.allowed: list[tuple[str, int]] = []

    def allow(self, url_part: str, status: int) -> None:
        self.allowed.append((url_part, status))

    def page(self, page: Page) -> Page:
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        page.on("console", lambda m: self._console(page, m.type, m.text))
        page.on("requestfailed", lambda r: self.errors.append(f"{r.method} {r.url} failed: {r.failure}"))
        page.on("response", self._response)
        return page

    def _console(self, page: Page, kind: str, text: str) -> None:
        if kind == "error" and not text.startswith("Failed to load resource"):
            self.errors.append(f"{page.url}: {text}")

    def _response(self, response: Response) -> None:
        if response.status < 400:
            return
        for part, status in self.allowed:
            if part in response.url and status == response.status:
                self.allowed.remove((part, status))
                return
        self.errors.append(f"{response.request.method} {response.url} -> {response.status}")


async def shot(page: Page, name: str, *, full: bool = False) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)
