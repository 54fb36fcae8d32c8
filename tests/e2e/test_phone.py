"""The phone's states in a real Chromium at 320 px (issue 8): waiting between questions, the thanks
screen after Send kept after a reload (the server's `answers.mine`, not the tab's memory), "Change my
answer", the closed state with no stale text, "Your answer" marked in shown results; never a sideways
scroll.

It runs on the `watch` harness (tests/e2e/conftest.py): a script error, a console error, a failed or
cross-origin request or a CSP violation on the phone fails it, and axe-core checks each state. With
THIRDSPACE_SCREENSHOTS=<folder> each state is saved there too (docs/screenshots/ holds the set)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from websockets.asyncio.client import connect

from tests.e2e.conftest import Watch
from tests.e2e.doc_shots import shot
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

OPTIONS = [
    "Housing and repairs",
    "Mental health support, including the eight-month waiting list for talking therapies",
    "Work and income",
]


async def state(watch: Watch, phone: Page, name: str) -> None:
    """No sideways scroll at 320 px; axe-core on the state, and its screenshot."""
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{name}: the phone page is {width} px wide at a 320 px viewport"
    await watch.step(phone, f"phone-{name}")
    await shot(phone, f"phone-{name}", full=True)


async def test_phone_states_from_waiting_to_closed(watch: Watch) -> None:
    server = watch.server
    async with httpx.AsyncClient(base_url=server.http) as client:
        r = await client.post(
            "/api/auth/token", data={"username": "facilitator@example.org", "password": PASSWORD}
        )
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}

        async def call(method: str, path: str, body: Any = None) -> Any:
            reply = await client.request(method, path, json=body, headers=auth)
            assert reply.status_code < 400, reply.text
            return reply.json() if reply.content else None

        session = await call(
            "POST", "/api/sessions", {"title": "Community health workshop", "settings": {"min_group": 3}}
        )
        base = f"/api/sessions/{session['id']}"
        question = await call(
            "POST",
            f"{base}/questions",
            {
                "kind": "choice",
                "prompt": "Which area should the partnership work on first?",
                "options": OPTIONS,
            },
        )

        phone = await watch.phone()
        await phone.goto("/")
        await phone.fill("#code", session["code"])
        await phone.click("button[type=submit]")
        await expect(phone).to_have_url(re.compile(rf"/s/{session['id']}$"))
        await phone.get_by_role("button", name="I have noted it").click()

        # Waiting: says what happens next.
        await expect(phone.locator("#waiting")).to_contain_text(
            "The next question will appear here by itself"
        )
        await state(watch, phone, "waiting")

        await call("PUT", f"{base}/current", {"question_id": question["id"]})
        await call("PATCH", f"{base}/questions/{question['id']}", {"open": True})
        await expect(phone.locator("#send")).to_be_enabled()
        await state(watch, phone, "question")
        await phone.get_by_label(OPTIONS[1], exact=True).check()
        await phone.click("#send")
        await expect(phone.locator("#thanks-heading")).to_have_text("Thanks, your answer is in")
        await expect(phone.locator("#thanks-text")).to_have_text(f"You chose: {OPTIONS[1]}.")
        await expect(phone.locator("#answer-form")).to_be_hidden()
        await state(watch, phone, "thanks")

        # After a reload, with this tab's memory gone: the server says what this phone answered.
        await phone.evaluate("sessionStorage.clear()")
        await phone.reload()
        await expect(phone.locator("#thanks-text")).to_have_text(f"You chose: {OPTIONS[1]}.")
        await watch.step(phone, "phone-thanks-after-reload")

        # Change my answer: the form again, with the answer chosen; the new one is in.
        await phone.get_by_role("button", name="Change my answer").click()
        await expect(phone.get_by_label(OPTIONS[1], exact=True)).to_be_checked()
        await phone.get_by_label(OPTIONS[0], exact=True).check()
        await phone.click("#send")
        await expect(phone.locator("#thanks-text")).to_have_text(f"You chose: {OPTIONS[0]}.")

        # Two more people answer over sockets, the results are shown: "Your answer" is marked.
        for pick in (0, 2):
            async with httpx.AsyncClient(base_url=server.http) as fresh:
                token = (await fresh.post("/api/join", json={"code": session["code"]})).json()[
                    "participant_token"
                ]
            async with connect(
                f"{server.ws}/ws/participant/{session['id']}",
                additional_headers={"Authorization": f"Bearer {token}"},
            ) as ws:
                value = {"choices": [question["options"][pick]["id"]]}
                await ws.send(
                    json.dumps(
                        {"type": "answer", "id": "x", "data": {"question_id": question["id"], "value": value}}
                    )
                )
                while json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] != "answer.ack":
                    pass
        await call("PATCH", f"{base}/questions/{question['id']}", {"results_visible": True})
        mine = phone.locator("#result-view .bar.is-mine")
        await expect(mine).to_have_count(1)
        await expect(mine).to_contain_text(OPTIONS[0])
        await expect(mine.locator(".mine-tag")).to_have_text("Your answer")
        await state(watch, phone, "results")

        # Closed: no thanks screen, no "you can change it", only what the person answered.
        await call("PATCH", f"{base}/questions/{question['id']}", {"open": False})
        await expect(phone.locator("#question-note")).to_have_text("This question is closed.")
        await expect(phone.locator("#thanks")).to_be_hidden()
        await expect(phone.locator("#question")).not_to_contain_text("change", use_inner_text=True)
        await expect(phone.locator("#your-answer-text")).to_have_text(f"You chose: {OPTIONS[0]}.")
        await state(watch, phone, "closed")

        await call("PUT", f"{base}/current", {"question_id": None})
        await expect(phone.locator("#waiting")).to_be_visible()
        await watch.step(phone, "phone-waiting-again")
