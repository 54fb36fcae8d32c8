"""app/batching.py: group commit stops without losing what it holds and without hanging."""

from __future__ import annotations

import asyncio
import time

from app.batching import GroupCommit, Refusal


class Recorder(GroupCommit[int]):
    """Writes a batch by recording it; `hold` makes every write wait until released (a stuck database)."""

    def __init__(self, *, batch_max: int = 100) -> None:
        super().__init__(batch_max=batch_max)
        self.written: list[int] = []
        self.failed: list[int] = []
        self.refused: list[tuple[int, str]] = []
        self.hold = asyncio.Event()
        self.hold.set()
        self.writing = asyncio.Event()

    def put(self, item: int) -> None:
        self._put(item)

    async def _write(self, batch: list[int]) -> None:
        self.writing.set()
        await self.hold.wait()
        self.written.extend(batch)

    def _fail(self, batch: list[int]) -> None:
        self.failed.extend(batch)

    def _refuse(self, item: int, why: Refusal) -> None:
        self.refused.append((item, why.code))


class TestStop:
    async def test_writes_what_is_queued_before_it_returns(self) -> None:
        recorder = Recorder(batch_max=2)
        await recorder.start()
        for i in range(5):
            recorder.put(i)
        await recorder.stop()
        assert sorted(recorder.written) == [0, 1, 2, 3, 4]
        assert recorder.failed == []

    async def test_a_stuck_write_is_given_up_after_the_grace_and_everything_refused(self) -> None:
        recorder = Recorder(batch_max=2)
        recorder.hold.clear()
        await recorder.start()
        for i in range(5):
            recorder.put(i)
        await asyncio.wait_for(recorder.writing.wait(), 5)
        started = time.monotonic()
        await asyncio.wait_for(recorder.stop(grace=0.3), 5)
        assert time.monotonic() - started < 3
        # The batch in hand (0, 1) and the queued rest: refused, so nobody waits for an answer forever.
        assert recorder.written == []
        assert sorted(recorder.failed) == [0, 1, 2, 3, 4]

    async def test_what_arrives_after_stop_is_refused_at_once(self) -> None:
        recorder = Recorder()
        await recorder.start()
        await recorder.stop()
        recorder.put(7)
        assert recorder.refused == [(7, "server_restarting")]
        assert recorder.written == []

    async def test_stop_before_start_returns(self) -> None:
        recorder = Recorder()
        await asyncio.wait_for(recorder.stop(), 1)


class TestBound:
    async def test_past_the_bound_an_item_is_refused_busy_and_not_queued(self) -> None:
        recorder = Recorder()
        recorder._queue_max = 2
        for i in range(3):
            recorder.put(i)
        assert recorder.queued == 2
        assert recorder.refused == [(2, "server_busy")]
        await recorder.start()
        await recorder.stop()
        assert recorder.written == [0, 1]
