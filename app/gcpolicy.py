"""When the cyclic garbage collector runs.

With thousands of sockets the heap holds millions of long-lived objects, and CPython starts a full
collection, which walks all of them, whenever the objects promoted since the last one reach a quarter
of the heap. Under answer load that happened often enough to take 46 % of the event loop (py-spy,
10,000 phones; docs/performance.md). Young collections stay automatic and cheap; full collections run
on a timer instead, so their pause comes at a known rhythm rather than in every busy second."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time

log = logging.getLogger(__name__)

# Generation 0 and 1 thresholds as CPython's defaults; the third so high it is never reached.
_THRESHOLDS = (700, 10, 1_000_000_000)


class FullCollections:
    """Freeze what start-up built, stop automatic full collections, and run one every `every` seconds."""

    def __init__(self, every: float) -> None:
        self._every = every
        self._task: asyncio.Task[None] | None = None
        self._previous = gc.get_threshold()

    async def start(self) -> None:
        gc.collect()
        # Everything built so far lives for the process: keep it out of every later collection.
        gc.freeze()
        if self._every <= 0:
            return
        gc.set_threshold(*_THRESHOLDS)
        self._task = asyncio.create_task(self._run(), name="full-collections")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        gc.set_threshold(*self._previous)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            started = time.perf_counter()
            found = gc.collect()
            log.debug(
                "full collection: %d unreachable, %.0f ms", found, (time.perf_counter() - started) * 1000
            )
