"""The bare baseline: a minimal FastAPI websocket server with the same route shapes as Thirdspace and
nothing behind them: no database, no authentication, no aggregation beyond a per-question counter, no
k rule. It shows what FastAPI + uvicorn + the harness cost on this machine, so Thirdspace's figures can
be read as a ratio to it.

Run: ``python -m bench.bare --port 8001``. It is served with the settings ``thirdspace serve`` uses
(``app.cli.SERVER_OPTIONS``, imported, so the two cannot drift apart):
uvicorn with uvloop, httptools and websockets-sansio, access log off, websocket messages up to 64 KiB, no
per-message deflate, pings every 30 s, backlog 4096, and ``gc.freeze()`` after start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.cli import SERVER_OPTIONS

RESULTS_TICK_SECONDS = 0.1
PRESENCE_TICK_SECONDS = 1.0


class JoinIn(BaseModel):
    code: str


class BareSession:
    def __init__(self, sid: str, code: str, title: str, settings: dict[str, Any]) -> None:
        self.id = sid
        self.code = code
        self.title = title
        self.settings = settings
        self.questions: dict[str, dict[str, Any]] = {}
        self.current: str | None = None
        self.phones: set[WebSocket] = set()
        self.presenters: set[WebSocket] = set()
        # question id -> participant token -> option ids: the answer kept, replaced by a newer one
        self.answers: dict[str, dict[str, list[str]]] = {}
        # question id -> option id -> count, kept up to date answer by answer (no aggregation pass)
        self.counts: dict[str, dict[str, int]] = {}
        self.dirty: set[str] = set()
        self.seq = 0
        self.presence_sent = -1

    def envelope(self, type_: str, data: Any, *, seq: bool = True) -> str:
        body: dict[str, Any] = {"type": type_, "data": data}
        if seq:
            self.seq += 1
            body["seq"] = self.seq
        return json.dumps(body, separators=(",", ":"))

    def current_question(self) -> dict[str, Any] | None:
        return self.questions.get(self.current) if self.current else None

    def record(self, qid: str, token: str, choices: list[str]) -> None:
        answers = self.answers.setdefault(qid, {})
        counts = self.counts.setdefault(qid, {})
        for oid in answers.get(token, ()):
            counts[oid] -= 1
        answers[token] = choices
        for oid in choices:
            counts[oid] = counts.get(oid, 0) + 1
        self.dirty.add(qid)

    def results(self, qid: str) -> dict[str, Any]:
        counts = {o["id"]: 0 for o in self.questions[qid]["options"]}
        counts.update(self.counts.get(qid, {}))
        n = len(self.answers.get(qid, ()))
        return {"question_id": qid, "n": n, "hidden": False, "summary": {"counts": counts, "declined": 0}}


class Bare:
    """All the state the bare server has: sessions in a dict."""

    def __init__(self) -> None:
        self.sessions: dict[str, BareSession] = {}
        self.by_code: dict[str, BareSession] = {}
        self._next = 0

    def new_id(self, prefix: str) -> str:
        self._next += 1
        return f"{prefix}{self._next}"


async def _send_all(sockets: set[WebSocket], text: str) -> None:
    for ws in tuple(sockets):
        try:
            await ws.send_text(text)
        except (WebSocketDisconnect, RuntimeError):
            sockets.discard(ws)


async def _ticker(bare: Bare) -> None:
    """Results to presenters at most every 100 ms per question, presence at most once a second."""
    last_presence = 0.0
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(RESULTS_TICK_SECONDS)
        presence_due = loop.time() - last_presence >= PRESENCE_TICK_SECONDS
        if presence_due:
            last_presence = loop.time()
        for session in tuple(bare.sessions.values()):
            dirty, session.dirty = session.dirty, set()
            for qid in dirty:
                await _send_all(session.presenters, session.envelope("poll.results", session.results(qid)))
            if presence_due and len(session.phones) != session.presence_sent:
                session.presence_sent = len(session.phones)
                text = session.envelope("presence", {"participants": len(session.phones)})
                await _send_all(session.presenters, text)


def create_app() -> FastAPI:
    bare = Bare()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_ticker(bare))
        # As Thirdspace does: what start-up built stays out of the collector's way.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    def session_or_404(sid: str) -> BareSession:
        session = bare.sessions.get(sid)
        if session is None:
            raise LookupError(sid)
        return session

    @app.exception_handler(LookupError)
    async def not_found(request: Request, exc: LookupError) -> JSONResponse:
        return JSONResponse({"error": {"code": "not_found", "message": "Not found."}}, status_code=404)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/auth/token")
    async def token() -> dict[str, Any]:
        return {"access_token": "bare", "token_type": "bearer", "expires_in": 3600}

    @app.post("/api/sessions", status_code=201)
    async def create_session(body: dict[str, Any]) -> dict[str, Any]:
        sid = bare.new_id("s")
        code = f"{secrets.randbelow(10**8):08d}"
        session = BareSession(sid, code, str(body.get("title", "")), dict(body.get("settings") or {}))
        bare.sessions[sid] = session
        bare.by_code[code] = session
        return {"id": sid, "code": code, "title": session.title, "settings": session.settings}

    @app.post("/api/sessions/{sid}/questions", status_code=201)
    async def create_question(sid: str, body: dict[str, Any]) -> dict[str, Any]:
        session = session_or_404(sid)
        qid = bare.new_id("q")
        question = {
            "id": qid,
            "kind": body.get("kind", "choice"),
            "prompt": body.get("prompt", ""),
            "open": False,
            "closed": False,
            "results_visible": False,
            "options": [{"id": bare.new_id("o"), "label": str(label)} for label in body.get("options", [])],
            "multiple": bool(body.get("multiple", False)),
            # A scale's statements and a word cloud's limit, so phones can answer them; bare counts
            # only chosen options (its answers are stored and acked, whatever their kind).
            "statements": [{"id": bare.new_id("s"), "text": str(t)} for t in body.get("statements", [])],
            "points": int(body.get("points", 5)),
            "max_entries": int(body.get("max_entries", 3)),
        }
        session.questions[qid] = question
        return question

    async def state_changed(session: BareSession) -> None:
        text = session.envelope("session.state", {"current": session.current_question()})
        await _send_all(session.phones, text)
        await _send_all(session.presenters, text)

    @app.patch("/api/sessions/{sid}/questions/{qid}")
    async def patch_question(sid: str, qid: str, body: dict[str, Any]) -> dict[str, Any]:
        session = session_or_404(sid)
        question = session.questions.get(qid)
        if question is None:
            raise LookupError(qid)
        if body.get("open") is True:
            question["open"] = True
        elif body.get("open") is False:
            question["open"] = False
            question["closed"] = True
            session.dirty.add(qid)
        if "results_visible" in body:
            question["results_visible"] = bool(body["results_visible"])
        if session.current == qid:
            await state_changed(session)
        return question

    @app.put("/api/sessions/{sid}/current")
    async def put_current(sid: str, body: dict[str, Any]) -> dict[str, Any]:
        session = session_or_404(sid)
        qid = body.get("question_id")
        if qid is not None and qid not in session.questions:
            raise LookupError(qid)
        session.current = qid
        await state_changed(session)
        return {"current": qid}

    @app.post("/api/join")
    async def join(body: JoinIn) -> dict[str, Any]:
        session = bare.by_code.get(body.code)
        if session is None:
            raise LookupError(body.code)
        return {
            "participant_token": secrets.token_urlsafe(24),
            "session": {"id": session.id, "title": session.title},
            "consent": {"required": False, "text": None, "version": None},
        }

    @app.websocket("/ws/participant/{sid}")
    async def participant(ws: WebSocket, sid: str) -> None:
        await ws.accept()
        session = bare.sessions.get(sid)
        if session is None:
            await ws.close(1008)
            return
        token = ws.headers.get("authorization", "")
        await ws.send_text(
            session.envelope("session.state", {"current": session.current_question(), "snapshot": True})
        )
        session.phones.add(ws)
        try:
            while True:
                msg = json.loads(await ws.receive_text())
                if msg.get("type") != "answer":
                    await ws.send_text(
                        session.envelope("error", {"code": "unknown_type", "message": "?"}, seq=False)
                    )
                    continue
                data = msg["data"]
                qid = data["question_id"]
                session.record(qid, token, list((data.get("value") or {}).get("choices", [])))
                await ws.send_text(session.envelope("answer.ack", {"id": msg["id"]}, seq=False))
        except WebSocketDisconnect:
            pass
        finally:
            session.phones.discard(ws)

    @app.websocket("/ws/presenter/{sid}")
    async def presenter(ws: WebSocket, sid: str) -> None:
        await ws.accept()
        session = bare.sessions.get(sid)
        if session is None:
            await ws.close(1008)
            return
        await ws.send_text(
            session.envelope("session.state", {"current": session.current_question(), "snapshot": True})
        )
        if session.current:
            await ws.send_text(session.envelope("poll.results", session.results(session.current)))
        session.presenters.add(ws)
        try:
            while True:
                await ws.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            session.presenters.discard(ws)

    return app


def _trace_gc() -> None:
    """Debugging aid: print every garbage-collection pause over 10 ms."""
    started: list[float] = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pause = time.perf_counter() - started[0]
            if pause > 0.01:
                print(f"{time.time():.3f} gc gen{info['generation']} pause {pause * 1000:.0f} ms", flush=True)

    gc.callbacks.append(callback)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bare", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    if os.environ.get("BENCH_TRACE_DIR"):
        _trace_gc()
    uvicorn.run(
        create_app(),
        host=args.host,
        port=args.port,
        log_level="warning",
        **SERVER_OPTIONS,
    )


if __name__ == "__main__":
    main()
