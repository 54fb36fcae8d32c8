"""Screenshots for the documentation: with THIRDSPACE_SCREENSHOTS=<folder> (`make screenshots`), the
browser tests that take part save chosen states there under stable names (docs/screenshots/ holds the
committed set). The `watch` harness's own screenshots of every step go to build/e2e/."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import Page

SHOTS = Path(os.environ["THIRDSPACE_SCREENSHOTS"]) if os.environ.get("THIRDSPACE_SCREENSHOTS") else None


async def shot(page: Page, name: str, *, full: bool = False) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)
