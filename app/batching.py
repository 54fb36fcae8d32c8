"""Group commit: one task per process takes whatever queued while the previous batch committed (up
to a cap), writes it in one transaction, then replies to each item. A commit per item caps SQLite near
4,000 a second and blocks the event loop; batches of hundreds reach far more (TRAPS.md)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Generic, TypeVar

from app import metrics

log = logging.getLogger(__name__)

T = TypeVar("T")
# A batch commits in well under a second (docs/performance.md); 10 s of waiting means the database is
# stuck, and a shutdown must end anyway (a service manager kills what outlives its own timeout).
STOP_GRACE_SECONDS = 10.0
# The default bound of a queue (settings WRITER_QUEUE_MAX and JOIN_QUEUE_MAX say why).
QUEUE_MAX = 20_000


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a message was not queued: a stable code and a sentence, with the seconds to wait."""

    code: str
    message: str
    retry_after: int


BUSY = Refusal("server_busy", "The server is too busy to take this now; send it again in a few seconds.", 5)
RESTARTING = Refusal("server_restarting", "The server is restarting; send it again in a moment.", 2)


class GroupCommit(ABC, Generic[T]):
    """Subclasses write a batch in `_write` and refuse one that failed in `_fail`."""

    name = "group-commit"

    def __init__(self, *, batch_max: int, queue_max: int = QUEUE_MAX) -> None:
        self._batch_max = batch_max
        # Bounded: past it a message is refused at once (`_refuse`, BUSY), never queued without end.
        self._queue_max = queue_max
        self._queue: asyncio.Queue[T] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        # Batches failed in a row: the first one's traceback is logged, the next ones a line each.
        self._failing = 0
        self._stopping = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self, *, grace: float = STOP_GRACE_SECONDS) -> None:
        """Take nothing more, finish what is queued (the batch in hand included) for at most `grace`
        seconds, then stop; what is still unwritten is refused (`_fail`), never left waiting."""
        self._stopping = True
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._queue.join(), grace)
        except TimeoutError:
            log.error(
                "%s: gave up after %.0f s with %d messages unwritten; they are refused and will be resent",
                self.name,
                grace,
                self._queue.qsize(),
            )
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        left = [self._queue.get_nowait() for _ in range(self._queue.qsize())]
        if left:
            self._fail(left)

    def _put(self, item: T) -> None:
        if self._stopping:
            # The server is shutting down: refuse at once rather than queue for a task that is gone.
            self._refuse(item, RESTARTING)
        elif self._queue.qsize() >= self._queue_max:
            self._refuse(item, BUSY)
        else:
            self._queue.put_nowait(item)

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_max and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                with metrics.timed_batch(self.name, len(batch)):
                    await self._write(batch)
            except asyncio.CancelledError:
                # Stopped mid-batch (the stop timed out): its transaction rolled back; refuse it.
                self._fail(batch)
                raise
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

    @abstractmethod
    def _refuse(self, item: T, why: Refusal) -> None:
        """Reply to an item that was not queued (the queue is full, or the writer is stopping)."""
