"""Phones: worker processes that each hold a share of the participants and speak only the public contract.

Each worker runs its own uvloop event loop and is driven by the orchestrator over a pipe: ``join``
(HTTP ``POST /api/join`` then the participant socket, until its ``session.state`` snapshot arrives),
``load_start``/``load_stop`` (a paced stream of answers, one per phone per question, at the worker's share
of the target rate), ``seen`` (when each phone got ``session.state`` naming a question: the fan-out),
``peak`` (closed-loop answers with a fixed number in flight) and ``close``.

Latencies within one process use ``time.perf_counter``; times compared across processes (answer send
times against the presenter's receive times, fan-out arrival against the facilitator's PUT) use
``time.time`` (CLOCK_REALTIME), which every process on the machine shares.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import random
import resource
import time
from collections import Counter, deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.http1 import Http1Pool
from bench.ipc import EOF_MARK, AsyncConn

# Debugging aid: with BENCH_TRACE_DIR set, each worker writes (send time, ack latency) of every answer.
TRACE_DIR = os.environ.get("BENCH_TRACE_DIR", "")


def raise_nofile_limit() -> int:
    """Raise this process's open-file soft limit to its hard limit; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    return soft


def socket_kwargs(timeout: float) -> dict[str, Any]:
    """The client settings of every benchmark socket (the same for phones and the presenter)."""
    return {
        "compression": None,  # no per-message deflate: the server turns it off too
        "max_size": 2**16,
        "ping_interval": None,  # load clients do not ping; the server's own keepalive still runs
        "proxy": None,  # 127.0.0.1 only, whatever the environment says
        "open_timeout": timeout,
        "close_timeout": 2,
        # origin stays None: no Origin header, as a non-browser client sends
    }


# Words for word-cloud answers: common ones in the spellings a room types (case, plurals), so answers
# converge as a real room's do and normalisation sees repeats as well as new spellings.
_CLOUD_WORDS = (
    "community trust care belonging home friends family safety support respect kindness hope neighbours "
    "sharing together help listening fairness health food music sport nature parks library school work "
    "money housing transport buses streets shops church culture history language youth elders children "
    "volunteers events festival market garden river green clean quiet noise crime police council voice "
    "equality inclusion diversity welcome openness honesty patience time energy fun laughter art"
).split()
_CLOUD_SPELLINGS = tuple(
    spelling for word in _CLOUD_WORDS for spelling in (word, word.title(), word.upper(), f"{word}s")
)


def answer_maker(question: dict[str, Any], rng: random.Random) -> Callable[[], dict[str, Any]]:
    """A function that makes a fresh random answer to this question, by its kind."""
    return ANSWER_MAKERS[str(question["kind"])](question, rng)


def _choice(question: dict[str, Any], rng: random.Random) -> Callable[[], dict[str, Any]]:
    options = [str(o["id"]) for o in question.get("options", [])]
    return lambda: {"choices": [rng.choice(options)]}


def _scale(question: dict[str, Any], rng: random.Random) -> Callable[[], dict[str, Any]]:
    statements = [str(s["id"]) for s in question.get("statements", [])]
    points = int(question.get("points", 5))
    return lambda: {"ratings": {sid: rng.randint(1, points) for sid in statements}}


def _wordcloud(question: dict[str, Any], rng: random.Random) -> Callable[[], dict[str, Any]]:
    most = int(question.get("max_entries", 3))
    return lambda: {"words": rng.sample(_CLOUD_SPELLINGS, rng.randint(1, most))}


ANSWER_MAKERS = {"choice": _choice, "scale": _scale, "wordcloud": _wordcloud}


class Phone:
    """One participant: its socket and what it knows of the session."""

    __slots__ = ("alive", "current_id", "idx", "reader", "scheduled_qid", "ws")

    def __init__(self, idx: int, ws: ClientConnection) -> None:
        self.idx = idx
        self.ws = ws
        self.current_id: str | None = None
        self.scheduled_qid: str | None = None
        self.alive = True
        self.reader: asyncio.Task[None] | None = None


class Pending:
    """An answer sent and not yet acknowledged."""

    __slots__ = ("fut", "qid", "t_perf", "t_wall")

    def __init__(self, qid: str, t_perf: float, t_wall: float, fut: asyncio.Future[bool] | None) -> None:
        self.qid = qid
        self.t_perf = t_perf
        self.t_wall = t_wall
        self.fut = fut


