"""A real Chromium phone loses its socket, answers while it is away, reloads, and comes back: the
answer is delivered exactly once, with the id it was first sent with, and the phone says so.

Playwright's websocket routing stands between the page and `thirdspace serve`: it passes messages
through, refuses reconnects for a while, and once drops the server's ack (the answer is committed but
the phone never hears so), which is the case that needs the resend to be idempotent."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, WebSocketRoute, expect

from tests.conftest import ServerProcess
from tests.databases import sql
from tests.e2e.conftest import Watch
from tests.e2e.test_browser import _facilitator_api

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(e2e_browser: Browser) -> Browser:
    """The module's Chromium (tests/e2e/conftest.py)."""
    return e2e_browser


def _watch_errors(page: Page, errors: list[str]) -> None:
    """Script errors only: this test provokes refused sockets on purpose, which the harness's `watch`
    would count as failed requests."""

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))


async def _accessible(browser: Browser, server: ServerProcess, page: Page, state: str) -> None:
    """axe-core on this state, as the harness runs it on every other page state (into the same report)."""
    watch = Watch(browser, server, "test_an_answer_made_offline_is_delivered_once_after_reconnect")
    assert await watch.axe(page, state) == [], f"axe: serious or critical on {state}"


class Cable:
    """The phone's socket, through Playwright: `up` passes messages, `down` closes the socket and
    refuses new ones; `drop_next_ack` loses the next answer.ack on its way to the page and cuts."""

    def __init__(self) -> None:
        self.up = True
        self.drop_next_ack = False
        self.routes: list[WebSocketRoute] = []
        self.answers_sent: list[dict[str, Any]] = []
        self.refused = 0

    async def handle(self, ws: WebSocketRoute) -> None:
        if not self.up:
            self.refused += 1
            await ws.close(code=1012, reason="refused by the test")
            return
        self.routes.append(ws)
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            text = message if isinstance(message, str) else message.decode()
            parsed = json.loads(text)
            if parsed.get("type") == "answer":
                self.answers_sent.append(parsed)
            server.send(text)

        def from_server(message: str | bytes) -> None:
            text = message if isinstance(message, str) else message.decode()
            if self.drop_next_ack and json.loads(text).get("type") == "answer.ack":
                self.drop_next_ack = False
                asyncio.get_running_loop().create_task(self.cut())
                return
            ws.send(text)

        ws.on_message(from_page)
        server.on_message(from_server)

    async def cut(self) -> None:
        for route in self.routes:
            await route.close(code=1012, reason="cut by the test")
        self.routes.clear()


def _answers(server: ServerProcess, question_id: str) -> tuple[int, int]:
    """Stored answers to the question and receipts, on whichever database the server runs."""
    url = server.database_url
    ((answers,),) = sql(url, "SELECT count(*) FROM answer WHERE question_id = :q", q=question_id)
    ((receipts,),) = sql(url, "SELECT count(*) FROM answer_receipt")
    return int(answers), int(receipts)


async def test_an_answer_made_offline_is_delivered_once_after_reconnect(
    browser: Browser, server_process: ServerProcess
) -> None:
    server = server_process
    errors: list[str] = []
    http, auth = await _facilitator_api(server)
    try:
        session = (await http.post("/api/sessions", json={"title": "Flaky Wi-Fi"}, headers=auth)).json()
        question = (
            await http.post(
                f"/api/sessions/{session['id']}/questions",
                json={"kind": "choice", "prompt": "Tea or coffee?", "options": ["Tea", "Coffee"]},
                headers=auth,
            )
        ).json()
        base = f"/api/sessions/{session['id']}"
        await http.put(f"{base}/current", json={"question_id": question["id"]}, headers=auth)
        await http.patch(f"{base}/questions/{question['id']}", json={"open": True}, headers=auth)
    finally:
        await http.aclose()

    cable = Cable()
    context = await browser.new_context(base_url=server.http, viewport={"width": 320, "height": 640})
    phone = await context.new_page()
    _watch_errors(phone, errors)
    await phone.route_web_socket(re.compile(r"/ws/participant/"), cable.handle)
    await phone.goto(f"/j/{session['code']}")
    await expect(phone.locator("#prompt")).to_have_text("Tea or coffee?")
    await expect(phone.locator("#conn")).to_have_text("Connected")

    # The connection goes; reconnects are refused; the phone says so, and answers anyway.
    cable.up = False
    await cable.cut()
    await expect(phone.locator("#conn")).to_contain_text("Reconnecting")
    await expect(phone.locator("#conn")).to_have_class(re.compile(r"conn-wait"))
    await phone.get_by_label("Coffee", exact=True).check()
    await phone.click("#send")
    await expect(phone.locator("#answer-status")).to_contain_text("offline")
    await expect(phone.locator("#conn")).to_contain_text("1 answer is waiting")
    await phone.screenshot(path=str(server.base / "reconnecting.png"), full_page=True)
    await _accessible(browser, server, phone, "reconnecting")
    # A reload while away keeps the waiting answer (sessionStorage, keyed by session).
    await phone.reload()
    await expect(phone.locator("#conn")).to_contain_text("1 answer is waiting")
    assert _answers(server, question["id"]) == (0, 0)
    await asyncio.sleep(2)
    assert cable.refused >= 2, "the phone did not try to reconnect while refused"

    # Back, but the first ack is lost on its way: committed on the server, unknown to the phone.
    cable.drop_next_ack = True
    cable.up = True
    # As a phone's network comes back: the page hears "online" and reconnects without waiting out its
    # backoff (socket.js).
    await phone.evaluate("window.dispatchEvent(new Event('online'))")
    # Acknowledged: nothing waits any more, and the phone says the answer is in.
    deadline = asyncio.get_running_loop().time() + 40
    while await phone.evaluate(f"sessionStorage.getItem('ts:pending:{session['id']}')") != "[]":
        assert asyncio.get_running_loop().time() < deadline, "the waiting answer was never acknowledged"
        await asyncio.sleep(0.1)
    await expect(phone.locator("#conn")).to_have_text("Connected")
    await expect(phone.locator("#thanks-heading")).to_have_text("Thanks, your answer is in")
    await _accessible(browser, server, phone, "delivered")

    ids = {a["id"] for a in cable.answers_sent}
    assert len(cable.answers_sent) >= 2, "the answer was not resent after the lost ack"
    assert len(ids) == 1, "a resend must carry the id the answer was first sent with"
    assert _answers(server, question["id"]) == (1, 1)

    http, auth = await _facilitator_api(server)
    try:
        r = await http.patch(
            f"/api/sessions/{session['id']}/questions/{question['id']}", json={"open": False}, headers=auth
        )
        assert r.status_code == 200, r.text
        counts = (
            await http.get(f"/api/sessions/{session['id']}/questions/{question['id']}/results", headers=auth)
        ).json()
        assert counts["n"] == 1
    finally:
        await http.aclose()
    assert errors == []
    await context.close()
