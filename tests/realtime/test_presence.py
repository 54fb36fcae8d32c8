"""Presence: open sockets per key, reported at most once an interval per key."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from app.realtime.presence import Presence


class Reports:
    """Collects reports; `wait(n)` returns once n have arrived."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self._arrived = asyncio.Condition()

    async def __call__(self, key: str, count: int) -> None:
        async with self._arrived:
            self.calls.append((key, count))
            self._arrived.notify_all()

    async def wait(self, n: int) -> list[tuple[str, int]]:
        return await self.wait_for(lambda: len(self.calls) >= n)

    async def wait_for(self, done: Callable[[], bool]) -> list[tuple[str, int]]:
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(done), 5)
        return self.calls


@pytest.fixture
async def reports() -> Reports:
    return Reports()


@pytest.fixture
async def presence(reports: Reports) -> AsyncIterator[Presence]:
    presence = Presence(reports, interval=0.005)
    await presence.start()
    yield presence
    await presence.stop()


class TestCounts:
    def test_join_and_leave(self) -> None:
        presence = Presence(Reports())
        presence.join("s1")
        presence.join("s1")
        presence.join("s2")
        presence.leave("s1")
        assert (presence.count("s1"), presence.count("s2"), presence.count("s3")) == (1, 1, 0)

    def test_last_leave_is_zero(self) -> None:
        presence = Presence(Reports())
        presence.join("s1")
        presence.leave("s1")
        assert presence.count("s1") == 0


class TestReports:
    async def test_changes_within_one_interval_are_one_report(
        self, presence: Presence, reports: Reports
    ) -> None:
        # No await between the joins: the reporter cannot run in between, so they share an interval.
        presence.join("s1")
        presence.join("s1")
        presence.join("s1")
        assert await reports.wait(1) == [("s1", 3)]
        presence.leave("s1")
        presence.join("s1")
        presence.leave("s1")
        assert await reports.wait(2) == [("s1", 3), ("s1", 2)]

    async def test_no_change_is_no_report(self, presence: Presence, reports: Reports) -> None:
        presence.join("s1")
        await reports.wait(1)
        # s2 changes later: by the time it is reported, s1 (unchanged since) must not be reported again.
        presence.join("s2")
        assert await reports.wait_for(lambda: ("s2", 1) in reports.calls) == [("s1", 1), ("s2", 1)]

    async def test_each_key_is_reported(self, presence: Presence, reports: Reports) -> None:
        presence.join("s1")
        presence.join("s2")
        presence.join("s2")
        assert sorted(await reports.wait(2)) == [("s1", 1), ("s2", 2)]

    async def test_everyone_leaving_reports_zero(self, presence: Presence, reports: Reports) -> None:
        presence.join("s1")
        await reports.wait(1)
        presence.leave("s1")
        assert await reports.wait(2) == [("s1", 1), ("s1", 0)]

    async def test_a_failing_report_does_not_stop_later_ones(self, reports: Reports) -> None:
        failed = asyncio.Event()

        async def flaky(key: str, count: int) -> None:
            if not failed.is_set():
                failed.set()
                raise RuntimeError("hub gone")
            await reports(key, count)

        presence = Presence(flaky, interval=0.005)
        await presence.start()
        try:
            presence.join("s1")
            await asyncio.wait_for(failed.wait(), 5)
            presence.join("s1")
            assert await reports.wait(1) == [("s1", 2)]
        finally:
            await presence.stop()
