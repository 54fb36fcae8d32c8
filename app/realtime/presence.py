"""How many sockets are open per key (a session's phones), reported at most once a second per key.

Each process counts its own sockets. With a shared store (the Redis backend) every process stores its
counts there each interval, and the total is the sum over live processes. A process reports the keys
that changed on it, and a key whose total moved without a change here (another process died) is
reported by the one process whose store call saw the move."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable

from app.realtime.hub import PresenceStore

log = logging.getLogger(__name__)

Report = Callable[[str, int], Awaitable[None]]


class Presence:
    def __init__(self, report: Report, *, interval: float = 1.0, store: PresenceStore | None = None) -> None:
        self._report = report
        self._interval = interval
        self._store = store
        self._counts: dict[str, int] = defaultdict(int)
        self._changed: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def count(self, key: str) -> int:
        """This process's sockets for the key."""
        return self._counts.get(key, 0)

    async def total(self, key: str) -> int:
        """Every process's sockets for the key."""
        if self._store is None:
            return self.count(key)
        return await self._store.presence_total(key)

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
            try:
                await self._once()
            except Exception:
                log.exception("presence report failed")

    async def _once(self) -> None:
        changed, self._changed = self._changed, set()
        if self._store is None:
            for key in changed:
                try:
                    await self._report(key, self.count(key))
                except Exception:
                    log.exception("presence report failed")
            return
        try:
            await self._store.heartbeat()
            # Every key with sockets here is stored each interval (a node that died drops out of the
            # total, and the change is reported by whichever node stores next).
            for key in changed | set(self._counts):
                total, report = await self._store.share_presence(key, self.count(key))
                # A key that changed here is reported (a touch adds counts that live elsewhere); one
                # that did not, only when the total moved (a process died).
                if report or key in changed:
                    await self._report(key, total)
        except Exception:
            # The broker is away: store again next interval.
            self._changed |= changed
            raise