class Worker:
    def __init__(self, conn: Connection, wid: int) -> None:
        self._raw_conn = conn
        self.wid = wid
        self.conn: AsyncConn | None = None
        self.phones: list[Phone] = []
        self.errors: Counter[str] = Counter()
        self.closing = False
        self.n_alive = 0
        self.host = "127.0.0.1"
        self.port = 0
        self.session_id = ""
        # fan-out: question id -> wall times at which a phone first saw it as current
        self.seen: dict[str, list[float]] = {}
        # question id -> a function that makes a fresh answer to it
        self.qoptions: dict[str, Callable[[], dict[str, Any]]] = {}
        # paced load
        self.load_active = False
        self.ready: deque[tuple[Phone, str]] = deque()
        self.pending: dict[str, Pending] = {}
        self.ack_lat: list[float] = []
        self.ack_lat_by_q: dict[str, list[float]] = {}
        self.first_send: dict[str, list[float]] = {}
        self.q_last_ack: dict[str, float] = {}
        self.q_last_send: dict[str, float] = {}
        self.done: Counter[str] = Counter()
        self.reported: set[str] = set()
        self.sent = 0
        self.acked = 0
        self.refused = 0
        self.pacer: asyncio.Task[None] | None = None
        self.load_t0 = 0.0
        # closed-loop peak
        self.peak_lat: list[float] = []
        self.peak_acked = 0
        self.peak_last_ack = 0.0
        self.counter = 0
        self.other_messages: Counter[str] = Counter()
        self.rng = random.Random(wid)
        self.trace: list[tuple[float, float]] = []
        self.changed = asyncio.Event()  # set by every message a phone receives

    # ------------------------------------------------------------------ plumbing
    async def _until(self, condition: Callable[[], bool], within: float) -> bool:
        """Wait until ``condition()`` holds, checked whenever a message arrives, for ``within`` seconds."""
        deadline = time.perf_counter() + within
        while not condition():
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(remaining, 0.05))
        return True

    async def run(self) -> None:
        raise_nofile_limit()
        self.conn = await AsyncConn.open(self._raw_conn)
        try:
            while True:
                msg = await self.conn.recv()
                if msg is EOF_MARK or msg.get("cmd") == "exit":
                    break
                cmd = str(msg["cmd"])
                try:
                    reply = await getattr(self, f"cmd_{cmd}")(msg)
                except Exception as exc:  # reported to the orchestrator, which counts it as an error
                    reply = {"failed": f"{type(exc).__name__}: {exc}"}
                reply["reply"] = cmd
                reply["wid"] = self.wid
                self.conn.send(reply)
                await self.conn.drain()
        finally:
            await self._close_all()
            await self.conn.close()

    def _event(self, **data: Any) -> None:
        assert self.conn is not None
        data["wid"] = self.wid
        self.conn.send({"event": data.pop("event"), **data})

    # ------------------------------------------------------------------ join
    async def cmd_join(self, msg: dict[str, Any]) -> dict[str, Any]:
        self.host = str(msg["host"])
        self.port = int(msg["port"])
        self.session_id = str(msg["session_id"])
        code = str(msg["code"])
        count = int(msg["count"])
        concurrency = max(1, int(msg["concurrency"]))
        timeout = float(msg["timeout"])
        base_idx = int(msg["base_idx"])
        deadline = time.perf_counter() + float(msg["phase_timeout"])
        pool = Http1Pool(self.host, self.port, concurrency)
        failures: Counter[str] = Counter()
        latencies: list[float] = []
        next_idx = iter(range(count))
        uri = f"ws://{self.host}:{self.port}/ws/participant/{self.session_id}"

        async def join_one(i: int) -> None:
            t0 = time.perf_counter()
            status, body = await pool.post_json("/api/join", {"code": code}, timeout)
            if status != 200:
                failures[f"join_http_{status}"] += 1
                return
            token = json.loads(body)["participant_token"]
            ws = await connect(
                uri, additional_headers={"Authorization": f"Bearer {token}"}, **socket_kwargs(timeout)
            )
            try:
                first = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            except BaseException:
                await ws.close()
                raise
            if first.get("type") != "session.state" or not first.get("data", {}).get("snapshot"):
                failures[f"join_first_message_{first.get('type')}"] += 1
                await ws.close()
                return
            phone = Phone(base_idx + i, ws)
            self._on_state(phone, first["data"])
            self.phones.append(phone)
            self.n_alive += 1
            phone.reader = asyncio.create_task(self._reader(phone))
            latencies.append(time.perf_counter() - t0)

        async def lane() -> None:
            for i in next_idx:
                if time.perf_counter() > deadline:
                    failures["join_phase_timeout"] += 1
                    continue
                try:
                    await join_one(i)
                except TimeoutError:
                    failures["join_timeout"] += 1
                except Exception as exc:
                    failures[f"join_{type(exc).__name__}"] += 1

        t_start = time.time()
        try:
            await asyncio.gather(*(lane() for _ in range(concurrency)))
        finally:
            pool.close()
        t_end = time.time()
        # The phones live until the end of the run: keep the collector away from them.
        gc.collect()
        gc.freeze()
        return {
            "ok": len(latencies),
            "failures": dict(failures),
            "latencies": latencies,
            "t_start": t_start,
            "t_end": t_end,
        }

    # ------------------------------------------------------------------ receiving
    async def _reader(self, phone: Phone) -> None:
        code: int | None = None
        try:
            async for raw in phone.ws:
                self._on_message(phone, raw)
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
        except Exception as exc:
            self.errors[f"reader_{type(exc).__name__}"] += 1
        if not self.closing:
            if code is None and phone.ws.close_code is not None:
                code = phone.ws.close_code
            self.errors[f"socket_closed_{code}"] += 1
            phone.alive = False
            self.n_alive -= 1
            for qid in list(self.done):
                self._check_done(qid)

    def _on_message(self, phone: Phone, raw: str | bytes) -> None:
        self.changed.set()
        msg = json.loads(raw)
        kind = msg.get("type")
        if kind == "answer.ack":
            self._on_ack(str(msg["data"]["id"]))
        elif kind == "session.state":
            self._on_state(phone, msg["data"])
        elif kind == "answer.error":
            data = msg.get("data", {})
            self._on_refused(str(data.get("id")), str(data.get("code")))
        elif kind == "error":
            self.errors[f"error_message_{msg.get('data', {}).get('code')}"] += 1
        else:
            self.other_messages[str(kind)] += 1

    def _on_state(self, phone: Phone, data: dict[str, Any]) -> None:
        current = data.get("current")
        qid = str(current["id"]) if current else None
        if qid != phone.current_id:
            phone.current_id = qid
            if qid is not None:
                self.seen.setdefault(qid, []).append(time.time())
        if current is None or qid is None:
            return
        if qid not in self.qoptions and current.get("kind") in ANSWER_MAKERS:
            self.qoptions[qid] = answer_maker(current, self.rng)
        if (
            self.load_active
            and current.get("open")
            and not current.get("closed")
            and phone.scheduled_qid != qid
            and qid in self.qoptions
        ):
            phone.scheduled_qid = qid
            self.ready.append((phone, qid))

    def _on_ack(self, answer_id: str) -> None:
        entry = self.pending.pop(answer_id, None)
        if entry is None:
            self.errors["ack_for_unknown_id"] += 1
            return
        latency = time.perf_counter() - entry.t_perf
        if entry.fut is not None:
            self.peak_lat.append(latency)
            self.peak_acked += 1
            self.peak_last_ack = time.time()
            if not entry.fut.done():
                entry.fut.set_result(True)
            return
        self.ack_lat.append(latency)
        self.ack_lat_by_q.setdefault(entry.qid, []).append(latency)
        if TRACE_DIR:
            self.trace.append((entry.t_wall, latency))
        self.acked += 1
        self.q_last_ack[entry.qid] = time.time()
        self.done[entry.qid] += 1
        self._check_done(entry.qid)

    def _on_refused(self, answer_id: str, code: str) -> None:
        self.errors[f"answer.error_{code}"] += 1
        self.refused += 1
        entry = self.pending.pop(answer_id, None)
        if entry is None:
            return
        if entry.fut is not None:
            if not entry.fut.done():
                entry.fut.set_result(False)
            return
        self.done[entry.qid] += 1
        self._check_done(entry.qid)

    def _check_done(self, qid: str) -> None:
        if qid not in self.reported and self.done[qid] >= self.n_alive:
            self.reported.add(qid)
            self._event(event="q_done", qid=qid)

    # ------------------------------------------------------------------ sending
    async def _send_answer(self, phone: Phone, qid: str, fut: asyncio.Future[bool] | None = None) -> bool:
        self.counter += 1
        answer_id = f"w{self.wid}-{self.counter}"
        value = self.qoptions[qid]()
        text = json.dumps(
            {"type": "answer", "id": answer_id, "data": {"question_id": qid, "value": value}},
            separators=(",", ":"),
        )
        t_wall = time.time()
        self.pending[answer_id] = Pending(qid, time.perf_counter(), t_wall, fut)
        try:
            await phone.ws.send(text)
        except ConnectionClosed:
            self.pending.pop(answer_id, None)
            self.errors["send_on_closed_socket"] += 1
            return False
        if fut is None:
            self.sent += 1
            first = self.first_send.get(qid)
            if first is None:
                first = self.first_send[qid] = []
            first.append(t_wall)
            self.q_last_send[qid] = t_wall
        return True

    async def cmd_load_start(self, msg: dict[str, Any]) -> dict[str, Any]:
        rate = float(msg["rate"])
        self.load_active = True
        self.load_t0 = time.time()
        # Phones become ready when session.state names an open question they have not answered.
        self.pacer = asyncio.create_task(self._pacer(rate))
        return {"ok": True}

    async def _pacer(self, rate: float) -> None:
        """Token bucket: ``rate`` answers a second, at most 20 ms of credit banked while nobody is ready."""
        burst = max(2.0, rate * 0.02)
        tokens = 0.0
        last = time.perf_counter()
        ready = self.ready
        while self.load_active:
            now = time.perf_counter()
            tokens = min(burst, tokens + (now - last) * rate)
            last = now
            while tokens >= 1.0 and ready:
                phone, qid = ready.popleft()
                if not phone.alive:
                    continue
                tokens -= 1.0
                await self._send_answer(phone, qid)
            await asyncio.sleep(0.001)

    async def cmd_load_stop(self, msg: dict[str, Any]) -> dict[str, Any]:
        self.load_active = False
        if self.pacer is not None:
            await self.pacer
        self.ready.clear()
        await self._until(lambda: all(p.fut is not None for p in self.pending.values()), float(msg["grace"]))
        if TRACE_DIR:
            _write_trace(self.wid, self.trace)
        missing = [k for k, p in self.pending.items() if p.fut is None]
        for key in missing:
            del self.pending[key]
        if missing:
            self.errors["ack_missing"] += len(missing)
        return {
            "sent": self.sent,
            "acked": self.acked,
            "refused": self.refused,
            "ack_latencies": self.ack_lat,
            "ack_latencies_by_q": self.ack_lat_by_q,
            "first_send": self.first_send,
            "q_last_ack": self.q_last_ack,
            "q_last_send": self.q_last_send,
            "t_start": self.load_t0,
        }

    # ------------------------------------------------------------------ fan-out
    async def cmd_seen(self, msg: dict[str, Any]) -> dict[str, Any]:
        qid = str(msg["qid"])
        await self._until(lambda: len(self.seen.get(qid, ())) >= self.n_alive, float(msg["timeout"]))
        return {"times": list(self.seen.get(qid, ())), "expected": self.n_alive}

    # ------------------------------------------------------------------ closed-loop peak
    async def cmd_peak(self, msg: dict[str, Any]) -> dict[str, Any]:
        qid = str(msg["qid"])
        if qid not in self.qoptions:
            return {"failed": f"question {qid} was never seen as current"}
        seconds = float(msg["seconds"])
        timeout = float(msg["timeout"])
        alive = [p for p in self.phones if p.alive]
        lanes = max(1, min(int(msg["inflight"]), len(alive)))
        loop = asyncio.get_running_loop()
        deadline = time.perf_counter() + seconds

        async def lane(mine: list[Phone]) -> None:
            k = 0
            while time.perf_counter() < deadline and mine:
                phone = mine[k % len(mine)]
                k += 1
                if not phone.alive:
                    continue
                fut: asyncio.Future[bool] = loop.create_future()
                if not await self._send_answer(phone, qid, fut):
                    continue
                try:
                    await asyncio.wait_for(fut, timeout)
                except TimeoutError:
                    self.errors["peak_ack_timeout"] += 1

        t_start = time.time()
        await asyncio.gather(*(lane(alive[j::lanes]) for j in range(lanes)))
        return {
            "acked": self.peak_acked,
            "latencies": self.peak_lat,
            "t_start": t_start,
            "t_last_ack": self.peak_last_ack,
            "lanes": lanes,
        }

    # ------------------------------------------------------------------ end
    async def cmd_close(self, msg: dict[str, Any]) -> dict[str, Any]:
        await self._close_all()
        return {
            "errors": dict(self.errors),
            "other_messages": dict(self.other_messages),
            "alive_at_end": self.n_alive,
        }

    async def _close_all(self) -> None:
        if self.closing:
            return
        self.closing = True
        sem = asyncio.Semaphore(256)

        async def close_one(phone: Phone) -> None:
            async with sem:
                # Closing after the server went away raises; there is nothing left to report then.
                with contextlib.suppress(Exception):
                    await phone.ws.close()
            if phone.reader is not None:
                await asyncio.gather(phone.reader, return_exceptions=True)

        await asyncio.gather(*(close_one(p) for p in self.phones))


def _write_trace(wid: int, trace: list[tuple[float, float]]) -> None:
    Path(TRACE_DIR, f"acks-w{wid}.json").write_text(json.dumps(trace))


def worker_main(conn: Connection, wid: int) -> None:
    """Entry point of a worker process (spawned, so it starts clean)."""
    gc.set_threshold(50_000, 50, 100)
    uvloop.run(Worker(conn, wid).run())
