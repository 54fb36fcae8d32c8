"""The presenter with the longest content allowed, in a real Chromium at 1280x720, 1920x1080 and 4K: a
500-character prompt and ten 200-character options. Every option label shown and the chart stay inside
the viewport and do not overlap (bounding boxes), before k and after it; options that cannot fit are
paged, and every page is measured. The live count of responses moves before k; the join strip never
breaks inside a word; the keys work.

It runs on the `watch` harness (tests/e2e/conftest.py): a script error, a console error, a failed or
cross-origin request or a CSP violation on the presenter fails it, and axe-core checks each state at
each size. With THIRDSPACE_SCREENSHOTS=<folder> the test saves each state there too (docs/screenshots/
holds the set)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import ServerProcess
from tests.e2e.conftest import Watch
from tests.e2e.doc_shots import SHOTS
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

K = 3
LONG_PROMPT = (
    "Thinking about the last twelve months in your neighbourhood, and about the services you or the "
    "people you care for have used, which of the following areas should the partnership put first "
    "when it plans the work for next year, bearing in mind that money is limited, that some changes "
    "take years to show, and that the choice made today will shape what the council funds, what the "
    "health board asks of local teams and what volunteers are asked to do? Choose the single area that "
    "matters most to you now."
)
LONG_OPTIONS = [
    f"{topic}: " + ("more staff, longer opening hours, shorter waits and a named person to call " * 4)
    for topic in (
        "Housing and repairs",
        "Mental health support",
        "Work, income and debt advice",
        "Safety at night",
        "Transport and bus routes",
        "Youth activities",
        "Green spaces and play areas",
        "Care for older people",
        "Food banks and community meals",
        "Loneliness and isolation",
    )
]
LONG_OPTIONS = [text[:197].rstrip() + "..." for text in LONG_OPTIONS]
SHORT_OPTIONS = ["Housing", "Health", "Work", "Safety"]


class Room:
    """The facilitator's API and k phones on real websockets."""

    def __init__(self, server: ServerProcess, client: httpx.AsyncClient, auth: dict[str, str]) -> None:
        self.server = server
        self.client = client
        self.auth = auth
        self.session: dict[str, Any] = {}

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        r = await self.client.request(method, path, json=body, headers=self.auth)
        assert r.status_code < 400, r.text
        return r.json() if r.content else None

    @property
    def base(self) -> str:
        return f"/api/sessions/{self.session['id']}"

    async def question(self, prompt: str, options: list[str]) -> dict[str, Any]:
        q = await self.call(
            "POST", f"{self.base}/questions", {"kind": "choice", "prompt": prompt, "options": options}
        )
        await self.call("PUT", f"{self.base}/current", {"question_id": q["id"]})
        await self.call("PATCH", f"{self.base}/questions/{q['id']}", {"open": True})
        return dict(q)

    async def phone(self) -> ClientConnection:
        # One join at a time: the join cookie would make concurrent joins race.
        async with httpx.AsyncClient(base_url=self.server.http) as fresh:
            r = await fresh.post("/api/join", json={"code": self.session["code"]})
        token = r.json()["participant_token"]
        return await connect(
            f"{self.server.ws}/ws/participant/{self.session['id']}",
            additional_headers={"Authorization": f"Bearer {token}"},
        )


async def answer(ws: ClientConnection, question: dict[str, Any], value: Any, message_id: str) -> None:
    await ws.send(
        json.dumps(
            {"type": "answer", "id": message_id, "data": {"question_id": question["id"], "value": value}}
        )
    )
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if message.get("data", {}).get("id") == message_id:
            assert message["type"] == "answer.ack", message
            return


