"""A real Chromium phone loses its socket and answers while it is away; the answer is delivered exactly
once, with the id it was first sent with, and the phone says so. Two orders:

- the issue's (12): the connection goes, the phone answers, the network returns and the phone reloads.
  The worst moment for it is taken on purpose: the page resends as the network returns, the server
  commits the answer, and the reload comes before its ack reaches the page; the reloaded page sends
  the answer again from sessionStorage, and the server changes nothing the second time;
- the phone reloads while still offline (the waiting answer survives the reload), then the network
  returns and the first ack is lost on its way (committed on the server, unknown to the phone), which
  is the case that needs the resend to be idempotent.

Playwright's websocket routing stands between the page and `thirdspace serve`: it passes messages
through, refuses reconnects while the network is "down", and holds or drops the server's ack. Both
tests run on the `watch` harness (tests/e2e/conftest.py): a script error, a console error, a failed or
cross-origin request or a CSP violation fails them, and axe-core checks the offline and delivered
states."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, WebSocketRoute, expect

from tests.conftest import ServerProcess
from tests.databases import sql
from tests.e2e.conftest import Watch
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


class Cable:
    """The phone's socket, through Playwright: `up` passes messages, `down` closes the socket and
    refuses new ones; `drop_next_ack` loses the next answer.ack on its way to the page and cuts;
    `hold_acks` keeps every answer.ack from the page and sets `ack_held`."""

    def __init__(self) -> None:
        self.up = True
        self.drop_next_ack = False
        self.hold_acks = False
        self.ack_held = asyncio.Event()
        self.routes: list[WebSocketRoute] = []
        self.answers_sent: list[dict[str, Any]] = []
        self.refused = 0
        self.refusals = asyncio.Condition()

    async def handle(self, ws: WebSocketRoute) -> None:
        if not self.up:
            await ws.close(code=1012, reason="refused by the test")
            async with self.refusals:
                self.refused += 1
                self.refusals.notify_all()
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
            if json.loads(text).get("type") == "answer.ack":
                if self.hold_acks:
                    self.ack_held.set()
                    return
                if self.drop_next_ack:
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

    async def refused_at_least(self, count: int) -> None:
        async with self.refusals:
            await self.refusals.wait_for(lambda: self.refused >= count)


def _open_question(server: ServerProcess, title: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A session without a sheet and its one choice question, current and open (through the API)."""
    with httpx.Client(base_url=server.http) as http:
        login = {"username": "facilitator@example.org", "password": PASSWORD}
        token = http.post("/api/auth/token", data=login).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        session = http.post("/api/sessions", json={"title": title}).json()
        base = f"/api/sessions/{session['id']}"
        body = {"kind": "choice", "prompt": "Tea or coffee?", "options": ["Tea", "Coffee"]}
        question = http.post(f"{base}/questions", json=body).json()
        assert http.put(f"{base}/current", json={"question_id": question["id"]}).status_code == 200
        assert http.patch(f"{base}/questions/{question['id']}", json={"open": True}).status_code == 200
    return session, question


def _closed_count(server: ServerProcess, session: dict[str, Any], question: dict[str, Any]) -> int:
    """Close the question; the n of its exact result."""
    with httpx.Client(base_url=server.http) as http:
        login = {"username": "facilitator@example.org", "password": PASSWORD}
        token = http.post("/api/auth/token", data=login).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        path = f"/api/sessions/{session['id']}/questions/{question['id']}"
        r = http.patch(path, json={"open": False})
        assert r.status_code == 200, r.text
        return int(http.get(f"{path}/results").json()["n"])


def _answers(server: ServerProcess, question_id: str) -> tuple[int, int]:
    """Stored answers to the question and their receipts, on whichever database the server runs."""
    url = server.database_url
    ((answers,),) = sql(url, "SELECT count(*) FROM answer WHERE question_id = :q", q=question_id)
    ((receipts,),) = sql(url, "SELECT count(*) FROM answer_receipt WHERE question_id = :q", q=question_id)
    return int(answers), int(receipts)


async def _connected_phone(watch: Watch, cable: Cable, session: dict[str, Any]) -> Page:
    phone = await watch.phone()
    await phone.route_web_socket(re.compile(r"/ws/participant/"), cable.handle)
    await phone.goto(f"/j/{session['code']}")
    await expect(phone.locator("#prompt")).to_have_text("Tea or coffee?")
    await expect(phone.locator("#conn")).to_have_text("Connected")
    return phone


