"""The orchestrator: starts one server, plays the facilitator and the presenter, drives the phone workers
through the phases, and turns what they measured into one result dict per server."""

from __future__ import annotations

import asyncio
import contextlib
import math
import multiprocessing as mp
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.client import socket_kwargs, worker_main
from bench.ipc import EOF_MARK, AsyncConn
from bench.servers import ServerProcess
from bench.stats import summarize_ms

Log = Callable[[str], None]


@dataclass
class Options:
    participants: int = 1000
    rate: float = 1000.0  # target total answers per second in the answer-load phase
    duration: float = 15.0  # seconds of the answer-load phase
    workers: int = 2
    join_concurrency: int = 200  # joins in flight, all workers together
    fanout_rounds: int = 3
    peak_seconds: float = 5.0
    peak_inflight: int = 500  # answers in flight, all workers together, in the closed-loop phase
    min_group: int = 5
    servers: list[str] = field(default_factory=lambda: ["thirdspace", "bare"])
    name: str = "default"
    results_dir: Path = Path("bench/results")
    socket_timeout: float = 30.0
    profile_seconds: float = 0.0  # >0: run py-spy on the server during the answer-load phase
    profile_dir: Path | None = None
    # Thirdspace's configuration: database, broker and uvicorn workers (`--database`, `--broker`,
    # `--workers`; the phone processes are `--clients`); `--matrix` runs several and bare in one report.
    database: str = "sqlite"
    broker: str = "memory"
    server_workers: int = 1
    matrix: bool = False


class BenchError(RuntimeError):
    """A phase could not run; the message says which and why."""


