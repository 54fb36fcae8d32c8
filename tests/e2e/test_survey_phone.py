"""An audience-paced section on a 320 px phone in a real Chromium (issue 8): started from the console,
the questions one after another at the person's own speed, with progress, then a finished screen; the
console's "finished" count read from the page as the phone moves through.

It runs on the `watch` harness (tests/e2e/conftest.py): a script error, a console error, a failed or
cross-origin request or a CSP violation on the phone or the console fails it, and axe-core checks each
state."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from tests.e2e.conftest import Watch
from tests.e2e.doc_shots import shot
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


async def test_a_survey_at_the_phones_own_pace(watch: Watch) -> None:
    async with httpx.AsyncClient(base_url=watch.server.http) as client:
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

        phone = await watch.phone()
        await phone.goto("/")
        await phone.fill("#code", session["code"])
        await phone.click("button[type=submit]")
        await expect(phone).to_have_url(re.compile(rf"/s/{session['id']}$"))
        await phone.get_by_role("button", name="I have noted it").click()
        await expect(phone.locator("#waiting")).to_be_visible()
        await watch.step(phone, "phone-waiting")

        # The facilitator starts the survey from the console, which then counts who finished.
        console = await watch.facilitator()
        await console.goto(f"/console/{session['id']}")
        section = console.locator(f'#section-list li[data-sid="{part["id"]}"]')
        await section.get_by_role("button", name="Start as a survey").click()
        progress = section.locator(".section-progress")
        await expect(progress).to_have_text("0 finished, 0 started (2 questions)")
        await watch.step(console, "console-survey-started")

        await expect(phone.locator("#survey-progress")).to_have_text("Reflections · Question 1 of 2")
        await expect(phone.locator("#prompt")).to_have_text("How was the morning?")
        await watch.step(phone, "phone-survey-question-1")
        await phone.get_by_label("Good", exact=True).check()
        await phone.click("#send")
        await expect(phone.locator("#thanks-heading")).to_have_text("Thanks, your answer is in")
        await shot(phone, "phone-survey", full=True)
        await watch.step(phone, "phone-survey-thanks")
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
        await watch.step(phone, "phone-survey-finished")
        width = await phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 320
        await expect(progress).to_have_text("1 finished, 1 started (2 questions)", timeout=10_000)

        progress = await call("GET", f"{base}/sections/{part['id']}/progress")
        assert (progress["finished"], progress["questions"]) == (1, 2)
        await call("POST", f"{base}/sections/{part['id']}/finish")
        await expect(phone.locator("#waiting")).to_contain_text(
            "The next question will appear here by itself"
        )
