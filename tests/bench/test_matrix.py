"""The benchmark's configurations (--database, --broker, --workers, --clients, --matrix) and the matrix
table of the report, from results shaped as a run writes them (no timing is asserted)."""

from __future__ import annotations

from bench.__main__ import MATRIX, configurations, parse
from bench.report import markdown, primary


def _result(joins: float, committed: float) -> dict:
    return {
        "join": {"joined": 10, "joins_per_s": joins},
        "answers": {"committed_per_s": committed},
        "errors": {"total": 0, "by_kind": {}},
    }


class TestOptions:
    def test_defaults_keep_the_two_servers(self) -> None:
        opts, _ = parse([])
        assert configurations(opts) == [
            ("thirdspace", "thirdspace", "sqlite", "memory", 1),
            ("bare", "bare", "sqlite", "memory", 1),
        ]
        assert opts.workers == 2  # phone processes
        assert opts.server_workers == 1

    def test_database_broker_and_server_workers(self) -> None:
        opts, _ = parse(
            ["--only", "thirdspace", "--database", "postgres", "--broker", "redis", "--workers", "2"]
        )
        assert configurations(opts) == [("thirdspace", "thirdspace", "postgres", "redis", 2)]

    def test_clients_are_the_phone_processes(self) -> None:
        opts, _ = parse(["--clients", "3"])
        assert (opts.workers, opts.server_workers) == (3, 1)

    def test_matrix_runs_the_five_configurations(self) -> None:
        opts, _ = parse(["--matrix"])
        assert configurations(opts) == MATRIX
        assert [label for label, *_ in MATRIX] == [
            "sqlite-1",
            "pg-memory-1",
            "pg-redis-1",
            "pg-redis-2",
            "bare",
        ]


class TestMatrixReport:
    def test_one_column_per_configuration_with_ratios_to_bare(self) -> None:
        results = {
            "sqlite-1": _result(100, 1000),
            "pg-redis-2": _result(300, 1800),
            "bare": _result(500, 2000),
        }
        assert primary(results) == "sqlite-1"
        report = {
            "name": "m",
            "date": "2026-12-01",
            "started_at": "a",
            "finished_at": "b",
            "command": "python -m bench --matrix",
            "machine": {"nproc": 2, "cpu_model": "x", "memory_gib": 4, "kernel": "6", "python": "3.11"},
            "options": {
                "participants": 10,
                "rate": 10.0,
                "duration": 1.0,
                "workers": 2,
                "fanout_rounds": 1,
                "peak_seconds": 1.0,
                "peak_inflight": 5,
                "min_group": 5,
            },
            "results": results,
            "comparison": [],
            "targets": [],
            "errors_total": 0,
        }
        text = markdown(report)
        assert "| figure | sqlite-1 | pg-redis-2 | bare |" in text
        assert "| joins/s | 100 (0.2) | 300 (0.6) | 500 |" in text
        assert "| sustained committed answers/s | 1,000 (0.5) | 1,800 (0.9) | 2,000 |" in text
