"""``python -m bench.breakouts``: the breakout phase. Phones join one session, a random round splits them
into groups of ten, and every phone posts notes to its group's board; each note's arrival on every
other member's phone is timed (note -> group members), and the server's CPU is measured meanwhile.

The issue's size is ``--phones 10000 --group-size 10`` (1,000 groups); the default, 1,000 phones in 100
groups, fits a shared laptop. Phones live in ``--clients`` client processes on 127.0.0.1, against
``thirdspace serve`` as a user runs it (SQLite, in-process hub). Bounded in count and time."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import multiprocessing as mp
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from websockets.asyncio.client import connect

from bench.client import raise_nofile_limit, socket_kwargs
from bench.servers import ServerProcess
from bench.stats import summarize_ms

RESULTS_DIR = Path(__file__).resolve().parent / "results"


# --------------------------------------------------------------------------------------- phones
async def _phones(sid: str, ws_base: str, tokens: list[str], open_within: float) -> dict[str, Any]:
    """Connect every phone of one client process and start reading: each note.new arrival's delay
    (from the time the sender wrote into the note), each note.ack's delay, and each phone's group."""
    delays: list[float] = []
    acks: list[float] = []
    sent_at: dict[str, float] = {}
    acked = errors = 0
    ready = asyncio.Event()
    in_group = 0
    sockets = []

    async def open_one(token: str) -> None:
        ws = await connect(
            f"{ws_base}/ws/participant/{sid}",
            additional_headers={"Authorization": f"Bearer {token}"},
            **socket_kwargs(open_within),
        )
        sockets.append(ws)

    lanes = asyncio.Semaphore(100)

    async def guarded(token: str) -> None:
        async with lanes:
            await open_one(token)

    await asyncio.gather(*(guarded(t) for t in tokens))
    state: dict[int, str | None] = {}

    async def read(i: int, ws: Any) -> None:
        nonlocal acked, errors, in_group
        async for raw in ws:
            message = json.loads(raw)
            kind = message["type"]
            if kind == "round.state":
                shown = message["data"]["round"]
                group = shown["group"]["id"] if shown and shown.get("group") else None
                if group and state.get(i) is None:
                    in_group += 1
                    if in_group == len(sockets):
                        ready.set()
                state[i] = group
            elif kind == "note.new":
                text = message["data"]["text"]
                sender, sent = text.split("|")[1:3]
                if int(sender) != os.getpid() * 100_000 + i:
                    delays.append(time.time() - float(sent))
            elif kind == "note.ack":
                acked += 1
                at = sent_at.pop(message["data"]["id"], None)
                if at is not None:
                    acks.append(time.time() - at)
            elif kind == "note.error":
                errors += 1

    readers = [asyncio.create_task(read(i, ws)) for i, ws in enumerate(sockets)]
    return {
        "sockets": sockets,
        "readers": readers,
        "ready": ready,
        "state": state,
        "sent_at": sent_at,
        "result": lambda: {"delays": delays, "acks": acks, "acked": acked, "errors": errors},
    }


def _worker(
    sid: str, ws_base: str, tokens: list[str], conn: Any, notes: int, seconds: float, timeout: float
) -> None:
    raise_nofile_limit()

    async def main() -> None:
        phones = await _phones(sid, ws_base, tokens, timeout)
        conn.send({"connected": len(phones["sockets"])})
        round_id, start_at = conn.recv()
        await asyncio.wait_for(phones["ready"].wait(), timeout)
        conn.send({"grouped": len(phones["sockets"])})
        rng = random.Random(os.getpid())
        sends = sorted(
            (start_at + rng.uniform(0, seconds), i)
            for i in range(len(phones["sockets"]))
            for _ in range(notes)
        )
        for n, (at, i) in enumerate(sends):
            delay = at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            text = f"note|{os.getpid() * 100_000 + i}|{time.time():.6f}|"
            phones["sent_at"][f"n{n}"] = time.time()
            await phones["sockets"][i].send(
                json.dumps({"type": "note", "id": f"n{n}", "data": {"round_id": round_id, "text": text}})
            )
        await asyncio.sleep(min(15.0, max(3.0, seconds / 2)))
        for task in phones["readers"]:
            task.cancel()
        for ws in phones["sockets"]:
            await ws.close()
        conn.send(phones["result"]())

    asyncio.run(main())


# --------------------------------------------------------------------------------------- harness
async def _run(opts: argparse.Namespace, log: Any) -> dict[str, Any]:
    server = ServerProcess("thirdspace")
    server.start()
    try:
        async with httpx.AsyncClient(base_url=server.base_url, trust_env=False, timeout=60) as http:
            r = await http.post(
                "/api/auth/token", data={"username": server.email, "password": server.password}
            )
            auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
            r = await http.post(
                "/api/sessions", json={"title": "Breakout bench", "settings": {"min_group": 5}}, headers=auth
            )
            session = r.json()
            sid = session["id"]
            log(f"joining {opts.phones} phones")
            tokens: list[str] = []
            lanes = asyncio.Semaphore(50)

            async def join() -> None:
                async with (
                    lanes,
                    httpx.AsyncClient(base_url=server.base_url, trust_env=False, timeout=60) as c,
                ):
                    j = await c.post("/api/join", json={"code": session["code"]})
                    j.raise_for_status()
                    tokens.append(j.json()["participant_token"])

            t0 = time.monotonic()
            await asyncio.gather(*(join() for _ in range(opts.phones)))
            joined_s = time.monotonic() - t0
            ctx = mp.get_context("spawn")
            pipes, procs = [], []
            for w in range(opts.workers):
                parent, child = ctx.Pipe()
                share = tokens[w :: opts.workers]
                proc = ctx.Process(
                    target=_worker,
                    args=(
                        sid,
                        server.base_url.replace("http", "ws"),
                        share,
                        child,
                        opts.notes,
                        opts.seconds,
                        opts.timeout,
                    ),
                )
                proc.start()
                pipes.append(parent)
                procs.append(proc)
            loop = asyncio.get_running_loop()
            connected = sum([(await loop.run_in_executor(None, p.recv))["connected"] for p in pipes])
            log(f"{connected} sockets open; starting the round")
            t0 = time.monotonic()
            r = await http.post(
                f"/api/sessions/{sid}/rounds",
                json={"mode": "random", "group_size": opts.group_size},
                headers=auth,
            )
            r.raise_for_status()
            round_ = r.json()
            start_round_s = time.monotonic() - t0
            start_at = time.time() + 2.0 + opts.phones / 2000
            for p in pipes:
                p.send((round_["id"], start_at))
            grouped = sum([(await loop.run_in_executor(None, p.recv))["grouped"] for p in pipes])
            to_groups_s = time.monotonic() - t0
            log(
                f"{grouped} phones in {len(round_['groups'])} groups after {to_groups_s:.1f} s; posting notes"
            )
            server_proc = psutil.Process(server.proc.pid)  # type: ignore[union-attr]
            await asyncio.sleep(max(0.0, start_at - time.time()))
            cpu0, wall0 = server.cpu_seconds(), time.monotonic()
            results = [await loop.run_in_executor(None, p.recv) for p in pipes]
            cpu1, wall1 = server.cpu_seconds(), time.monotonic()
            for proc in procs:
                proc.join(10)
            rss = server_proc.memory_info().rss
    finally:
        server.stop()
    delays = [d for r in results for d in r["delays"]]
    posted = opts.phones * opts.notes
    expected = posted * (opts.group_size - 1)
    return {
        "date": dt.date.today().isoformat(),
        "phones": opts.phones,
        "group_size": opts.group_size,
        "groups": len(round_["groups"]),
        "notes_posted": posted,
        "notes_acked": sum(r["acked"] for r in results),
        "note_errors": sum(r["errors"] for r in results),
        "notes_per_second_offered": round(posted / opts.seconds, 1),
        "deliveries": len(delays),
        "deliveries_expected_about": expected,
        "note_to_group_members_ms": summarize_ms(delays),
        "note_to_ack_ms": summarize_ms([a for r in results for a in r["acks"]]),
        "server_cpu_cores_during_notes": round((cpu1 - cpu0) / (wall1 - wall0), 3),
        "server_cpu_seconds_during_notes": round(cpu1 - cpu0, 2),
        "phase_seconds": round(wall1 - wall0, 1),
        "join_seconds": round(joined_s, 1),
        "start_round_request_seconds": round(start_round_s, 2),
        "round_start_to_every_phone_in_its_group_seconds": round(to_groups_s, 2),
        "server_rss_mb": round(rss / 2**20, 1),
        "load_average_at_start": os.getloadavg(),
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.breakouts", description=__doc__)
    p.add_argument("--phones", type=int, default=1000, help="phones (the issue: 10,000)")
    p.add_argument("--group-size", type=int, default=10, help="people a group (the issue: 10)")
    p.add_argument("--notes", type=int, default=2, help="notes each phone posts")
    p.add_argument("--seconds", type=float, default=20.0, help="the notes are spread over this long")
    p.add_argument("--clients", dest="workers", metavar="N", type=int, default=2, help="phone processes")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for sockets and groups")
    p.add_argument("--name", default="breakouts", help="report name: bench/results/<date>-<name>.json")
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    opts = p.parse_args(argv)
    raise_nofile_limit()
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", file=sys.stderr)
    result = asyncio.run(_run(opts, lambda line: print(line, file=sys.stderr, flush=True)))
    opts.results_dir.mkdir(parents=True, exist_ok=True)
    out = opts.results_dir / f"{result['date']}-{opts.name}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"written {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
