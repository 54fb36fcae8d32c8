"""Group commit: one task per process takes whatever queued while the previous batch committed (up
to a cap), writes it in one transaction, then replies to each item. A commit per item caps SQLite near
4,000 a second and blocks the event loop; batches of hundreds reach far more (TRAPS.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class GroupCommit(ABC, Generic[T]):
    """Subclasses write a batch in `_write` and refuse one that failed in `_fail`."""

    name = "group-commit"

    def __init__(self, *, batch_max: int) -> None:
        self._batch_max = batch_max
        self._queue: asyncio.Queue[T] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        # Batches failed in a row: the first one's traceback is logged, the next ones a line each.
        self._failing = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Finish what is queued, then stop."""
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def _put(self, item: T) -> None:
        self._queue.put_nowait(item)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_max and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            except Exception as error:
                self._log_failure(error)
                self._fail(batch)
            else:
                if self._failing:
                    log.info("%s: commits again after %d failed batches", self.name, self._failing)
                    self._failing = 0
            finally:
                for _ in batch:
                    self._queue.task_done()
            self.batches += 1

    def _log_failure(self, error: Exception) -> None:
        """A failing database fails every batch: its traceback once, then one line a batch."""
        self._failing += 1
        if self._failing == 1:
            log.exception("%s: a batch could not be committed", self.name)
        else:
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            log.warning(
                "%s: a batch could not be committed (%d in a row: %s)", self.name, self._failing, first_line
            )

    @abstractmethod
    async def _write(self, batch: list[T]) -> None:
        """Commit the batch in one transaction, then reply to each item."""

    @abstractmethod
    def _fail(self, batch: list[T]) -> None:
        """Reply to each item of a batch that could not be committed."""
