"""Screenshots of every question kind with realistic content, for the README and the facilitator guide.

`make screenshots` runs this. It serves Thirdspace from a temporary folder as a user would (`thirdspace
migrate`, `user add`, `serve` on a free 127.0.0.1 port), builds a workshop through the public API, lets 14
participants answer over real websockets, and photographs the real pages with Debian's Chromium: the
presenter of each kind at 1280x720 (and the scale at 1920x1080), a 320 px phone filling in each kind, and
the console's moderation list. The answers are seeded: a second run differs only in the join address
and code. Then it runs the room's browser tests (the presenter with short and longest content before
and after k at 1280x720 and 1920x1080, the phone's states at 320 px), which save what they check.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page, async_playwright
from websockets.asyncio.client import ClientConnection, connect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EMAIL = "facilitator@example.org"
PASSWORD = "screenshots only, never used elsewhere"
PHONES = 14
K = 3

# ---------------------------------------------------------------------------------------------
# The workshop

CHOICE = {
    "kind": "choice",
    "prompt": "Which area should the partnership work on first?",
    "options": ["Housing and repairs", "Mental health support", "Work and income", "Safety at night"],
    "comments": True,
}
SCALE = {
    "kind": "scale",
    "prompt": "How far do you agree with each statement?",
    "statements": [
        "I feel heard when decisions are made about my area",
        "I know who to ask for help",
        "Local services work well together",
        "I would recommend the drop-in to a friend",
        "Meetings like this one are a good use of my time",
    ],
    "points": 5,
    "labels": ["Strongly disagree", "Strongly agree"],
}
CLOUD = {"kind": "wordcloud", "prompt": "One word for what community means to you", "max_entries": 3}
OPEN = {"kind": "open", "prompt": "What should we change first?", "moderated": True}
RANKING = {
    "kind": "ranking",
    "prompt": "Rank these priorities for next year",
    "options": [
        "Mental health support",
        "Housing repairs",
        "Youth activities",
        "Transport links",
        "Green spaces",
    ],
}
QA = {"kind": "qa", "prompt": "Questions for the panel"}

WORDS = [
    ("belonging", 9), ("support", 8), ("neighbours", 7), ("Trust", 6), ("home", 6), ("family", 5),
    ("kindness", 5), ("together", 4), ("safety", 4), ("friendship", 3), ("sharing", 3), ("care", 3),
    ("local shops", 3), ("respect", 1), ("library", 1), ("hope", 1),
]  # fmt: skip
ENTRIES = [
    "Evening sessions, so people who work can come.",
    "A single page that says who to call for what.",
    "Stop moving the drop-in day around: people miss it and then stop coming.",
    "Ask young people what they need instead of guessing. They have ideas, and nobody asks them when "
    "decisions are made about the youth centre.",
    "Translate the leaflets into Polish, Urdu and Somali.",
    "Ramps at the community centre entrance.",
    "Pay volunteers' travel costs.",
    "Childcare during meetings.",
    "Keep the library open on Saturdays; it is the only warm, quiet place for many of us.",
]
QUESTIONS = [
    ("How will the money be split between the three neighbourhoods?", 9),
    ("Can the bus route be restored before winter?", 7),
    ("Who decides which projects get funded, and can residents sit on that panel?", 5),
    ("Will there be childcare at the next meeting?", 3),
    ("Is this survey anonymous?", 2),
]
COMMENTS = [
    "Parking is the real problem",
    "Housing first, everything else follows",
    "Thank you for asking us",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`thirdspace serve` in a temporary folder, as the browser tests run it."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.http = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "THIRDSPACE_ENVIRONMENT": "development",
            "THIRDSPACE_DATA_DIR": str(folder),
            "THIRDSPACE_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'thirdspace.db'}",
            "THIRDSPACE_PUBLIC_URL": self.http,
        }
        cli = [sys.executable, "-m", "app.cli"]
        subprocess.run([*cli, "migrate"], env=self.env, check=True, capture_output=True)
        subprocess.run(
            [*cli, "user", "add", EMAIL, "--password-stdin"],
            env=self.env,
            check=True,
            capture_output=True,
            input=PASSWORD + "\n",
            text=True,
        )
        self.log = (folder / "server.log").open("w")
        self.proc = subprocess.Popen(
            [*cli, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{self.http}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit("screenshots: the server did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


class Phone:
    """A participant on a real websocket: each message waits for its ack."""

    ids = itertools.count()

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, kind: str, data: dict[str, Any]) -> None:
        message_id = f"shot-{next(self.ids)}"
        await self.ws.send(json.dumps({"type": kind, "id": message_id, "data": data}))
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
            if message.get("data", {}).get("id") == message_id:
                if not message["type"].endswith(".ack"):
                    raise SystemExit(f"screenshots: {kind} refused: {message}")
                return

    async def answer(self, question: dict[str, Any], value: Any) -> None:
        await self.send("answer", {"question_id": question["id"], "value": value})


class Workshop:
    def __init__(self, server: Server, client: httpx.AsyncClient, auth: dict[str, str]) -> None:
        self.server = server
        self.client = client
        self.auth = auth
        self.session: dict[str, Any] = {}
        self.questions: dict[str, dict[str, Any]] = {}

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        r = await self.client.request(method, path, json=body, headers=self.auth)
        if r.status_code >= 400:
            raise SystemExit(f"screenshots: {method} {path} -> {r.status_code} {r.text}")
        return r.json() if r.content else None

    async def build(self) -> None:
        self.session = await self.call(
            "POST", "/api/sessions", {"title": "Community health workshop", "settings": {"min_group": K}}
        )
        for body in (CHOICE, SCALE, CLOUD, OPEN, RANKING, QA):
            self.questions[str(body["kind"])] = await self.call("POST", f"{self.base}/questions", body)
        await self.patch("qa", results_visible=True)

    @property
    def base(self) -> str:
        return f"/api/sessions/{self.session['id']}"

    async def patch(self, kind: str, **body: Any) -> None:
        await self.call("PATCH", f"{self.base}/questions/{self.questions[kind]['id']}", body)

    async def start(self, kind: str) -> None:
        await self.call("PUT", f"{self.base}/current", {"question_id": self.questions[kind]["id"]})
        await self.patch(kind, open=True)

    async def entries(self, kind: str) -> list[dict[str, Any]]:
        reply = await self.call("GET", f"{self.base}/questions/{self.questions[kind]['id']}/entries")
        return list(reply["entries"])

    async def moderate(self, kind: str, entry: dict[str, Any], **body: Any) -> None:
        question_id = self.questions[kind]["id"]
        await self.call("PATCH", f"{self.base}/questions/{question_id}/entries/{entry['id']}", body)

    async def phones(self) -> list[Phone]:
        phones = []
        ws_base = self.server.http.replace("http://", "ws://")
        for _ in range(PHONES):
            r = await self.client.post("/api/join", json={"code": self.session["code"]})
            token = r.json()["participant_token"]
            ws = await connect(
                f"{ws_base}/ws/participant/{self.session['id']}",
                additional_headers={"Authorization": f"Bearer {token}"},
            )
            phones.append(Phone(ws))
        return phones


async def answer_everything(w: Workshop, kind: str, phones: list[Phone], rnd: random.Random) -> None:
    """Realistic answers from the socket phones for one kind (two of them prefer not to answer)."""
    q = w.questions[kind]
    people = phones[:-2]
    for phone in phones[-2:]:
        await phone.answer(q, None)
    if kind == "choice":
        weights = [6, 4, 2, 1]
        ids = [o["id"] for o in q["options"]]
        for phone in people:
            await phone.answer(q, {"choices": rnd.choices(ids, weights)})
        for phone, text in zip(people, COMMENTS, strict=False):
            await phone.send("comment", {"question_id": q["id"], "text": text})
    elif kind == "scale":
        leanings = [3.9, 2.4, 3.1, 4.3, 3.0]
        for phone in people:
            ratings: dict[str, int | None] = {}
            for statement, lean in zip(q["statements"], leanings, strict=True):
                if rnd.random() < 0.08:
                    continue  # left out
                if rnd.random() < 0.05:
                    ratings[statement["id"]] = None
                    continue
                ratings[statement["id"]] = max(1, min(5, round(rnd.gauss(lean, 1.0))))
            await phone.answer(q, {"ratings": ratings})
    elif kind == "wordcloud":
        pool = [word for word, weight in WORDS for _ in range(weight)]
        for phone in people:
            picked: list[str] = []
            while len(picked) < 3:
                word = rnd.choice(pool)
                if word.lower() not in (p.lower() for p in picked):
                    picked.append(word)
            await phone.answer(q, {"words": picked})
    elif kind == "open":
        for phone, text in zip(itertools.cycle(people), ENTRIES, strict=False):
            await phone.answer(q, {"text": text})
    elif kind == "ranking":
        ids = [o["id"] for o in q["options"]]
        for phone in people:
            order = sorted(ids, key=lambda i: ids.index(i) + rnd.gauss(0, 1.4))
            await phone.answer(q, {"order": order})
    elif kind == "qa":
        for phone, (text, _) in zip(people, QUESTIONS, strict=False):
            await phone.answer(q, {"text": text})


async def votes_and_moderation(w: Workshop, kind: str, phones: list[Phone]) -> None:
    if kind == "open":
        for entry in await w.entries("open"):
            hide = entry["text"].startswith("Pay volunteers")
            await w.moderate("open", entry, status="hidden" if hide else "approved")
    if kind == "choice":
        await w.patch("choice", show_comments=True)
    if kind == "qa":
        listed = {e["text"]: e for e in await w.entries("qa")}
        question_id = w.questions["qa"]["id"]
        for asker, (text, votes) in enumerate(QUESTIONS):
            # Everyone but the asker (phone i asked question i): nobody upvotes their own question.
            voters = [phone for i, phone in enumerate(phones) if i != asker][:votes]
            for phone in voters:
                await phone.send("upvote", {"question_id": question_id, "entry_id": listed[text]["id"]})
        await w.moderate("qa", listed[QUESTIONS[0][0]], highlighted=True)
        await w.moderate("qa", listed[QUESTIONS[3][0]], answered=True)


async def fill_phone(phone: Page, kind: str) -> None:
    """What one person is about to send, on a 320 px phone."""
    if kind == "choice":
        await phone.get_by_label("Mental health support", exact=True).check()
        await phone.fill("#comment-text", "The waiting list is eight months long.")
    elif kind == "scale":
        for index, point in [(0, "4"), (1, "2"), (2, "decline"), (3, "5")]:
            item = phone.locator("fieldset.scale-item").nth(index)
            await item.locator(f'input[value="{point}"]').check()
    elif kind == "wordcloud":
        await phone.fill("#word-0", "Belonging")
        await phone.fill("#word-1", "neighbours")
    elif kind == "open":
        await phone.fill("#open-text", "A bench by the bus stop on Mill Road.")
        await phone.click("#send")
        await phone.locator("#sent-list li").first.wait_for()
        await phone.fill("#open-text", "Longer opening hours at the drop-in.")
    elif kind == "ranking":
        for option in ["Housing repairs", "Mental health support", "Youth activities"]:
            await phone.locator(".rank-pool").get_by_role("button", name=f"Add {option}", exact=False).click()
    elif kind == "qa":
        await phone.fill("#qa-text", "Will the slides be shared afterwards?")


async def shoot(server: Server, out: Path) -> None:
    rnd = random.Random(7)
    async with httpx.AsyncClient(base_url=server.http) as client, async_playwright() as pw:
        r = await client.post("/api/auth/token", data={"username": EMAIL, "password": PASSWORD})
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        w = Workshop(server, client, auth)
        await w.build()
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        await photograph(browser, w, out, rnd)
        await browser.close()


async def photograph(browser: Browser, w: Workshop, out: Path, rnd: random.Random) -> None:
    facilitator = await browser.new_context(base_url=w.server.http, viewport={"width": 1280, "height": 720})
    page = await facilitator.new_page()
    await page.goto("/login?next=/console")
    await page.fill("#username", EMAIL)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/console")
    await page.goto(f"/presenter/{w.session['id']}")
    presenter = page

    phone_context = await browser.new_context(viewport={"width": 320, "height": 640})
    phone = await phone_context.new_page()
    await phone.goto(w.session["join_url"])
    await phone.wait_for_url("**/s/*")

    phones = await w.phones()
    for kind, question in w.questions.items():
        await w.start(kind)
        await phone.locator("#prompt", has_text=question["prompt"]).wait_for()
        if kind == "choice":
            await presenter.locator("#k-notice").wait_for()
            await presenter.screenshot(path=out / "presenter-before-k.png")
        await answer_everything(w, kind, phones, rnd)
        await votes_and_moderation(w, kind, phones)
        await fill_phone(phone, kind)
        await phone.wait_for_timeout(300)
        await phone.screenshot(path=out / f"phone-{kind}.png", full_page=True)
        if kind == "open":
            console = await facilitator.new_page()
            await console.set_viewport_size({"width": 1280, "height": 1000})
            await console.goto(f"/console/{w.session['id']}")
            await console.locator("#mod-entries li").first.wait_for()
            await console.locator("#moderation").screenshot(path=out / "console-moderation.png")
            await console.close()
        await w.patch(kind, open=False)
        await presenter.locator("#state-badge", has_text="Closed").wait_for()
        await presenter.wait_for_timeout(500)
        await presenter.screenshot(path=out / f"presenter-{kind}.png")
        if kind == "scale":
            await presenter.set_viewport_size({"width": 1920, "height": 1080})
            await presenter.wait_for_timeout(500)
            await presenter.screenshot(path=out / "presenter-scale-1080p.png")
            await presenter.set_viewport_size({"width": 1280, "height": 720})
    for p in phones:
        await p.ws.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--out", default="docs/screenshots", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="thirdspace-shots-") as folder:
        server = Server(Path(folder))
        try:
            asyncio.run(shoot(server, args.out))
        finally:
            server.stop()
    room_shots(args.out)
    print(f"screenshots: written to {args.out}")


# The browser tests of the room (issue 8) photograph what they check: the presenter with short and
# long options (a 500-character prompt, ten 200-character options) before and after k at 1280x720 and
# 1920x1080, its dark theme, and the phone's states at 320 px.
ROOM_TESTS = ["tests/e2e/test_presenter.py", "tests/e2e/test_phone.py", "tests/e2e/test_survey_phone.py"]


def room_shots(out: Path) -> None:
    env = {**os.environ, "THIRDSPACE_SCREENSHOTS": str(out.resolve())}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *ROOM_TESTS], env=env
    )
    if done.returncode != 0:
        raise SystemExit("screenshots: the room's browser tests failed; their screenshots may be missing")


if __name__ == "__main__":
    main()