BOXES_JS = """() => {
  const box = (n) => {
    const r = n.getBoundingClientRect();
    return {x: r.left, y: r.top, w: r.width, h: r.height};
  };
  const shown = (n) => n && n.getClientRects().length > 0;
  const bars = Array.from(document.querySelectorAll('#view .bar')).filter(shown);
  const labels = bars.map((bar) => {
    const track = bar.querySelector('.bar-track');
    const value = bar.querySelector('.bar-value');
    return {
      label: box(bar.querySelector('.bar-label')),
      track: shown(track) ? box(track) : null,
      value: shown(value) ? box(value) : null,
      text: bar.querySelector('.bar-label').textContent,
    };
  });
  const others = ['#prompt', '#k-notice', '#page-note', '.stage-bottom', '.join-strip']
    .map((s) => document.querySelector(s)).filter(shown)
    .map((n) => ({sel: n.id || n.className, ...box(n)}));
  const root = document.documentElement;
  return {labels, others, chart: box(document.querySelector('#view')), vw: innerWidth, vh: innerHeight,
          scrollW: root.scrollWidth, scrollH: root.scrollHeight};
}"""


def inside(b: dict[str, float], vw: float, vh: float) -> bool:
    return b["x"] >= -0.5 and b["y"] >= -0.5 and b["x"] + b["w"] <= vw + 0.5 and b["y"] + b["h"] <= vh + 0.5


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["w"] - 0.5
        and b["x"] < a["x"] + a["w"] - 0.5
        and a["y"] < b["y"] + b["h"] - 0.5
        and b["y"] < a["y"] + a["h"] - 0.5
    )


async def check_layout(page: Page, *, chart_drawn: bool) -> set[str]:
    """Every shown label, track and value and the chart box are inside the viewport and apart; the
    labels shown (this page of them)."""
    m = await page.evaluate(BOXES_JS)
    vw, vh = m["vw"], m["vh"]
    assert m["scrollW"] <= vw and m["scrollH"] <= vh, f"the page scrolls: {m['scrollW']}x{m['scrollH']}"
    assert inside(m["chart"], vw, vh), m["chart"]
    assert m["labels"], "no option is shown"
    parts: list[tuple[str, dict[str, float]]] = []
    for i, bar in enumerate(m["labels"]):
        parts.append((f"label {i}", bar["label"]))
        if chart_drawn:
            assert bar["track"] is not None and bar["value"] is not None, f"bar {i} is not drawn"
            parts += [(f"track {i}", bar["track"]), (f"value {i}", bar["value"])]
        else:
            assert bar["track"] is None, f"bar {i} is drawn before k"
    for name, b in parts:
        assert inside(b, vw, vh), f"{name} leaves the {vw}x{vh} screen: {b}"
        assert b["y"] + b["h"] <= m["chart"]["y"] + m["chart"]["h"] + 0.5, f"{name} leaves the chart box"
    for i, (name_a, a) in enumerate(parts):
        for name_b, b in parts[i + 1 :]:
            assert not overlap(a, b), f"{name_a} overlaps {name_b}: {a} {b}"
        for other in m["others"]:
            assert not overlap(a, other), f"{name_a} overlaps {other['sel']}: {a} {other}"
    return {bar["text"] for bar in m["labels"]}


async def every_page(page: Page, options: list[str], *, chart_drawn: bool) -> int:
    """Measure each page of options until every option was shown; the number of pages."""
    seen: set[str] = set()
    pages = 0
    while seen != set(options):
        before = (
            await page.locator("#page-note").text_content()
            if await page.locator("#page-note").is_visible()
            else ""
        )
        seen |= await check_layout(page, chart_drawn=chart_drawn)
        pages += 1
        if seen == set(options):
            break
        assert before, f"only {len(seen)} of {len(options)} options shown and no pages"
        # The next page turns by itself (8 s).
        await expect(page.locator("#page-note")).not_to_have_text(before, timeout=12_000)
        assert pages <= len(options)
    return pages