# ---------------------------------------------------------------------- facilitator over HTTP
class Facilitator:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=30.0)
        self.token = ""

    async def _json(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.http.request(method, path, headers=headers, **kwargs)
        if response.status_code != expect:
            raise BenchError(f"{method} {path} -> {response.status_code}: {response.text[:500]}")
        return response.json()

    async def login(self, email: str, password: str) -> str:
        body = await self._json("POST", "/api/auth/token", data={"username": email, "password": password})
        self.token = str(body["access_token"])
        return self.token

    async def create_session(self, min_group: int) -> dict[str, Any]:
        body = {"title": "bench", "settings": {"min_group": min_group}}
        result: dict[str, Any] = await self._json("POST", "/api/sessions", 201, json=body)
        return result

    async def create_question(self, sid: str, prompt: str, kind: str = "choice") -> str:
        body = {"kind": kind, "prompt": prompt, **QUESTION_FIELDS[kind]}
        question = await self._json("POST", f"/api/sessions/{sid}/questions", 201, json=body)
        return str(question["id"])

    async def set_open(self, sid: str, qid: str, is_open: bool) -> None:
        await self._json("PATCH", f"/api/sessions/{sid}/questions/{qid}", json={"open": is_open})

    async def set_current(self, sid: str, qid: str | None) -> None:
        await self._json("PUT", f"/api/sessions/{sid}/current", json={"question_id": qid})

    async def aclose(self) -> None:
        await self.http.aclose()


# The answer phase asks these kinds in turn, so the report has answers/s and ack p99 per kind: a scale
# (several statements in one answer) and a word cloud (normalisation is CPU on the answer path) beside
# multiple choice.
LOAD_KINDS = ("choice", "scale", "wordcloud")
QUESTION_FIELDS: dict[str, dict[str, Any]] = {
    "choice": {"options": ["A", "B", "C", "D"], "multiple": False},
    "scale": {"statements": ["I feel heard", "I know who to ask", "I would come back"], "points": 5},
    "wordcloud": {"max_entries": 3},
}


# ---------------------------------------------------------------------- presenter socket
class Presenter:
    """The facilitator's screen: records when each ``poll.results`` and ``presence`` arrives."""

    def __init__(self) -> None:
        self.ws: ClientConnection | None = None
        self.task: asyncio.Task[None] | None = None
        self.results: list[tuple[float, str, int, bool]] = []
        self.presence: list[tuple[float, int]] = []
        self.errors: Counter[str] = Counter()
        self.closing = False
        self.shown: dict[str, int] = {}  # question id -> the latest n shown (not hidden)

    async def wait_shown(self, qid: str, n: int, within: float) -> bool:
        deadline = time.monotonic() + within
        while self.shown.get(qid, 0) < n:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    async def start(self, uri: str, token: str, open_within: float) -> None:
        self.ws = await connect(
            uri, additional_headers={"Authorization": f"Bearer {token}"}, **socket_kwargs(open_within)
        )
        self.task = asyncio.create_task(self._read(self.ws))

    async def _read(self, ws: ClientConnection) -> None:
        import json

        try:
            async for raw in ws:
                now = time.time()
                msg = json.loads(raw)
                kind = msg.get("type")
                data = msg.get("data") or {}
                if kind == "poll.results":
                    qid, n, hidden = (
                        str(data.get("question_id")),
                        int(data.get("n") or 0),
                        bool(data.get("hidden")),
                    )
                    self.results.append((now, qid, n, hidden))
                    if not hidden:
                        self.shown[qid] = n
                elif kind == "presence":
                    self.presence.append((now, int(data.get("participants") or 0)))
                elif kind == "error":
                    self.errors[f"presenter_error_{data.get('code')}"] += 1
        except ConnectionClosed:
            pass
        if not self.closing:
            self.errors[f"presenter_socket_closed_{ws.close_code}"] += 1

    def last_presence(self) -> int | None:
        return self.presence[-1][1] if self.presence else None

    async def stop(self) -> None:
        self.closing = True
        if self.ws is not None:
            await self.ws.close()
        if self.task is not None:
            await asyncio.gather(self.task, return_exceptions=True)


# ---------------------------------------------------------------------- phone worker processes
class Workers:
    def __init__(self, count: int) -> None:
        self.count = count
        self.procs: list[Any] = []
        self.conns: list[AsyncConn] = []
        self.replies: list[asyncio.Queue[dict[str, Any]]] = []
        self.events: dict[tuple[str, str], set[int]] = {}
        self.event_signal = asyncio.Event()
        self.routers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        ctx = mp.get_context("spawn")
        for wid in range(self.count):
            parent, child = ctx.Pipe(duplex=True)
            proc = ctx.Process(target=worker_main, args=(child, wid), name=f"bench-phones-{wid}", daemon=True)
            proc.start()
            child.close()
            self.procs.append(proc)
            conn = await AsyncConn.open(parent)
            self.conns.append(conn)
            queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
            self.replies.append(queue)
            self.routers.append(asyncio.create_task(self._route(conn, queue)))

    async def _route(self, conn: AsyncConn, queue: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            msg = await conn.recv()
            if msg is EOF_MARK:
                queue.put_nowait({"reply": "eof", "failed": "worker process ended"})
                return
            if "event" in msg:
                self.events.setdefault((str(msg["event"]), str(msg.get("qid"))), set()).add(int(msg["wid"]))
                self.event_signal.set()
            else:
                queue.put_nowait(msg)

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.pid is not None]

    async def call(self, messages: list[dict[str, Any]], within: float) -> list[dict[str, Any]]:
        """Send one command to each worker (same order) and wait for every reply."""
        for conn, message in zip(self.conns, messages, strict=True):
            conn.send(message)

        async def one(queue: asyncio.Queue[dict[str, Any]]) -> dict[str, Any]:
            return await queue.get()

        async with asyncio.timeout(within):
            replies = await asyncio.gather(*(one(q) for q in self.replies))
        for reply in replies:
            if "failed" in reply:
                raise BenchError(
                    f"phone worker {reply.get('wid')} failed {reply.get('reply')}: {reply['failed']}"
                )
        return list(replies)

    async def call_same(self, message: dict[str, Any], within: float) -> list[dict[str, Any]]:
        return await self.call([dict(message) for _ in self.conns], within)

    async def wait_event(self, event: str, qid: str, within: float) -> bool:
        deadline = time.monotonic() + within
        while len(self.events.get((event, qid), ())) < self.count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.event_signal.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.event_signal.wait(), min(remaining, 0.5))
        return True

    async def stop(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError, RuntimeError):
                conn.send({"cmd": "exit"})
        for proc in self.procs:
            await asyncio.to_thread(proc.join, 15)
            if proc.is_alive():
                proc.kill()
                await asyncio.to_thread(proc.join, 5)
        for task in self.routers:
            task.cancel()
        await asyncio.gather(*self.routers, return_exceptions=True)
        for conn in self.conns:
            await conn.close()


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


