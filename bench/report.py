"""The report: one JSON file with everything measured, and a Markdown table of Thirdspace beside bare."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.stats import ratio

# (label, path into a server's result, lower_is_better)
ROWS: list[tuple[str, str, bool]] = [
    ("participants connected", "join.joined", False),
    ("join burst, seconds", "join.seconds", True),
    ("joins/s", "join.joins_per_s", False),
    ("join failures", "join.failures", True),
    ("join latency p50, ms (HTTP join + socket + snapshot)", "join.latency_ms.p50", True),
    ("join latency p99, ms", "join.latency_ms.p99", True),
    ("server RSS before joins, MB", "memory.rss_before_mb", True),
    ("server RSS with all connected, MB", "memory.rss_connected_mb", True),
    ("server RSS per connected participant, KB", "memory.rss_per_participant_kb", True),
    ("answers offered/s (while sending)", "answers.offered_per_s", False),
    ("sustained committed answers/s (while a question is live)", "answers.committed_per_s", False),
    (
        "committed answers/s over the whole phase (incl. question switches)",
        "answers.committed_per_s_wall",
        False,
    ),
    ("answer ack p50, ms", "answers.ack_latency_ms.p50", True),
    ("answer ack p95, ms", "answers.ack_latency_ms.p95", True),
    ("answer ack p99, ms", "answers.ack_latency_ms.p99", True),
    ("answer ack max, ms", "answers.ack_latency_ms.max", True),
    ("choice questions: committed answers/s", "answers.by_kind.choice.committed_per_s", False),
    ("choice questions: ack p99, ms", "answers.by_kind.choice.ack_latency_ms.p99", True),
    ("scale questions (3 statements): committed answers/s", "answers.by_kind.scale.committed_per_s", False),
    ("scale questions: ack p99, ms", "answers.by_kind.scale.ack_latency_ms.p99", True),
    (
        "word-cloud questions (1-3 words): committed answers/s",
        "answers.by_kind.wordcloud.committed_per_s",
        False,
    ),
    ("word-cloud questions: ack p99, ms", "answers.by_kind.wordcloud.ack_latency_ms.p99", True),
    ("answer -> presenter p50, ms", "answers.presenter_latency_ms.p50", True),
    ("answer -> presenter p95, ms", "answers.presenter_latency_ms.p95", True),
    ("answer -> presenter p99, ms", "answers.presenter_latency_ms.p99", True),
    (
        "answers shown to the presenter only after close (k rule)",
        "answers.presenter_shown_only_at_close",
        True,
    ),
    ("question fan-out p50, ms", "fanout.latency_ms.p50", True),
    ("question fan-out p99, ms", "fanout.latency_ms.p99", True),
    ("question fan-out max, ms", "fanout.latency_ms.max", True),
    ("peak committed answers/s (closed loop)", "peak.committed_per_s", False),
    ("peak: answers in flight", "peak.inflight", False),
    ("peak ack p50, ms", "peak.ack_latency_ms.p50", True),
    ("peak ack p99, ms", "peak.ack_latency_ms.p99", True),
    ("server CPU during joins, % of one core", "cpu.join.server_cpu_pct", True),
    ("server CPU during answer load, %", "cpu.answers.server_cpu_pct", True),
    ("server event-loop thread CPU during joins, %", "cpu.join.server_loop_thread_cpu_pct", True),
    ("server event-loop thread CPU during answer load, %", "cpu.answers.server_loop_thread_cpu_pct", True),
    ("server CPU during fan-out, %", "cpu.fanout.server_cpu_pct", True),
    ("server CPU during peak, %", "cpu.peak.server_cpu_pct", True),
    ("harness CPU during answer load, %", "cpu.answers.harness_cpu_pct", True),
    ("harness CPU during peak, %", "cpu.peak.harness_cpu_pct", True),
    ("errors of any kind", "errors.total", True),
]

RESULT_KEYS = ("join", "memory", "answers", "fanout", "peak", "cpu", "errors")

# The --matrix table: one column per configuration, each figure with its ratio to bare.
MATRIX_ROWS: list[tuple[str, str]] = [
    ("participants connected", "join.joined"),
    ("joins/s", "join.joins_per_s"),
    ("join latency p99, ms", "join.latency_ms.p99"),
    ("answers offered/s", "answers.offered_per_s"),
    ("sustained committed answers/s", "answers.committed_per_s"),
    ("answer ack p99, ms", "answers.ack_latency_ms.p99"),
    ("answer -> presenter p99, ms", "answers.presenter_latency_ms.p99"),
    ("question fan-out p99, ms", "fanout.latency_ms.p99"),
    ("peak committed answers/s (closed loop)", "peak.committed_per_s"),
    ("server CPU during joins, % of one core", "cpu.join.server_cpu_pct"),
    ("server CPU during answer load, %", "cpu.answers.server_cpu_pct"),
    ("harness CPU during answer load, %", "cpu.answers.harness_cpu_pct"),
    ("errors of any kind", "errors.total"),
]


def primary(results: dict[str, dict[str, Any]]) -> str:
    """The Thirdspace result the comparison and the targets are judged on: `thirdspace`, or in a matrix
    the first configuration."""
    if "thirdspace" in results:
        return "thirdspace"
    return next((label for label in results if label != "bare"), "thirdspace")


def lookup(data: dict[str, Any] | None, path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def machine() -> dict[str, Any]:
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
                break
    except OSError:
        pass
    versions: dict[str, str | None] = {}
    for package in ("fastapi", "starlette", "uvicorn", "websockets", "uvloop", "SQLAlchemy", "aiosqlite"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(mem_kb / 2**20, 1) if mem_kb else None,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": versions,
        "git_commit": _git_commit(),
    }


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, timeout=5, cwd=Path(__file__).resolve().parent
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _git_commit() -> str | None:
    """The commit the server ran from, with ``+dirty`` when app/ had uncommitted changes."""
    commit = _git("rev-parse", "--short", "HEAD")
    if not commit:
        return None
    return f"{commit}+dirty" if _git("status", "--porcelain", "--", "app") else commit


def targets(results: dict[str, dict[str, Any]], participants: int, rate: float) -> list[dict[str, Any]]:
    """The issue's targets, judged on the Thirdspace result; ``at_scale`` says whether this run was big
    enough for the verdict to be the target's (10,000 participants, 5,000 answers/s)."""
    ts = results.get(primary(results))
    if ts is None:
        return []
    bare = results.get("bare")
    big = participants >= 10_000
    fast = rate >= 5_000
    joined = lookup(ts, "join.joined") or 0
    jps = lookup(ts, "join.joins_per_s")
    fails = lookup(ts, "join.failures")
    per_kb = lookup(ts, "memory.rss_per_participant_kb")
    committed = lookup(ts, "answers.committed_per_s")
    ack99 = lookup(ts, "answers.ack_latency_ms.p99")
    pres99 = lookup(ts, "answers.presenter_latency_ms.p99")
    fan99 = lookup(ts, "fanout.latency_ms.p99")
    peak_ratio = ratio(lookup(ts, "peak.committed_per_s"), lookup(bare, "peak.committed_per_s"))

    def ok(cond: bool | None) -> bool | None:
        return None if cond is None else bool(cond)

    return [
        {
            "target": "10,000 participants connected to one session",
            "measured": f"{joined:,} connected",
            "met": ok(joined >= 10_000),
            "at_scale": big,
        },
        {
            "target": "server memory per connected participant <= 40 KB",
            "measured": f"{per_kb} KB",
            "met": ok(per_kb is not None and per_kb <= 40),
            "at_scale": big,
        },
        {
            "target": "10,000 joins <= 10 s with 0 failures (>= 1,000 joins/s)",
            "measured": f"{jps} joins/s, {fails} failures",
            "met": ok(jps is not None and jps >= 1_000 and fails == 0),
            "at_scale": big,
        },
        {
            "target": "sustained committed answers/s >= 5,000 with ack p99 <= 50 ms",
            "measured": f"{committed}/s, ack p99 {ack99} ms",
            "met": ok(committed is not None and committed >= 5_000 and ack99 is not None and ack99 <= 50),
            "at_scale": fast,
        },
        {
            "target": "answer -> presenter p99 <= 250 ms at 5,000/s",
            "measured": f"p99 {pres99} ms at {lookup(ts, 'answers.offered_per_s')}/s offered",
            "met": ok(pres99 is not None and pres99 <= 250 and fast),
            "at_scale": fast,
        },
        {
            "target": "new question reaching 10,000 phones p99 <= 500 ms",
            "measured": f"p99 {fan99} ms to {joined:,} phones",
            "met": ok(fan99 is not None and fan99 <= 500 and joined >= 10_000),
            "at_scale": big,
        },
        {
            "target": "Thirdspace/bare answers/s >= 0.25 (closed-loop peak)",
            "measured": f"{peak_ratio}",
            "met": None if peak_ratio is None else peak_ratio >= 0.25,
            "at_scale": True,
        },
    ]


