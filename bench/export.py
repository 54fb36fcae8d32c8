"""``python -m bench.export``: how long the research bundle takes, and how much memory the server uses
while it streams it.

Seeds a session straight into a fresh SQLite database (participants, each answering every question:
choice, scale, ranking, word cloud and open in turn), starts ``thirdspace serve`` as a user would,
downloads ``export.zip`` and ``export.csv`` over HTTP on 127.0.0.1, and samples the server's resident
memory every 20 ms meanwhile. Default: 1,000 participants and 20 questions; the issue's size is
``--participants 10000 --questions 20`` (run it on a quiet machine). Bounded in count and time."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import psutil
from sqlalchemy import insert

from app.auth.security import hash_participant_token
from app.db import Database, new_id, utcnow
from app.polls.models import Answer, AnswerItem, AnswerWord, Entry, Question, ResultChange
from app.sessions.models import LiveSession, Participant

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# A throwaway account in a temporary database.
PASSWORD = secrets.token_urlsafe(16)
KINDS = ("choice", "scale", "ranking", "wordcloud", "open")
WORDS = ("hope", "tea", "rain", "bus", "garden", "noise", "friends", "cost", "light", "walk")


def _question(session_id: str, position: int) -> tuple[dict[str, Any], str]:
    kind = KINDS[position % len(KINDS)]
    options = [{"id": secrets.token_hex(4), "label": f"Option {i + 1}"} for i in range(4)]
    config: dict[str, Any] = {
        "choice": {"options": options, "multiple": False},
        "scale": {
            "statements": [{"id": secrets.token_hex(4), "text": f"Statement {i + 1}"} for i in range(3)],
            "points": 5,
            "labels": ["Disagree", "Agree"],
        },
        "ranking": {"options": options},
        "wordcloud": {"max_entries": 3, "hidden_words": [], "hidden_keys": []},
        "open": {},
    }[kind]
    now = utcnow()
    row = {
        "id": new_id(),
        "session_id": session_id,
        "position": position + 1,
        "kind": kind,
        "prompt": f"Question {position + 1} ({kind})",
        "config": config,
        "results_visible": False,
        "comments": False,
        "show_comments": False,
        "moderated": False,
        "opened_at": now,
        "closed_at": now,
        "created_at": now,
    }
    return row, kind


async def seed(url: str, owner_email: str, participants: int, questions: int) -> str:
    """One closed session with every participant answering every question; returns its id."""
    from sqlalchemy import select

    from app.auth.models import Account

    database = Database(url)
    rng = secrets.SystemRandom()
    async with database.session() as db:
        owner = await db.scalar(select(Account).where(Account.email == owner_email))
        assert owner is not None
        live = LiveSession(owner_id=owner.id, title="Export benchmark", code=f"{rng.randrange(10**8):08d}")
        db.add(live)
        await db.flush()
        qs = [_question(live.id, i) for i in range(questions)]
        await db.execute(insert(Question), [q for q, _ in qs])
        people = [new_id() for _ in range(participants)]
        await db.execute(
            insert(Participant),
            [
                {
                    "id": p,
                    "session_id": live.id,
                    "token_hash": hash_participant_token(secrets.token_hex(16)),
                    "created_at": utcnow(),
                }
                for p in people
            ],
        )
        await db.commit()
    for question, kind in qs:
        # One question per transaction: a few hundred thousand rows at most in flight.
        answers, items, words, entries, changes = [], [], [], [], []
        for p in people:
            declined = rng.random() < 0.03
            now = utcnow()
            answers.append(
                {
                    "question_id": question["id"],
                    "participant_id": p,
                    "declined": declined,
                    "value": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            changes.append({"question_id": question["id"], "participant_id": p})
            if declined:
                continue
            config = question["config"]
            if kind == "choice":
                items.append((question["id"], p, rng.choice(config["options"])["id"], 1))
            elif kind == "scale":
                items += [(question["id"], p, s["id"], rng.randint(1, 5)) for s in config["statements"]]
            elif kind == "ranking":
                order = [o["id"] for o in config["options"]]
                rng.shuffle(order)
                items += [(question["id"], p, o, rank) for rank, o in enumerate(order, start=1)]
            elif kind == "wordcloud":
                for word in rng.sample(WORDS, 2):
                    words.append(
                        {"question_id": question["id"], "participant_id": p, "word": word, "text": word}
                    )
            else:
                text = f"An answer of about sixty characters, with a phone 0770090{rng.randint(1000, 9999)}."
                entries.append(
                    {
                        "id": new_id(),
                        "question_id": question["id"],
                        "participant_id": p,
                        "comment": False,
                        "text": text,
                        "status": "approved",
                        "flagged": False,
                        "highlighted": False,
                        "answered": False,
                        "reviewed": False,
                        "created_at": now,
                    }
                )
        async with database.session() as db:
            await db.execute(insert(Answer), answers)
            if items:
                await db.execute(
                    insert(AnswerItem),
                    [{"question_id": q, "participant_id": p, "item": i, "value": v} for q, p, i, v in items],
                )
            if words:
                await db.execute(insert(AnswerWord), words)
            if entries:
                await db.execute(insert(Entry), entries)
            await db.execute(insert(ResultChange), changes)
            await db.commit()
    await database.dispose()
    return live.id


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MemorySampler:
    """The server's resident memory, sampled every 20 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self._process.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.02)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def download(client: httpx.Client, url: str, headers: dict[str, str], pid: int) -> dict[str, Any]:
    before = psutil.Process(pid).memory_info().rss
    started = time.perf_counter()
    first = None
    size = 0
    chunks = 0
    body = io.BytesIO()
    with MemorySampler(pid) as memory, client.stream("GET", url, headers=headers, timeout=600) as r:
        r.raise_for_status()
        for chunk in r.iter_bytes():
            if first is None:
                first = time.perf_counter() - started
            size += len(chunk)
            chunks += 1
            body.write(chunk)
    return {
        "seconds": round(time.perf_counter() - started, 3),
        "first_byte_ms": round((first or 0) * 1000, 1),
        "bytes": size,
        "chunks": chunks,
        "rss_before_mb": round(before / 2**20, 1),
        "rss_peak_mb": round(memory.peak / 2**20, 1),
        "rss_growth_mb": round((memory.peak - before) / 2**20, 1),
        "body": body.getvalue(),
    }