@asynccontextmanager
async def presenter_of_new_session(
    watch: Watch, title: str, width: int, height: int
) -> AsyncIterator[tuple[Room, Page]]:
    """A new session of k = K, and its presenter logged in and connected at this size."""
    async with httpx.AsyncClient(base_url=watch.server.http) as client:
        r = await client.post(
            "/api/auth/token", data={"username": "facilitator@example.org", "password": PASSWORD}
        )
        room = Room(watch.server, client, {"Authorization": f"Bearer {r.json()['access_token']}"})
        room.session = await room.call(
            "POST", "/api/sessions", {"title": title, "settings": {"min_group": K}}
        )
        page = await watch.new_page(viewport={"width": width, "height": height})
        await page.goto("/login?next=/presenter/" + room.session["id"])
        await page.fill("#username", "facilitator@example.org")
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit]")
        await expect(page.locator("#conn")).to_have_text("Connected")
        yield room, page


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (3840, 2160)], ids=["720p", "1080p", "4k"])
async def test_longest_content_fits_before_and_after_k(watch: Watch, size: tuple[int, int]) -> None:
    width, height = size
    assert len(LONG_PROMPT) == 500, "the longest prompt the server takes (Prompt in app/polls/schemas.py)"
    server = watch.server
    async with presenter_of_new_session(watch, "Longest content", width, height) as (room, page):
        # The join strip: no scheme, never broken inside a word.
        strip = await page.locator(".join-strip").inner_text()
        assert "http://" not in strip and f"127.0.0.1:{server.port}" in strip
        host_box = await page.locator(".join-strip .join-host").evaluate(
            "n => Array.from(n.querySelectorAll('.nowrap')).map(p => p.getClientRects().length)"
        )
        assert all(rects == 1 for rects in host_box), "a part of the join address wraps inside itself"

        question = await room.question(LONG_PROMPT, LONG_OPTIONS)
        await expect(page.locator("#prompt")).to_have_text(LONG_PROMPT)
        await expect(page.locator("#k-notice")).to_have_text(
            f"Results appear at {K} answers, to protect anonymity."
        )
        await expect(page.locator("#responses")).to_have_text("0 responses received")
        await page.wait_for_timeout(400)
        await every_page(page, LONG_OPTIONS, chart_drawn=False)
        await watch.step(page, f"presenter-long-before-k-{height}p", full=False)
        if SHOTS is not None and height < 2000:
            await page.screenshot(path=str(SHOTS / f"presenter-long-before-k-{height}p.png"))

        # The live count moves one by one before k (a decline counts too), the chart does not.
        phones = [await room.phone() for _ in range(K + 2)]
        await expect(page.locator("#presence")).to_have_text(f"{K + 2} people joined")
        await answer(phones[0], question, {"choices": [question["options"][0]["id"]]}, "a0")
        await expect(page.locator("#responses")).to_have_text("1 response received")
        await answer(phones[1], question, None, "a1")
        await expect(page.locator("#responses")).to_have_text("2 responses received")
        await expect(page.locator("#view .bar-track").first).to_be_hidden()

        # k participants changed: the step shows 2 answers, still fewer than k, so still hidden.
        await answer(phones[2], question, {"choices": [question["options"][1]["id"]]}, "a2")
        await expect(page.locator("#responses")).to_have_text("3 responses received")
        await page.wait_for_timeout(300)
        await expect(page.locator("#k-notice")).to_be_visible()
        for i, ws in ((3, phones[3]), (4, phones[4]), (1, phones[1])):
            await answer(ws, question, {"choices": [question["options"][i % 2]["id"]]}, f"b{i}")
        await expect(page.locator("#k-notice")).to_be_hidden()
        await expect(page.locator("#responses")).to_have_text("5 responses received")
        await page.wait_for_timeout(400)
        await every_page(page, LONG_OPTIONS, chart_drawn=True)
        await watch.step(page, f"presenter-long-after-k-{height}p", full=False)
        if SHOTS is not None and height < 2000:
            await page.screenshot(path=str(SHOTS / f"presenter-long-after-k-{height}p.png"))

        # Short options: one page, large.
        short = await room.question("Which area matters most?", SHORT_OPTIONS)
        await expect(page.locator("#prompt")).to_have_text("Which area matters most?")
        await page.wait_for_timeout(400)
        assert await every_page(page, SHORT_OPTIONS, chart_drawn=False) == 1
        await watch.step(page, f"presenter-short-before-k-{height}p", full=False)
        if SHOTS is not None and height < 2000:
            await page.screenshot(path=str(SHOTS / f"presenter-short-before-k-{height}p.png"))
        for i, ws in enumerate(phones):
            await answer(ws, short, {"choices": [short["options"][i % 2]["id"]]}, f"s{i}")
        # Closed, the result is exact (while open, the k step may stop at 3 or 4 of the 5).
        await room.call("PATCH", f"{room.base}/questions/{short['id']}", {"open": False})
        await expect(page.locator("#view .bar-value").first).to_have_text("3 (60%)")
        assert await every_page(page, SHORT_OPTIONS, chart_drawn=True) == 1
        await watch.step(page, f"presenter-short-after-k-{height}p", full=False)
        if SHOTS is not None and height < 2000:
            await page.screenshot(path=str(SHOTS / f"presenter-short-after-k-{height}p.png"))

        # Keys: H hides the result on this screen, Q shows the QR large, D the dark theme, arrows move.
        await page.keyboard.press("h")
        await expect(page.locator("#view .bar-track").first).to_be_hidden()
        await expect(page.locator("#k-notice")).to_contain_text("Results are hidden on this screen")
        await page.keyboard.press("h")
        await expect(page.locator("#view .bar-track").first).to_be_visible()
        await page.keyboard.press("q")
        await expect(page.locator("#qr-big")).to_be_visible()
        await page.keyboard.press("q")
        await expect(page.locator("#qr-big")).to_be_hidden()
        await page.keyboard.press("d")
        await expect(page.locator("body")).to_have_class("page page-presenter theme-dark")
        await watch.step(page, f"presenter-dark-{height}p", full=False)
        if SHOTS is not None and height == 720:
            await page.screenshot(path=str(SHOTS / "presenter-dark-720p.png"))
        await page.keyboard.press("ArrowLeft")
        await expect(page.locator("#prompt")).to_have_text(LONG_PROMPT)
        await page.keyboard.press("ArrowRight")
        await expect(page.locator("#prompt")).to_have_text("Which area matters most?")
        for ws in phones:
            await ws.close()


