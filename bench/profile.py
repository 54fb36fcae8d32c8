"""Summarize a py-spy profile in collapsed-stack form (``py-spy record --format raw``).

``python -m bench.profile FILE [--top N]`` prints, as percentages of all samples: the share of each thread
(when recorded with ``--threads``), the functions where samples end (self time), the functions on the
stack (inclusive time), and the innermost Thirdspace frame (``app/``) of each sample, which says which
part of the server the time is spent for, whatever library does the work underneath. With ``--threads``
it also splits the event-loop thread's samples into exclusive categories; record with ``--native`` to
see the cyclic garbage collector, whose time py-spy otherwise charges to the frame that allocated.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def parse(path: Path) -> list[tuple[list[str], int]]:
    """Each line: ``frame;frame;...;leaf count``; returns (frames, count) pairs."""
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        stacks.append((stack.split(";"), int(count)))
    return stacks


def function_of(frame: str) -> str:
    """``func (file:line)`` -> ``file:func`` (the line dropped so a function's samples add up)."""
    match = FRAME.match(frame)
    if match is None:
        return frame
    return f"{match['file']}:{match['func']}"


GC_FRAMES = ("gc_collect_main", "collect_with_callback")


def main_thread_categories(stacks: list[tuple[list[str], int]]) -> tuple[int, Counter[str]]:
    """Samples of the main (event-loop) thread, each counted once in the first category it matches:
    the cyclic collector (visible with ``--native``), idle in epoll, SQLAlchemy/aiosqlite, uvicorn's
    keepalive, uvloop's C code, then the innermost ``app/`` frame, then the library."""
    categories: Counter[str] = Counter()
    total = 0
    for frames, count in stacks:
        if not any(f.startswith("thread (") and "MainThread" in f for f in frames):
            continue
        total += count
        py = [f for f in frames if ".py" in f]
        inner = py[-1] if py else ""
        app = next((f for f in reversed(py) if "(app/" in f), None)
        if any(g in f for f in frames for g in GC_FRAMES):
            key = "cyclic GC"
        elif frames and "epoll" in frames[-1]:
            key = "idle (epoll)"
        elif any(lib in f for f in py for lib in ("sqlalchemy/", "aiosqlite/", "greenlet")):
            key = "SQLAlchemy + aiosqlite"
        elif "send_keepalive_ping" in inner or "handle_pong" in inner:
            key = "uvicorn keepalive ping/pong"
        elif "Runner.run" in inner:
            key = "uvloop/C below Runner.run"
        elif app is not None and "app/cli.py" not in app:
            key = "app: " + function_of(app)
        elif "uvicorn/" in inner or "websockets/" in inner:
            key = "uvicorn/websockets protocol"
        elif any(lib in inner for lib in ("starlette/", "fastapi/", "pydantic")):
            key = "FastAPI/Starlette/pydantic"
        else:
            key = "other: " + (function_of(inner) if inner else "?")
        categories[key] += count
    return total, categories


def summarize(stacks: list[tuple[list[str], int]], top: int) -> str:
    total = sum(count for _, count in stacks) or 1
    threads: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    app: Counter[str] = Counter()
    for frames, count in stacks:
        code = [f for f in frames if not f.startswith(("process ", "thread "))]
        thread = next((f for f in frames if f.startswith("thread ")), "all threads")
        threads[thread] += count
        if not code:
            continue
        own[function_of(code[-1])] += count
        for name in {function_of(f) for f in code}:
            inclusive[name] += count
        innermost_app = next((function_of(f) for f in reversed(code) if "(app/" in f), "(no app/ frame)")
        app[innermost_app] += count

    def table(title: str, counter: Counter[str]) -> list[str]:
        lines = [f"## {title}", ""]
        for name, count in counter.most_common(top):
            lines.append(f"{100.0 * count / total:6.1f}%  {name}")
        return [*lines, ""]

    out = [f"{total} samples", ""]
    if len(threads) > 1:
        out += table("threads", threads)
    out += table("self (where the samples end)", own)
    out += table("inclusive (on the stack)", inclusive)
    out += table("innermost app/ frame", app)
    main_total, categories = main_thread_categories(stacks)
    if main_total:
        out += [f"## main thread, exclusive categories ({main_total} samples; GC needs --native)", ""]
        for name, count in categories.most_common(top):
            out.append(f"{100.0 * count / main_total:6.1f}%  {name}")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    print(summarize(parse(args.file), args.top))


if __name__ == "__main__":
    main()