async def _answer_offline(watch: Watch, cable: Cable, phone: Page) -> None:
    """The connection goes and reconnects are refused; the phone says so, and answers anyway."""
    cable.up = False
    await cable.cut()
    await expect(phone.locator("#conn")).to_contain_text("Reconnecting")
    await expect(phone.locator("#conn")).to_have_class(re.compile(r"conn-wait"))
    await phone.get_by_label("Coffee", exact=True).check()
    await phone.click("#send")
    await expect(phone.locator("#answer-status")).to_contain_text("offline")
    await expect(phone.locator("#conn")).to_contain_text("1 answer is waiting")
    await watch.step(phone, "reconnecting")


async def _says_it_is_in(phone: Page, session: dict[str, Any]) -> None:
    """The thanks panel shows only once the answer is acknowledged (a waiting one is not thanked)."""
    await expect(phone.locator("#thanks")).to_be_visible()
    await expect(phone.locator("#thanks-heading")).to_have_text("Thanks, your answer is in")
    await expect(phone.locator("#thanks-text")).to_have_text("You chose: Coffee.")
    await expect(phone.locator("#conn")).to_have_text("Connected")
    assert await phone.evaluate(f"sessionStorage.getItem('ts:pending:{session['id']}')") == "[]"


async def test_the_network_returns_then_the_phone_reloads_and_the_answer_is_delivered_once(
    watch: Watch,
) -> None:
    server = watch.server
    session, question = _open_question(server, "Network back, then reload")
    cable = Cable()
    phone = await _connected_phone(watch, cable, session)
    await _answer_offline(watch, cable, phone)
    assert _answers(server, question["id"]) == (0, 0)

    # The network returns: the page hears "online", reconnects and resends; the server commits the
    # answer and acks it, but the ack is held, and the phone reloads before it arrives.
    cable.hold_acks = True
    cable.up = True
    await phone.evaluate("window.dispatchEvent(new Event('online'))")
    await asyncio.wait_for(cable.ack_held.wait(), 30)
    assert _answers(server, question["id"]) == (1, 1)
    assert len(cable.answers_sent) == 1
    cable.hold_acks = False
    await phone.reload()

    # The reloaded page still holds the answer as waiting (no ack reached it) and sends it again under
    # its first id: acknowledged, stored once, and the phone says it is in.
    await _says_it_is_in(phone, session)
    await watch.step(phone, "delivered-after-reload")
    assert len(cable.answers_sent) == 2, "the reloaded page did not send the unacknowledged answer"
    assert len({a["id"] for a in cable.answers_sent}) == 1, "a resend must carry the answer's first id"
    assert _answers(server, question["id"]) == (1, 1)
    assert _closed_count(server, session, question) == 1


async def test_an_answer_made_offline_is_delivered_once_after_reconnect(watch: Watch) -> None:
    server = watch.server
    session, question = _open_question(server, "Flaky Wi-Fi")
    cable = Cable()
    phone = await _connected_phone(watch, cable, session)
    await _answer_offline(watch, cable, phone)

    # A reload while away keeps the waiting answer (sessionStorage, keyed by session).
    await phone.reload()
    await expect(phone.locator("#conn")).to_contain_text("1 answer is waiting")
    await expect(phone.locator("#thanks")).to_be_hidden()
    assert _answers(server, question["id"]) == (0, 0)
    # The page keeps trying (and is refused) while away: once before the reload, once after at least.
    await asyncio.wait_for(cable.refused_at_least(2), 30)

    # Back, but the first ack is lost on its way: committed on the server, unknown to the phone.
    cable.drop_next_ack = True
    cable.up = True
    # As a phone's network comes back: the page hears "online" and reconnects without waiting out its
    # backoff (socket.js).
    await phone.evaluate("window.dispatchEvent(new Event('online'))")
    # Acknowledged on the next connection: nothing waits any more, and the phone says the answer is in.
    await _says_it_is_in(phone, session)
    await watch.step(phone, "delivered")

    ids = {a["id"] for a in cable.answers_sent}
    assert len(cable.answers_sent) >= 2, "the answer was not resent after the lost ack"
    assert len(ids) == 1, "a resend must carry the id the answer was first sent with"
    assert _answers(server, question["id"]) == (1, 1)
    assert _closed_count(server, session, question) == 1
