"""The hub: channels, seq per key, bounded queues (1013), restart (1012), unsubscribe on exit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.realtime.hub import Closed, Hub, MemoryBackend, Subscription, backend_for


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    hub = Hub(MemoryBackend(), queue_max=4)
    await hub.start()
    yield hub
    await hub.stop()


def drain(sub: Subscription) -> list[Any]:
    """Everything queued now: decoded messages, or Closed markers as they are."""
    out: list[Any] = []
    while (item := sub.get_nowait()) is not None:
        out.append(item if isinstance(item, Closed) else json.loads(item))
    return out


class TestPublish:
    async def test_reaches_subscribers_of_that_channel_only(self, hub: Hub) -> None:
        async with hub.subscribe("a") as a1, hub.subscribe("a") as a2, hub.subscribe("b") as b:
            await hub.publish("a", "poll.results", {"n": 1})
            assert drain(a1) == [{"type": "poll.results", "data": {"n": 1}}]
            assert drain(a2) == [{"type": "poll.results", "data": {"n": 1}}]
            assert drain(b) == []

    async def test_one_publish_to_several_channels_reaches_each_once(self, hub: Hub) -> None:
        async with hub.subscribe("a", "b") as both, hub.subscribe("b") as b:
            await hub.publish(("a", "b"), "session.state", {}, seq_key="s1")
            assert [m["seq"] for m in drain(b)] == [1]
            assert [m["seq"] for m in drain(both)] == [1, 1]

    async def test_without_seq_key_there_is_no_seq(self, hub: Hub) -> None:
        async with hub.subscribe("a") as sub:
            assert await hub.publish("a", "x", {}) is None
            (message,) = drain(sub)
            assert "seq" not in message

    async def test_get_returns_what_was_published(self, hub: Hub) -> None:
        async with hub.subscribe("a") as sub:
            await hub.publish("a", "x", {"k": 1})
            assert json.loads(str(await sub.get())) == {"type": "x", "data": {"k": 1}}


class TestSeq:
    async def test_grows_per_key(self, hub: Hub) -> None:
        async with hub.subscribe("a") as sub:
            await hub.publish("a", "x", {}, seq_key="s1")
            await hub.publish("a", "x", {}, seq_key="s1")
            await hub.publish("a", "x", {}, seq_key="s2")
            await hub.publish("a", "x", {}, seq_key="s1")
            assert [m["seq"] for m in drain(sub)] == [1, 2, 1, 3]
        assert await hub.current_seq("s1") == 3
        assert await hub.current_seq("s2") == 1

    async def test_is_the_same_on_every_channel_of_one_publish(self, hub: Hub) -> None:
        async with hub.subscribe("a") as a, hub.subscribe("b") as b:
            await hub.publish("a", "x", {}, seq_key="s1")
            seq = await hub.publish(("a", "b"), "x", {}, seq_key="s1")
            assert seq == 2
            assert [m["seq"] for m in drain(a)] == [1, 2]
            assert [m["seq"] for m in drain(b)] == [2]

    async def test_counts_even_when_nobody_listens(self, hub: Hub) -> None:
        await hub.publish("nobody", "x", {}, seq_key="s1")
        assert await hub.current_seq("s1") == 1
        assert await hub.current_seq("never") == 0


class _SlowReads(MemoryBackend):
    """The memory backend whose seq reads take time, as a broker's do: each read takes the value as it
    begins, then waits for `release` (set: no wait)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.release = asyncio.Event()
        self.fail_next = False

    async def current_seq(self, key: str) -> int:
        self.reads += 1
        value = await super().current_seq(key)
        await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("the broker went away")
        return value


class TestCurrentSeqReads:
    """Hub.current_seq: calls that overlap share reads, and every call is answered by a read that began
    after it (a snapshot's seq must be read after its socket subscribed)."""

    @pytest.fixture
    async def slow(self) -> AsyncIterator[tuple[Hub, _SlowReads]]:
        backend = _SlowReads()
        hub = Hub(backend)
        await hub.start()
        yield hub, backend
        await hub.stop()

    async def test_overlapping_calls_share_reads(self, slow: tuple[Hub, _SlowReads]) -> None:
        hub, backend = slow
        await hub.publish("a", "x", {}, seq_key="s1")
        calls = [asyncio.create_task(hub.current_seq("s1")) for _ in range(200)]
        await asyncio.sleep(0.01)
        backend.release.set()
        assert await asyncio.gather(*calls) == [1] * 200
        assert backend.reads == 1

    async def test_a_call_made_during_a_read_gets_the_next_read(self, slow: tuple[Hub, _SlowReads]) -> None:
        hub, backend = slow
        early = asyncio.create_task(hub.current_seq("s1"))
        await asyncio.sleep(0.01)  # the first read has begun, and saw seq 0
        await hub.publish("a", "x", {}, seq_key="s1")
        late = asyncio.create_task(hub.current_seq("s1"))
        await asyncio.sleep(0.01)
        backend.release.set()
        # The first read's 0 would be wrong for the late call: its socket may have missed event 1.
        assert (await early, await late) == (0, 1)
        assert backend.reads == 2

    async def test_a_failed_read_fails_its_callers_only(self, slow: tuple[Hub, _SlowReads]) -> None:
        hub, backend = slow
        backend.fail_next = True
        backend.release.set()
        with pytest.raises(ConnectionError):
            await hub.current_seq("s1")
        assert await hub.current_seq("s1") == 0

    async def test_a_caller_that_leaves_does_not_take_the_read_with_it(
        self, slow: tuple[Hub, _SlowReads]
    ) -> None:
        hub, backend = slow
        leaving = asyncio.create_task(hub.current_seq("s1"))
        staying = asyncio.create_task(hub.current_seq("s1"))
        await asyncio.sleep(0.01)
        leaving.cancel()
        backend.release.set()
        assert await staying == 0
        assert leaving.cancelled()


