"""How many sockets are open per key (a session's phones), reported at most once a second per key."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Report = Callable[[str, int], Awaitable[None]]


class Presence:
    def __init__(self, report: Report, *, interval: float = 1.0) -> None:
        self._report = report
        self._interval = interval
        self._counts: dict[str, int] = defaultdict(int)
        self._changed: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def count(self, key: str) -> int:
        return self._counts.get(key, 0)

    def join(self, key: str) -> None:
        self._counts[key] += 1
        self._changed.add(key)

    def touch(self, key: str) -> None:
        """Report this key at the next tick although no socket came or went (someone joined or
        agreed: the report adds counts that live elsewhere)."""
        self._changed.add(key)

    def leave(self, key: str) -> None:
        self._counts[key] -= 1
        if self._counts[key] <= 0:
            del self._counts[key]
        self._changed.add(key)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="presence")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            changed, self._changed = self._changed, set()
            for key in changed:
                try:
                    await self._report(key, self.count(key))
                except Exception:
                    log.exception("presence report failed")
