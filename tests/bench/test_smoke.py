"""A tiny run of the load benchmark against both servers, so the harness cannot rot.

It asserts the shape of the report and that nothing went wrong; it never asserts a timing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

PHASE_KEYS = {
    "join": {"joined", "failures", "seconds", "joins_per_s", "latency_ms"},
    "memory": {"rss_before_mb", "rss_connected_mb", "rss_per_participant_kb", "rss_end_mb"},
    "answers": {
        "sent",
        "acked",
        "committed_per_s",
        "ack_latency_ms",
        "presenter_latency_ms",
        "presenter_shown_only_at_close",
        "by_kind",
    },
    "fanout": {"latency_ms", "missing"},
    "peak": {"committed_per_s", "ack_latency_ms"},
    "cpu": {"join", "answers", "fanout", "peak"},
    "errors": {"total", "by_kind"},
}
PARTICIPANTS = 20


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("bench-results")
    done = subprocess.run(
        [
            sys.executable, "-W", "error", "-m", "bench",
            "--participants", str(PARTICIPANTS), "--rate", "100", "--duration", "2",
            "--fanout-rounds", "1", "--peak-seconds", "1", "--peak-inflight", "10",
            "--name", "smoke", "--results-dir", str(out),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, (
        f"bench exited {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    )
    reports = list(out.glob("*-smoke.json"))
    assert len(reports) == 1, list(out.iterdir())
    assert reports[0].with_suffix(".md").exists()
    return json.loads(reports[0].read_text())


def test_report_has_every_figure_for_both_servers(report: dict) -> None:
    assert {"name", "date", "command", "machine", "options", "results", "comparison", "targets"} <= set(
        report
    )
    assert set(report["results"]) == {"thirdspace", "bare"}
    for server, result in report["results"].items():
        for phase, keys in PHASE_KEYS.items():
            assert keys <= set(result.get(phase, {})), f"{server}.{phase}: {result.get(phase)}"
    for row in report["comparison"]:
        assert {"figure", "thirdspace", "bare", "ratio"} <= set(row)
    assert len(report["targets"]) == 7


def test_every_participant_joined_answered_and_saw_the_new_question(report: dict) -> None:
    for server, result in report["results"].items():
        assert result["join"]["joined"] == PARTICIPANTS, server
        assert result["connected_at_end"] == PARTICIPANTS, server
        answers = result["answers"]
        assert answers["sent"] > 0 and answers["acked"] == answers["sent"], (server, answers)
        assert answers["presenter_latency_ms"]["count"] > 0, server
        # Every kind of the answer phase was asked and answered: per-kind figures exist.
        for kind in ("choice", "scale", "wordcloud"):
            assert answers["by_kind"][kind]["acked"] > 0, (server, kind, answers["by_kind"])
        assert result["fanout"]["latency_ms"]["count"] == PARTICIPANTS, server
        assert result["peak"]["acked"] > 0, server


def test_no_errors_of_any_kind(report: dict) -> None:
    for server, result in report["results"].items():
        assert result["errors"] == {"total": 0, "by_kind": {}}, server
        assert result["server_log_problems"] == [], server
    assert report["errors_total"] == 0