class CpuMeter:
    """CPU seconds of the server and of the harness (this process and the phone workers) between marks."""

    def __init__(self, server: ServerProcess, worker_pids: list[int]) -> None:
        self.server = server
        self.harness = [psutil.Process(), *(psutil.Process(pid) for pid in worker_pids)]
        self.marks: dict[str, tuple[float, float, dict[int, float], float]] = {}
        self.phases: dict[str, dict[str, float]] = {}

    def _harness_seconds(self) -> float:
        total = 0.0
        for proc in self.harness:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    def begin(self, phase: str) -> None:
        self.marks[phase] = (
            time.monotonic(),
            self.server.cpu_seconds(),
            self.server.main_threads_cpu_seconds(),
            self._harness_seconds(),
        )

    def end(self, phase: str) -> None:
        t0, s0, m0, h0 = self.marks.pop(phase)
        wall = max(time.monotonic() - t0, 1e-9)
        loops = self.server.main_threads_cpu_seconds()
        busiest_loop = max((seconds - m0.get(pid, 0.0) for pid, seconds in loops.items()), default=0.0)
        self.phases[phase] = {
            "wall_s": round(wall, 3),
            "server_cpu_pct": round(100.0 * (self.server.cpu_seconds() - s0) / wall, 1),
            # The thread that runs the event loop (the busiest, with several workers): near 100 % it is
            # the limit, whatever the total says.
            "server_loop_thread_cpu_pct": round(100.0 * busiest_loop / wall, 1),
            "harness_cpu_pct": round(100.0 * (self._harness_seconds() - h0) / wall, 1),
        }


def _py_spy(out_dir: Path) -> str | None:
    """The py-spy executable (PATH, or beside the interpreter), with ``out_dir`` made; None if absent."""
    import shutil
    import sys

    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(exe).exists():
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    return exe


async def _profile(pid: int, seconds: float, out: Path, log: Log) -> None:
    """py-spy on the server for ``seconds``, written as collapsed stacks (``bench.profile`` sums them)."""
    exe = _py_spy(out.parent)
    if exe is None:
        log("py-spy is not installed (.venv/bin/pip install py-spy); no profile taken")
        return
    target = out.with_suffix(".txt")
    proc = await asyncio.create_subprocess_exec(
        exe, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))), "--rate", "100",
        "--nonblocking", "--threads", "--format", "raw", "-o", str(target),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await proc.communicate()
    if proc.returncode != 0:
        log(f"py-spy failed: {err.decode(errors='replace')[-500:]}")
    else:
        log(f"profile (collapsed stacks) written to {target}")


# ---------------------------------------------------------------------- one server, all phases
async def run_server(
    kind: str,
    opts: Options,
    log: Log,
    *,
    database: str | None = None,
    broker: str | None = None,
    server_workers: int | None = None,
) -> dict[str, Any]:
    server = ServerProcess(
        kind,
        database=database or opts.database,
        broker=broker or opts.broker,
        workers=server_workers or opts.server_workers,
    )
    log(f"[{kind}] starting the server on {server.base_url}")
    try:
        await asyncio.to_thread(server.start)
    except BaseException:
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(server.drop_shared_state)
        raise
    result: dict[str, Any] = {
        "server": kind,
        "command": " ".join(Path(a).name if i == 0 else a for i, a in enumerate(server.command)),
    }
    try:
        result.update(await _phases(server, opts, log))
    finally:
        code = await asyncio.to_thread(server.stop)
        problems = server.log_problems()
        result["server_exit_code"] = code
        await asyncio.to_thread(server.drop_shared_state)
        if kind == "thirdspace":
            result["config"] = {
                "database": server.database,
                "broker": server.broker,
                "workers": server.workers,
            }
        result["server_log_problems"] = problems[:20]
        result.setdefault("errors", {"total": 0, "by_kind": {}})
        if problems:
            result["errors"]["by_kind"]["server_log_error_lines"] = len(problems)
            result["errors"]["total"] += len(problems)
        if not problems and not os.environ.get("BENCH_TRACE_DIR"):
            server.cleanup()
        else:
            result["server_log"] = str(server.log_path)
    return result