def run(participants: int, questions: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        base = Path(tmp)
        port = _free_port()
        env = {
            **os.environ,
            "THIRDSPACE_ENVIRONMENT": "development",
            "THIRDSPACE_DATA_DIR": str(base),
            "THIRDSPACE_DATABASE_URL": f"sqlite+aiosqlite:///{base / 'thirdspace.db'}",
            "THIRDSPACE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        }
        cli = [sys.executable, "-m", "app.cli"]
        subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
        subprocess.run(
            [*cli, "user", "add", "bench@example.org", "--password-stdin"],
            env=env,
            check=True,
            capture_output=True,
            input=PASSWORD + "\n",
            text=True,
        )
        started = time.perf_counter()
        session_id = asyncio.run(
            seed(env["THIRDSPACE_DATABASE_URL"], "bench@example.org", participants, questions)
        )
        seeded = time.perf_counter() - started
        with (base / "server.log").open("w") as log:
            server = subprocess.Popen(
                [*cli, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=log
            )
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        if client.get("/healthz").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError("the server did not start")
                    time.sleep(0.1)
                token = client.post(
                    "/api/auth/token", data={"username": "bench@example.org", "password": PASSWORD}
                ).json()["access_token"]
                auth = {"Authorization": f"Bearer {token}"}
                zipped = download(client, f"/api/sessions/{session_id}/export.zip", auth, server.pid)
                csv_only = download(client, f"/api/sessions/{session_id}/export.csv", auth, server.pid)
        finally:
            server.terminate()
            server.wait(10)
        with zipfile.ZipFile(io.BytesIO(zipped.pop("body"))) as archive:
            members = {i.filename: i.file_size for i in archive.infolist()}
        rows = csv_only.pop("body").count(b"\n") - 1
    return {
        "participants": participants,
        "questions": questions,
        "seed_seconds": round(seeded, 1),
        "responses_rows": rows,
        "zip": zipped,
        "zip_members_bytes": members,
        "csv": csv_only,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__)
    p.add_argument("--participants", type=int, default=1000)
    p.add_argument("--questions", type=int, default=20)
    p.add_argument("--name", default=None, help="report name; default export-<participants>")
    args = p.parse_args(argv)
    if not 1 <= args.participants <= 100_000 or not 1 <= args.questions <= 200:
        p.error("participants 1..100,000 and questions 1..200")
    result = run(args.participants, args.questions)
    result["date"] = dt.date.today().isoformat()
    result["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    name = args.name or f"export-{args.participants}"
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"{result['date']}-{name}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    z, c = result["zip"], result["csv"]
    print(
        f"{args.participants:,} participants x {args.questions} questions: "
        f"{result['responses_rows']:,} rows\n"
        f"export.zip: {z['seconds']} s, first byte {z['first_byte_ms']} ms, {z['bytes']:,} bytes in "
        f"{z['chunks']} chunks, server RSS {z['rss_before_mb']} -> peak {z['rss_peak_mb']} MB\n"
        f"export.csv: {c['seconds']} s, {c['bytes']:,} bytes, server RSS peak {c['rss_peak_mb']} MB\n"
        f"report: {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
