"""Prometheus metrics (GET /metrics): sockets, answers, the writers' batch sizes and latency, fan-out
latency and hub lag. Counts only, never a session, participant or answer (ETHICS 2).

With several worker processes (`serve --workers N`), set PROMETHEUS_MULTIPROC_DIR to an empty folder
before the server starts (`thirdspace serve` does so itself for N > 1): every process writes its
values there and any worker's /metrics adds them up."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

# Batch sizes: one answer alone up to WRITER_BATCH_MAX (1,000).
_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)
# Seconds: a batch commits in milliseconds; seconds mean a database in trouble.
_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

SOCKETS = Gauge("thirdspace_sockets", "Open websockets of this process", multiprocess_mode="livesum")
PARTICIPANTS = Gauge(
    "thirdspace_participants_connected", "Phones with an open socket", multiprocess_mode="livesum"
)
HUB_LAG = Gauge(
    "thirdspace_hub_lag_messages",
    "Events waiting to be sent to this process's slowest socket (dropped with 1013 past SOCKET_QUEUE_MAX)",
    multiprocess_mode="livemax",
)
QUEUED = Gauge(
    "thirdspace_writer_queued",
    "Messages waiting for a writer",
    ["writer"],
    multiprocess_mode="livesum",
)
ANSWERS = Counter(
    "thirdspace_answers",
    "Phone messages (answers, upvotes, comments) settled by the writer, by outcome",
    ["outcome"],
)
BATCH_SIZE = Histogram(
    "thirdspace_writer_batch_size", "Messages committed in one transaction", ["writer"], buckets=_SIZES
)
BATCH_SECONDS = Histogram(
    "thirdspace_writer_batch_seconds",
    "Time to commit one batch and reply to each message in it",
    ["writer"],
    buckets=_SECONDS,
)
FANOUT_SECONDS = Histogram(
    "thirdspace_fanout_seconds",
    "Time to publish one poll.results to every screen and phone of its session (hub publish)",
    buckets=_SECONDS,
)

# Labelled series of a multiprocess registry are missing until touched: touch the known ones.
for _outcome in ("acked", "refused"):
    ANSWERS.labels(_outcome)
for _writer in ("answer-writer", "join-writer"):
    QUEUED.labels(_writer)
    BATCH_SIZE.labels(_writer)
    BATCH_SECONDS.labels(_writer)


@contextmanager
def timed_batch(writer: str, size: int) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        BATCH_SIZE.labels(writer).observe(size)
        BATCH_SECONDS.labels(writer).observe(time.perf_counter() - started)


def render() -> tuple[bytes, str]:
    """The text exposition of every metric: this process's, or all workers' in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(DEFAULT_REGISTRY), CONTENT_TYPE_LATEST


class Sampler:
    """Reads the gauges from the running objects once a second (sockets, hub lag, queues)."""

    def __init__(self, sample: Callable[[], dict[str, Any]], *, every: float = 1.0) -> None:
        self._sample = sample
        self._every = every
        self._task: asyncio.Task[None] | None = None

    def sample_now(self) -> None:
        values = self._sample()
        SOCKETS.set(values["sockets"])
        PARTICIPANTS.set(values["participants"])
        HUB_LAG.set(values["hub_lag"])
        for writer, queued in values["queued"].items():
            QUEUED.labels(writer).set(queued)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="metrics-sampler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                self.sample_now()
            await asyncio.sleep(self._every)