async def _phases(server: ServerProcess, opts: Options, log: Log) -> dict[str, Any]:
    kind = server.kind
    n_total = opts.participants
    n_workers = max(1, min(opts.workers, n_total))
    errors: Counter[str] = Counter()
    out: dict[str, Any] = {}

    fac = Facilitator(server.base_url)
    presenter = Presenter()
    workers = Workers(n_workers)
    try:
        await fac.login(server.email, server.password)
        session = await fac.create_session(opts.min_group)
        sid, code = str(session["id"]), str(session["code"])
        per_question = n_total  # one answer per phone per question
        n_load = max(len(LOAD_KINDS), math.ceil(opts.duration * opts.rate / per_question))
        load_kind = {
            await fac.create_question(sid, f"Load {i + 1}", kind): kind
            for i in range(n_load)
            for kind in [LOAD_KINDS[i % len(LOAD_KINDS)]]
        }
        load_qs = list(load_kind)
        fan_qs = [await fac.create_question(sid, f"Fan-out {i + 1}") for i in range(opts.fanout_rounds)]
        peak_q = await fac.create_question(sid, "Peak")
        await presenter.start(
            f"ws://127.0.0.1:{server.port}/ws/presenter/{sid}", fac.token, opts.socket_timeout
        )
        await workers.start()
        cpu = CpuMeter(server, workers.pids())
        await asyncio.sleep(0.5)
        rss_before = server.rss()

        # ---- 1. join burst
        log(f"[{kind}] join burst: {n_total} participants, {opts.join_concurrency} in flight")
        cpu.begin("join")
        counts = split(n_total, n_workers)
        concurrency = split(max(opts.join_concurrency, n_workers), n_workers)
        join_timeout = max(60.0, n_total / 50.0)
        base = 0
        messages = []
        for count, conc in zip(counts, concurrency, strict=True):
            messages.append(
                {
                    "cmd": "join", "host": "127.0.0.1", "port": server.port, "session_id": sid, "code": code,
                    "count": count, "concurrency": conc, "timeout": opts.socket_timeout, "base_idx": base,
                    "phase_timeout": join_timeout,
                }
            )  # fmt: skip
            base += count
        replies = await workers.call(messages, join_timeout + 60)
        cpu.end("join")
        joined = sum(int(r["ok"]) for r in replies)
        join_failures: Counter[str] = Counter()
        for r in replies:
            join_failures.update(r["failures"])
        join_window = max(r["t_end"] for r in replies) - min(r["t_start"] for r in replies)
        errors.update({f"join:{k}": v for k, v in join_failures.items()})
        await asyncio.sleep(1.5)  # presence is sent at most once a second
        rss_connected = server.rss()
        out["join"] = {
            "participants": n_total,
            "joined": joined,
            "failures": sum(join_failures.values()),
            "failures_by_kind": dict(join_failures),
            "seconds": round(join_window, 3),
            "joins_per_s": round(joined / join_window, 1) if join_window > 0 else None,
            "latency_ms": summarize_ms(lat for r in replies for lat in r["latencies"]),
            "presence_seen": presenter.last_presence(),
        }
        out["memory"] = {
            "rss_before_mb": round(rss_before / 2**20, 1),
            "rss_connected_mb": round(rss_connected / 2**20, 1),
            "rss_per_participant_kb": round((rss_connected - rss_before) / joined / 1024, 1)
            if joined
            else None,
        }
        n_failed = sum(join_failures.values())
        log(f"[{kind}] joined {joined}/{n_total} in {join_window:.2f} s, failures {n_failed}")
        if joined == 0:
            raise BenchError("no participant could join")

        # ---- 2. answer load
        log(f"[{kind}] answer load: {opts.rate:.0f}/s offered for {opts.duration:.0f} s ({n_load} questions)")
        profile_task = None
        if opts.profile_seconds > 0 and server.pid is not None and opts.profile_dir is not None:
            profile_task = asyncio.create_task(
                _profile(server.pid, opts.profile_seconds, opts.profile_dir / f"{opts.name}-{kind}", log)
            )
        cpu.begin("answers")
        await workers.call_same({"cmd": "load_start", "rate": opts.rate / n_workers}, 30)
        close_sent: dict[str, float] = {}
        used: list[str] = []
        q_timeout = max(15.0, 3.0 * per_question / opts.rate + 10.0)
        phase_deadline = time.monotonic() + opts.duration
        previous: str | None = None
        for qid in load_qs:
            # Past the phase's time, stop, but only once every kind has had a question.
            if previous is not None and time.monotonic() >= phase_deadline and len(used) >= len(LOAD_KINDS):
                break
            await fac.set_open(sid, qid, True)
            await fac.set_current(sid, qid)
            used.append(qid)
            if previous is not None:
                close_sent[previous] = time.time()
                await fac.set_open(sid, previous, False)
            if not await workers.wait_event("q_done", qid, q_timeout):
                errors["answers:question_not_done_in_time"] += 1
                log(f"[{kind}] question {qid}: not every answer was acknowledged within {q_timeout:.0f} s")
            # Let the presenter catch up before the close makes the count exact: all but the last k - 1
            # answers (Thirdspace's k rule; the bare server has none) must show while the question is open.
            k_rule = opts.min_group if kind == "thirdspace" else 1
            await presenter.wait_shown(qid, joined - (k_rule - 1), 2.0)
            previous = qid
        stops = await workers.call_same({"cmd": "load_stop", "grace": 10.0}, 60)
        if previous is not None:
            close_sent[previous] = time.time()
            await fac.set_open(sid, previous, False)
        cpu.end("answers")
        if profile_task is not None:
            await profile_task
        out["answers"] = _answer_figures(stops, used, close_sent, presenter, opts)
        out["answers"]["by_kind"] = {
            kind: _kind_figures(stops, [q for q in used if load_kind[q] == kind]) for kind in LOAD_KINDS
        }
        log(
            f"[{kind}] answers: {out['answers']['acked']} acked, "
            f"{out['answers']['committed_per_s']} /s, ack p99 {out['answers']['ack_latency_ms']['p99']} ms"
        )

        # ---- 3. fan-out
        log(f"[{kind}] fan-out: {opts.fanout_rounds} new questions to {joined} phones")
        cpu.begin("fanout")
        fan_lat: list[float] = []
        fan_rounds: list[dict[str, Any]] = []
        fan_missing = 0
        for qid in fan_qs:
            await fac.set_open(sid, qid, True)
            await asyncio.sleep(0.3)
            t0 = time.time()
            await fac.set_current(sid, qid)
            seen = await workers.call_same({"cmd": "seen", "qid": qid, "timeout": 30.0}, 60)
            this_round = [t - t0 for reply in seen for t in reply["times"]]
            fan_lat.extend(this_round)
            fan_rounds.append(summarize_ms(this_round))
            for reply in seen:
                fan_missing += max(0, int(reply["expected"]) - len(reply["times"]))
            await asyncio.sleep(0.3)
        cpu.end("fanout")
        if fan_missing:
            errors["fanout:phones_not_reached"] += fan_missing
        out["fanout"] = {
            "rounds": len(fan_qs),
            "latency_ms": summarize_ms(fan_lat),
            "per_round_ms": fan_rounds,
            "missing": fan_missing,
        }
        log(f"[{kind}] fan-out p99 {out['fanout']['latency_ms']['p99']} ms")

        # ---- 4. closed-loop peak
        if opts.peak_seconds > 0:
            log(f"[{kind}] peak: closed loop, {opts.peak_inflight} in flight, {opts.peak_seconds:.0f} s")
            await fac.set_open(sid, peak_q, True)
            await fac.set_current(sid, peak_q)
            await workers.call_same({"cmd": "seen", "qid": peak_q, "timeout": 30.0}, 60)
            cpu.begin("peak")
            inflight = split(max(opts.peak_inflight, n_workers), n_workers)
            peaks = await workers.call(
                [
                    {
                        "cmd": "peak",
                        "qid": peak_q,
                        "inflight": k,
                        "seconds": opts.peak_seconds,
                        "timeout": 10.0,
                    }
                    for k in inflight
                ],
                opts.peak_seconds + 60,
            )
            cpu.end("peak")
            await fac.set_open(sid, peak_q, False)
            acked = sum(int(p["acked"]) for p in peaks)
            window = max(p["t_last_ack"] for p in peaks) - min(p["t_start"] for p in peaks)
            out["peak"] = {
                "inflight": sum(int(p["lanes"]) for p in peaks),
                "acked": acked,
                "committed_per_s": round(acked / window, 1) if window > 0 and acked else 0.0,
                "ack_latency_ms": summarize_ms(lat for p in peaks for lat in p["latencies"]),
            }
            log(f"[{kind}] peak: {out['peak']['committed_per_s']} answers/s")

        # ---- end: every socket closed by the harness, then the tally of errors
        out["memory"]["rss_end_mb"] = round(server.rss() / 2**20, 1)
        closes = await workers.call_same({"cmd": "close"}, 120)
        alive_at_end = sum(int(c["alive_at_end"]) for c in closes)
        for c in closes:
            errors.update({f"phones:{k}": v for k, v in c["errors"].items()})
        out["connected_at_end"] = alive_at_end
        out["other_messages"] = dict(sum((Counter(c["other_messages"]) for c in closes), Counter()))
        out["cpu"] = cpu.phases
    except BenchError as exc:
        errors[f"harness:{exc}"] += 1
        log(f"[{kind}] stopped: {exc}")
    except TimeoutError:
        errors["harness:phase_timeout"] += 1
        log(f"[{kind}] stopped: a phase timed out")
    finally:
        await presenter.stop()
        errors.update({f"presenter:{k}": v for k, v in presenter.errors.items()})
        await workers.stop()
        await fac.aclose()
    out["presence_max"] = max((p for _, p in presenter.presence), default=None)
    out["errors"] = {"total": sum(errors.values()), "by_kind": dict(errors)}
    return out