async def test_a_question_current_but_not_open_and_full_screen(watch: Watch) -> None:
    """A question made current without being opened shows its options and no k notice (nothing is
    counted yet); opened, the notice comes. F enters full screen and the controls are hidden; F again
    leaves it. Headless Chromium enters real full screen (`document.fullscreenElement` is the page), so
    this asserts that state and what the page's `:fullscreen` rule does with it (the controls are not
    displayed), not only a class the page sets."""
    async with presenter_of_new_session(watch, "Not open yet", 1280, 720) as (room, page):
        # Open: the k notice says when results appear.
        await room.question("Open now?", SHORT_OPTIONS)
        await expect(page.locator("#k-notice")).to_have_text(
            f"Results appear at {K} answers, to protect anonymity."
        )

        # Another question made current without opening it: its options, no notice.
        later = await room.call(
            "POST",
            f"{room.base}/questions",
            {"kind": "choice", "prompt": "Not yet?", "options": ["Yes", "No"]},
        )
        await room.call("PUT", f"{room.base}/current", {"question_id": later["id"]})
        await expect(page.locator("#prompt")).to_have_text("Not yet?")
        await expect(page.locator("#state-badge")).to_have_text("Not open yet")
        await expect(page.locator("#view .bar-label")).to_have_text(["Yes", "No"])
        await expect(page.locator("#k-notice")).to_be_hidden()
        await page.wait_for_timeout(500)  # results of the question arriving late do not bring it back
        await expect(page.locator("#k-notice")).to_be_hidden()
        await watch.step(page, "presenter-current-not-open", full=False)

        # F: full screen without the controls; F again: back, with them.
        await expect(page.locator("#controls")).to_be_visible()
        await page.keyboard.press("f")
        await page.wait_for_function("document.fullscreenElement === document.documentElement")
        await expect(page.locator("#controls")).to_be_hidden()
        await expect(page.locator("#fullscreen")).to_contain_text("Exit full screen")
        await expect(page.locator("#prompt")).to_be_visible()
        await watch.step(page, "presenter-full-screen", full=False)
        await page.keyboard.press("f")
        await page.wait_for_function("document.fullscreenElement === null")
        await expect(page.locator("#controls")).to_be_visible()
        await expect(page.locator("#fullscreen")).to_contain_text("Full screen")
