"""An audience-paced section on a 320 px phone in a real Chromium (issue 8): started from the console,
the questions one after another at the person's own speed, with progress, then a finished screen; the
console's "finished" count read from the page as the phone moves through."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, async_playwright, expect

from tests.conftest import ServerProcess
from tests.e2e.conftest import CHROMIUM_ARGS
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ["THIRDSPACE_SCREENSHOTS"]) if os.environ.get("THIRDSPACE_SCREENSHOTS") else None


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        await b.close()


async def test_a_survey_at_the_phones_own_pace(browser: Browser, server_process: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server_process.http) as client:
        r = await client.post(
            "/api/auth/token", data={"username": "facilitator@example.org", "password": PASSWORD}
        )
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}

        async def call(method: str, path: str, body: Any = None) -> Any:
            reply = await client.request(method, path, json=body, headers=auth)
            assert reply.status_code < 400, reply.text
            return reply.json() if reply.content else None

        session = await call("POST", "/api/sessions", {"title": "Self-paced", "settings": {"min_group": 3}})
        base = f"/api/sessions/{session['id']}"
        part = await call("POST", f"{base}/sections", {"title": "Reflections", "pace": "audience"})
        for prompt in ("How was the morning?", "How was the afternoon?"):
            await call(
                "POST",
                f"{base}/questions",
                {
                    "kind": "choice",
                    "prompt": prompt,
                    "options": ["Good", "Mixed", "Poor"],
                    "section_id": part["id"],
                },
            )

        context = await browser.new_context(
            base_url=server_process.http, viewport={"width": 320, "height": 640}
        )
        phone = await context.new_page()
        errors: list[str] = []
        phone.on("pageerror", lambda exc: errors.append(str(exc)))
        await phone.goto("/")
        await phone.fill("#code", session["code"])
        await phone.click("button[type=submit]")
        await expect(phone).to_have_url(re.compile(rf"/s/{session['id']}$"))
        await phone.get_by_role("button", name="I have noted it").click()
        await expect(phone.locator("#waiting")).to_be_visible()

        # The facilitator starts the survey from the console, which then counts who finished.
        desk = await browser.new_context(
            base_url=server_process.http, viewport={"width": 1280, "height": 900}
        )
        console = await desk.new_page()
        console.on("pageerror", lambda exc: errors.append(str(exc)))
        await console.goto(f"/login?next=/console/{session['id']}")
        await console.fill("#username", "facilitator@example.org")
        await console.fill("#password", PASSWORD)
        await console.click("button[type=submit]")
        section = console.locator(f'#section-list li[data-sid="{part["id"]}"]')
        await section.get_by_role("button", name="Start as a survey").click()
        progress = section.locator(".section-progress")
        await expect(progress).to_have_text("0 finished, 0 started (2 questions)")

        await expect(phone.locator("#survey-progress")).to_have_text("Reflections · Question 1 of 2")
        await expect(phone.locator("#prompt")).to_have_text("How was the morning?")
        await phone.get_by_label("Good", exact=True).check()
        await phone.click("#send")
        await expect(phone.locator("#thanks-heading")).to_have_text("Thanks, your answer is in")
        if SHOTS is not None:
            await phone.screenshot(path=str(SHOTS / "phone-survey.png"), full_page=True)
        # The console looks again every 3 s.
        await expect(progress).to_have_text("0 finished, 1 started (2 questions)", timeout=10_000)
        await phone.get_by_role("button", name="Next question").click()
        await expect(phone.locator("#survey-progress")).to_have_text("Reflections · Question 2 of 2")
        await phone.click("#prefer-not")
        await expect(phone.locator("#thanks-heading")).to_have_text("Thanks, your response is in")
        await phone.get_by_role("button", name="Next question").click()
        await expect(phone.locator("#waiting")).to_contain_text(
            "You have answered every question in this part"
        )
        width = await phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 320
        await expect(progress).to_have_text("1 finished, 1 started (2 questions)", timeout=10_000)

        progress = await call("GET", f"{base}/sections/{part['id']}/progress")
        assert (progress["finished"], progress["questions"]) == (1, 2)
        await call("POST", f"{base}/sections/{part['id']}/finish")
        await expect(phone.locator("#waiting")).to_contain_text(
            "The next question will appear here by itself"
        )
        assert not errors
        await desk.close()
        await context.close()