class TestSlowSubscriber:
    async def test_full_queue_gets_1013_and_nothing_more(self, hub: Hub) -> None:
        async with hub.subscribe("a") as slow, hub.subscribe("a", maxsize=100) as fast:
            for i in range(5):  # one more than queue_max=4
                await hub.publish("a", "x", {"i": i})
            await hub.publish("a", "x", {"i": 5})
            (marker,) = drain(slow)
            assert isinstance(marker, Closed)
            assert marker.code == 1013
            assert slow.closed is marker
            assert [m["data"]["i"] for m in drain(fast)] == [0, 1, 2, 3, 4, 5]
            await hub.publish("a", "x", {"i": 6})
            assert drain(slow) == []

    async def test_queue_at_its_limit_is_not_dropped(self, hub: Hub) -> None:
        async with hub.subscribe("a") as sub:
            for i in range(4):
                await hub.publish("a", "x", {"i": i})
            assert [m["data"]["i"] for m in drain(sub)] == [0, 1, 2, 3]
            assert sub.closed is None


class TestStop:
    async def test_every_subscriber_gets_1012(self) -> None:
        hub = Hub(MemoryBackend(), queue_max=4)
        await hub.start()
        async with hub.subscribe("a") as a, hub.subscribe("b") as b:
            await hub.publish("a", "x", {})
            await hub.stop()
            for sub in (a, b):
                (marker,) = drain(sub)
                assert isinstance(marker, Closed)
                assert marker.code == 1012

    async def test_nothing_is_delivered_after_stop(self) -> None:
        hub = Hub(MemoryBackend(), queue_max=4)
        await hub.start()
        async with hub.subscribe("a") as sub:
            await hub.stop()
            drain(sub)
            await hub.publish("a", "x", {})
            assert drain(sub) == []


class TestUnsubscribe:
    async def test_leaving_the_context_unsubscribes(self, hub: Hub) -> None:
        async with hub.subscribe("a", "b") as sub:
            assert hub.subscriber_count("a") == 1
            assert hub.subscriber_count("b") == 1
        assert hub.subscriber_count("a") == 0
        assert hub.subscriber_count("b") == 0
        await hub.publish("a", "x", {})
        assert drain(sub) == []

    async def test_leaving_on_an_error_unsubscribes(self, hub: Hub) -> None:
        with pytest.raises(RuntimeError):
            async with hub.subscribe("a"):
                raise RuntimeError("socket failed")
        assert hub.subscriber_count("a") == 0

    async def test_others_stay_subscribed(self, hub: Hub) -> None:
        async with hub.subscribe("a") as stays:
            async with hub.subscribe("a"):
                assert hub.subscriber_count("a") == 2
            assert hub.subscriber_count("a") == 1
            await hub.publish("a", "x", {})
            assert len(drain(stays)) == 1


class TestBackendFor:
    def test_memory_url(self) -> None:
        assert isinstance(backend_for("memory://"), MemoryBackend)

    def test_redis_url(self) -> None:
        from app.realtime.redis_backend import RedisBackend

        assert isinstance(backend_for("redis://localhost:6379/0"), RedisBackend)

    def test_other_urls_are_refused(self) -> None:
        with pytest.raises(ValueError, match="amqp"):
            backend_for("amqp://localhost/")


class TestSnapshotFirst:
    async def test_snapshot_goes_ahead_of_queued_events_it_covers(self) -> None:
        from app.realtime.envelope import encode
        from app.realtime.hub import Hub, MemoryBackend

        hub = Hub(MemoryBackend())
        await hub.start()
        async with hub.subscribe("c") as sub:
            await hub.publish("c", "session.state", {"v": 1}, seq_key="s")  # seq 1: covered
            await hub.publish("c", "session.state", {"v": 2}, seq_key="s")  # seq 2: newer than the snapshot
            sub.deliver(encode("answer.ack", {"id": "x"}))  # a reply: no seq, kept
            sub.snapshot_first([encode("session.state", {"v": 1, "snapshot": True}, seq=1)], seq=1)
            got = [sub.get_nowait() for _ in range(3)]
            assert sub.get_nowait() is None
        await hub.stop()
        assert [json.loads(str(t))["data"] for t in got] == [
            {"v": 1, "snapshot": True},
            {"v": 2},
            {"id": "x"},
        ]