def _kind_figures(stops: list[dict[str, Any]], used: list[str]) -> dict[str, Any]:
    """Answers/s and ack latency of the questions of one kind: acks over the time those questions were
    live (first answer sent to last ack), as for all answers together."""
    ack_lat = [lat for s in stops for qid in used for lat in s["ack_latencies_by_q"].get(qid, ())]
    live = 0.0
    for qid in used:
        firsts = [t for s in stops for t in s["first_send"].get(qid, ())]
        lasts = [s["q_last_ack"][qid] for s in stops if qid in s["q_last_ack"]]
        if firsts and lasts:
            live += max(0.0, max(lasts) - min(firsts))
    return {
        "questions": len(used),
        "acked": len(ack_lat),
        "committed_per_s": round(len(ack_lat) / live, 1) if live > 0 else None,
        "ack_latency_ms": summarize_ms(ack_lat),
    }


def _answer_figures(
    stops: list[dict[str, Any]],
    used: list[str],
    close_sent: dict[str, float],
    presenter: Presenter,
    opts: Options,
) -> dict[str, Any]:
    sent = sum(int(s["sent"]) for s in stops)
    acked = sum(int(s["acked"]) for s in stops)
    ack_lat = [lat for s in stops for lat in s["ack_latencies"]]
    first_send: dict[str, list[float]] = {}
    last_ack: dict[str, float] = {}
    last_send: dict[str, float] = {}
    for s in stops:
        for qid, times in s["first_send"].items():
            first_send.setdefault(qid, []).extend(times)
        for qid, t in s["q_last_ack"].items():
            last_ack[qid] = max(t, last_ack.get(qid, 0.0))
        for qid, t in s["q_last_send"].items():
            last_send[qid] = max(t, last_send.get(qid, 0.0))
    # Time while a question was being answered: from its first answer sent to its last ack.
    # Time spent sending: from each question's first answer sent to its last.
    live = 0.0
    sending = 0.0
    for qid in used:
        if first_send.get(qid) and qid in last_ack:
            live += max(0.0, last_ack[qid] - min(first_send[qid]))
        if first_send.get(qid) and qid in last_send:
            sending += max(0.0, last_send[qid] - min(first_send[qid]))
    all_first = [t for times in first_send.values() for t in times]
    wall = (max(last_ack.values()) - min(all_first)) if all_first and last_ack else 0.0

    # Answer -> presenter: the n-th oldest answer of a question counts as shown when a poll.results of
    # that question, received before the harness asked to close it, first reports n >= its rank.
    presenter_lat: list[float] = []
    shown_only_at_close = 0
    for qid in used:
        sends = sorted(first_send.get(qid, ()))
        covered = 0
        limit = close_sent.get(qid, math.inf)
        for t, rqid, n, hidden in presenter.results:
            if rqid != qid or t >= limit or hidden:
                continue
            n = min(n, len(sends))
            while covered < n:
                presenter_lat.append(t - sends[covered])
                covered += 1
        shown_only_at_close += len(sends) - covered
    return {
        "questions": len(used),
        "offered_per_s": round(sent / sending, 1) if sending > 0 else None,
        "target_per_s": opts.rate,
        "sent": sent,
        "acked": acked,
        "refused": sum(int(s["refused"]) for s in stops),
        "committed_per_s": round(acked / live, 1) if live > 0 else None,
        "committed_per_s_wall": round(acked / wall, 1) if wall > 0 else None,
        "sending_seconds": round(sending, 3),
        "live_seconds": round(live, 3),
        "wall_seconds": round(wall, 3),
        "ack_latency_ms": summarize_ms(ack_lat),
        "presenter_latency_ms": summarize_ms(presenter_lat),
        "presenter_shown_only_at_close": shown_only_at_close,
    }
