"""``python -m bench``: run the load benchmark against Thirdspace and the bare baseline, write the report.

Default: 1,000 participants, 1,000 answers/s for 15 s, both servers, about a minute in all.
``--full``: the issue's targets, 10,000 participants and 5,000 answers/s (several minutes).
Everything runs on 127.0.0.1, is bounded in count and time, and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shlex
import sys
from pathlib import Path
from typing import Any

import uvloop

from bench.client import raise_nofile_limit
from bench.report import build, machine, write
from bench.run import Options, run_server

RESULTS_DIR = Path(__file__).resolve().parent / "results"

FULL = {
    "participants": 10_000,
    "rate": 5_000.0,
    "duration": 30.0,
    "peak_seconds": 10.0,
    "peak_inflight": 1000,
}


def parse(argv: list[str]) -> tuple[Options, float]:
    p = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--full", action="store_true", help="the issue's targets: 10,000 participants, 5,000 answers/s"
    )
    p.add_argument(
        "--participants", type=int, help="participants (phones); default 1,000 (10,000 with --full)"
    )
    p.add_argument(
        "--rate", type=float, help="answers/s offered in the answer-load phase; default 1,000 (5,000)"
    )
    p.add_argument("--duration", type=float, help="seconds of the answer-load phase; default 15 (30)")
    p.add_argument(
        "--name", help="report name: bench/results/<date>-<name>.json; default 'default' or 'full'"
    )
    p.add_argument("--only", choices=["thirdspace", "bare"], help="run one server only")
    p.add_argument("--clients", type=int, default=2, help="phone (client) processes (default 2)")
    p.add_argument(
        "--database", choices=["sqlite", "postgres"], default="sqlite",
        help="Thirdspace's database: a SQLite file (default), or a database of its own on the PostgreSQL at "
        "$BENCH_POSTGRES (default postgresql://postgres@127.0.0.1:5432), dropped after",
    )  # fmt: skip
    p.add_argument(
        "--broker", choices=["memory", "redis"], default="memory",
        help="Thirdspace's broker: memory:// (default) or the Redis at $BENCH_REDIS (default "
        "redis://127.0.0.1:6379/0) under a prefix of its own, deleted after",
    )  # fmt: skip
    p.add_argument(
        "--workers", type=int, default=1,
        help="Thirdspace's workers (`thirdspace serve --workers N`; above 1 needs postgres and redis)",
    )  # fmt: skip
    p.add_argument(
        "--matrix", action="store_true",
        help="one report of: 1 worker SQLite, 1 worker PostgreSQL + memory://, 1 worker PostgreSQL + "
        "Redis, 2 workers PostgreSQL + Redis, and bare (ignores --only, --database, --broker)",
    )  # fmt: skip
    p.add_argument("--join-concurrency", type=int, default=200, help="joins in flight (default 200)")
    p.add_argument("--fanout-rounds", type=int, default=3, help="new questions pushed in the fan-out phase")
    p.add_argument("--peak-seconds", type=float, help="closed-loop phase length, 0 to skip; default 5 (10)")
    p.add_argument(
        "--peak-inflight", type=int, help="answers in flight in the closed loop; default 500 (1,000)"
    )
    p.add_argument("--min-group", type=int, default=5, help="the session's k (min_group); default 5")
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where the report goes")
    p.add_argument(
        "--profile", type=float, default=0.0, metavar="SECONDS",
        help="record the server with py-spy for SECONDS during the answer load (collapsed stacks)",
    )  # fmt: skip
    p.add_argument("--max-minutes", type=float, default=20.0, help="stop a server's run after this long")
    a = p.parse_args(argv)
    base: dict[str, Any] = dict(FULL) if a.full else {}
    opts = Options()
    for key in ("participants", "rate", "duration", "peak_seconds", "peak_inflight"):
        value = getattr(a, key)
        if value is not None:
            base[key] = value
    for key, value in base.items():
        setattr(opts, key, type(getattr(opts, key))(value))
    opts.workers = a.clients
    opts.join_concurrency = a.join_concurrency
    opts.fanout_rounds = a.fanout_rounds
    opts.min_group = a.min_group
    opts.servers = [a.only] if a.only else ["thirdspace", "bare"]
    opts.database, opts.broker, opts.server_workers, opts.matrix = (
        a.database,
        a.broker,
        a.workers,
        a.matrix,
    )
    if a.workers < 1:
        p.error("--workers must be 1 or more")
    if a.clients < 1:
        p.error("--clients must be 1 or more")
    opts.name = a.name or ("full" if a.full else "default")
    opts.results_dir = a.results_dir
    opts.profile_seconds = a.profile
    opts.profile_dir = a.results_dir / "profiles"
    if opts.participants < 1 or opts.rate <= 0 or opts.duration <= 0:
        p.error("--participants, --rate and --duration must be positive")
    return opts, a.max_minutes * 60.0


def log(message: str) -> None:
    stamp = dt.datetime.now().strftime("%H:%M:%S")
    print(f"{stamp} {message}", flush=True)


# --matrix: (report label, server kind, database, broker, uvicorn workers), in the order they run.
MATRIX: list[tuple[str, str, str, str, int]] = [
    ("sqlite-1", "thirdspace", "sqlite", "memory", 1),
    ("pg-memory-1", "thirdspace", "postgres", "memory", 1),
    ("pg-redis-1", "thirdspace", "postgres", "redis", 1),
    ("pg-redis-2", "thirdspace", "postgres", "redis", 2),
    ("bare", "bare", "sqlite", "memory", 1),
]


def configurations(opts: Options) -> list[tuple[str, str, str, str, int]]:
    if opts.matrix:
        return MATRIX
    return [(kind, kind, opts.database, opts.broker, opts.server_workers) for kind in opts.servers]


async def amain(opts: Options, max_seconds: float) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for label, kind, database, broker, workers in configurations(opts):
        try:
            async with asyncio.timeout(max_seconds):
                results[label] = await run_server(
                    kind, opts, log, database=database, broker=broker, server_workers=workers
                )
        except TimeoutError:
            results[label] = {"server": kind, "errors": {"total": 1, "by_kind": {"harness:run_timeout": 1}}}
        except Exception as exc:  # a server that would not start: reported, and the other still runs
            log(f"[{label}] could not run: {type(exc).__name__}: {exc}")
            results[label] = {
                "server": kind,
                "errors": {"total": 1, "by_kind": {f"harness:{type(exc).__name__}": 1}},
            }
            results[label]["failure"] = f"{type(exc).__name__}: {exc}"
    return results


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    opts, max_seconds = parse(argv)
    limit = raise_nofile_limit()
    # Each process has its own limit: the server holds one socket per participant, and so do the phones.
    needed = opts.participants + 500
    if limit < needed:
        log(f"warning: open-file limit {limit} is below the ~{needed} the server needs (ulimit -Hn)")
    machine_info = machine()  # before the run: the commit the servers start from
    started = dt.datetime.now(dt.UTC)
    results = uvloop.run(amain(opts, max_seconds))
    finished = dt.datetime.now(dt.UTC)
    options = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(opts).items()}
    report = build(
        name=opts.name,
        date=started.astimezone().date().isoformat(),
        started_at=started.isoformat(timespec="seconds"),
        finished_at=finished.isoformat(timespec="seconds"),
        command=shlex.join(["python", "-m", "bench", *argv]),
        options=options,
        results=results,
        machine_info=machine_info,
    )
    json_path, md_path = write(report, opts.results_dir)
    print(md_path.read_text())
    log(f"report written to {json_path} and {md_path}")
    return 0 if report["errors_total"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