def build(
    *,
    name: str,
    date: str,
    started_at: str,
    finished_at: str,
    command: str,
    options: dict[str, Any],
    results: dict[str, dict[str, Any]],
    machine_info: dict[str, Any] | None = None,
) -> dict[str, Any]:
    comparison = []
    main = primary(results)
    for label, path, lower_is_better in ROWS:
        ts = lookup(results.get(main), path)
        bare = lookup(results.get("bare"), path)
        comparison.append(
            {
                "figure": label,
                "key": path,
                "thirdspace": ts,
                "bare": bare,
                "ratio": ratio(ts, bare)
                if isinstance(ts, int | float) and isinstance(bare, int | float)
                else None,
                "lower_is_better": lower_is_better,
            }
        )
    return {
        "name": name,
        "date": date,
        "started_at": started_at,
        "finished_at": finished_at,
        "command": command,
        "machine": machine_info or machine(),
        "options": options,
        "results": results,
        "comparison": comparison,
        "targets": targets(results, int(options["participants"]), float(options["rate"])),
        "errors_total": sum(int(lookup(r, "errors.total") or 0) for r in results.values()),
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        if abs(value) >= 100:
            return f"{value:.0f}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"
    return str(value)


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    o = report["options"]
    lines = [
        f"# Thirdspace load benchmark: {report['name']} ({report['date']})",
        "",
        f"- command: `{report['command']}`",
        f"- machine: {m['nproc']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, Linux {m['kernel']}, "
        f"Python {m['python']}; harness on the same machine",
        f"- load: {o['participants']:,} participants, {o['rate']:,.0f} answers/s offered for "
        f"{o['duration']:.0f} s, {o['workers']} phone processes, {o['fanout_rounds']} fan-out rounds, "
        f"closed-loop peak {o['peak_seconds']:.0f} s with {o['peak_inflight']} in flight, "
        f"k (min_group) {o['min_group']}",
        f"- run: {report['started_at']} to {report['finished_at']}; "
        f"errors of any kind: {report['errors_total']}",
        "",
    ]
    if len(report["results"]) > 2:
        lines += _matrix(report["results"])
    lines += [
        f"Thirdspace below is `{primary(report['results'])}`.",
        "",
        "| figure | Thirdspace | bare | Thirdspace/bare |",
        "|---|---:|---:|---:|",
    ]
    for row in report["comparison"]:
        lines.append(
            f"| {row['figure']} | {_fmt(row['thirdspace'])} | {_fmt(row['bare'])} | {_fmt(row['ratio'])} |"
        )
    if report["targets"]:
        lines += ["", "| target | measured | met |", "|---|---|---|"]
        for t in report["targets"]:
            met = _fmt(t["met"]) if t["at_scale"] else "n/a (below target scale: run --full)"
            lines.append(f"| {t['target']} | {t['measured']} | {met} |")
    problems = {
        k: v for k, r in report["results"].items() for k, v in [(k, lookup(r, "errors.by_kind"))] if v
    }
    if problems:
        lines += ["", "Errors by kind:", ""]
        for server, kinds in problems.items():
            for kind, count in sorted(kinds.items()):
                lines.append(f"- {server}: {kind}: {count}")
    lines += [
        "",
        "Definitions (docs/performance.md has them in full): ack latency is send -> `answer.ack` on the "
        "same phone; answer -> presenter is, per question, the time from the send of the n-th oldest answer "
        "to the first `poll.results` whose `n` reaches n; fan-out is the facilitator's `PUT current` -> "
        "`session.state` on each phone; sustained answers/s counts acks over the time a question was live "
        "(first answer sent to last ack); peak is a closed loop with a fixed number of answers in flight.",
        "",
    ]
    return "\n".join(lines)


def _matrix(results: dict[str, dict[str, Any]]) -> list[str]:
    """One column per configuration; each figure of Thirdspace with its ratio to bare's."""
    labels = list(results)
    lines = [
        "| figure | " + " | ".join(labels) + " |",
        "|---|" + "---:|" * len(labels),
    ]
    bare = results.get("bare")
    for name, path in MATRIX_ROWS:
        cells = []
        for label in labels:
            value = lookup(results[label], path)
            cell = _fmt(value)
            if label != "bare" and isinstance(value, int | float):
                against = lookup(bare, path)
                if isinstance(against, int | float) and against:
                    cell += f" ({_fmt(ratio(value, against))})"
            cells.append(cell)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "In parentheses: the ratio to bare's figure. Labels: database-broker-workers "
        "(`sqlite-1` is SQLite with memory://).",
        "",
    ]
    return lines


def write(report: dict[str, Any], results_dir: Path) -> tuple[Path, Path]:
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{report['date']}-{report['name']}"
    json_path = results_dir / f"{stem}.json"
    md_path = results_dir / f"{stem}.md"
    json_path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    md_path.write_text(markdown(report))
    return json_path, md_path


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.report RESULT.json``: write RESULT.md again from the JSON (targets recomputed)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.report", description=main.__doc__)
    parser.add_argument("json_file", type=Path)
    args = parser.parse_args(argv)
    report = json.loads(args.json_file.read_text())
    options = report["options"]
    report["targets"] = targets(report["results"], int(options["participants"]), float(options["rate"]))
    args.json_file.write_text(json.dumps(report, indent=2) + "\n")
    args.json_file.with_suffix(".md").write_text(markdown(report))


if __name__ == "__main__":
    main()
