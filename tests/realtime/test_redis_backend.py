"""The hub on the Redis backend, against a real Redis: two hubs stand for two processes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from app.realtime.hub import BrokerUnavailable, Closed, Hub, Subscription, backend_for
from app.realtime.redis_backend import RedisBackend
from tests.conftest import REDIS_URL, RedisServer


def _hub(prefix: str, *, url: str = REDIS_URL, log_max: int = 1000, **kwargs: Any) -> Hub:
    return Hub(backend_for(url, prefix=prefix, log_max=log_max), **kwargs)


@pytest.fixture
async def two_hubs(redis_prefix: str) -> AsyncIterator[tuple[Hub, Hub]]:
    a, b = _hub(redis_prefix), _hub(redis_prefix)
    await a.start()
    await b.start()
    yield a, b
    await a.stop()
    await b.stop()


async def next_message(sub: Subscription, timeout: float = 5.0) -> Any:
    item = await asyncio.wait_for(sub.get(), timeout)
    return item if isinstance(item, Closed) else json.loads(item)


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


class TestPublish:
    async def test_reaches_a_subscriber_of_another_process(self, two_hubs: tuple[Hub, Hub]) -> None:
        a, b = two_hubs
        async with b.subscribe("room") as sub:
            await a.publish("room", "poll.results", {"n": 3})
            assert await next_message(sub) == {"type": "poll.results", "data": {"n": 3}}

    async def test_channels_are_under_the_prefix(self, redis_prefix: str) -> None:
        mine, other = _hub(redis_prefix), _hub(f"{redis_prefix}-other")
        await mine.start()
        await other.start()
        try:
            async with mine.subscribe("room") as sub:
                await other.publish("room", "x", {})
                await mine.publish("room", "y", {})
                assert (await next_message(sub))["type"] == "y"
        finally:
            await mine.stop()
            await other.stop()


class TestSeq:
    async def test_agrees_across_processes(self, two_hubs: tuple[Hub, Hub]) -> None:
        a, b = two_hubs
        async with a.subscribe("room") as on_a, b.subscribe("room") as on_b:
            seqs = [await (a if i % 2 else b).publish("room", "x", {"i": i}, seq_key="s1") for i in range(6)]
            assert seqs == [1, 2, 3, 4, 5, 6]
            got_a = [(await next_message(on_a))["seq"] for _ in range(6)]
            got_b = [(await next_message(on_b))["seq"] for _ in range(6)]
        assert got_a == got_b == [1, 2, 3, 4, 5, 6]
        assert await a.current_seq("s1") == await b.current_seq("s1") == 6

    async def test_survives_a_restart_of_the_process(self, redis_prefix: str) -> None:
        first = _hub(redis_prefix)
        await first.start()
        await first.publish("room", "x", {}, seq_key="s1")
        await first.publish("room", "x", {}, seq_key="s1")
        await first.stop()
        second = _hub(redis_prefix)
        await second.start()
        try:
            assert await second.current_seq("s1") == 2
            assert await second.publish("room", "x", {}, seq_key="s1") == 3
        finally:
            await second.stop()


class TestReplayLog:
    async def test_is_trimmed_to_exactly_its_size(self, redis_prefix: str) -> None:
        hub = _hub(redis_prefix, log_max=5)
        await hub.start()
        try:
            for i in range(12):
                await hub.publish("room", "x", {"i": i}, seq_key="s1")
            # 12 events, 5 kept (8..12): a client that saw 7 can catch up, one that saw 6 cannot.
            caught = await hub.catch_up("s1", 7, ("room",))
            assert caught is not None
            texts, upto = caught
            assert [json.loads(t)["seq"] for t in texts] == [8, 9, 10, 11, 12]
            assert upto == 12
            assert await hub.catch_up("s1", 6, ("room",)) is None
        finally:
            await hub.stop()

    async def test_catch_up_from_another_process_keeps_order_and_channels(
        self, two_hubs: tuple[Hub, Hub]
    ) -> None:
        a, b = two_hubs
        for i in range(10):
            await (a if i % 3 else b).publish(
                ("phones", "screens") if i % 2 else "screens", "x", {"i": i}, seq_key="s1"
            )
        caught = await b.catch_up("s1", 2, ("phones",))
        assert caught is not None
        texts, upto = caught
        assert [json.loads(t)["data"]["i"] for t in texts] == [3, 5, 7, 9]
        assert upto == 10

    async def test_a_broker_that_came_back_empty_means_a_snapshot(self, redis_prefix: str) -> None:
        hub = _hub(redis_prefix)
        await hub.start()
        try:
            await hub.publish("room", "x", {}, seq_key="s1")
            # The client saw seq 40 before Redis lost everything: it is ahead of the session.
            assert await hub.catch_up("s1", 40, ("room",)) is None
            assert await hub.catch_up("s1", 1, ("room",)) == ([], 1)
        finally:
            await hub.stop()


class TestLease:
    async def test_one_process_holds_it_until_it_lapses(self, two_hubs: tuple[Hub, Hub]) -> None:
        a, b = two_hubs
        assert await a.lease("results:q1", 300) == 0
        assert await a.lease("results:q1", 300) == 0  # renewed
        wait = await b.lease("results:q1", 300)
        assert 0 < wait <= 0.3
        await asyncio.sleep(wait + 0.05)
        assert await b.lease("results:q1", 300) == 0
        assert await a.lease("results:q1", 300) > 0


class TestPresence:
    async def test_counts_add_up_across_processes_and_one_reports(self, two_hubs: tuple[Hub, Hub]) -> None:
        a, b = two_hubs
        store_a, store_b = a.presence_store, b.presence_store
        assert store_a is not None and store_b is not None
        await store_a.heartbeat()
        await store_b.heartbeat()
        assert await store_a.share_presence("s1", 3) == (3, True)
        assert await store_b.share_presence("s1", 2) == (5, True)
        assert await store_a.share_presence("s1", 3) == (5, False)
        assert await store_b.presence_total("s1") == 5
        assert await store_b.share_presence("s1", 0) == (3, True)

    async def test_a_process_that_stopped_beating_drops_out(self, redis_prefix: str) -> None:
        from redis.asyncio import Redis

        a, b = _hub(redis_prefix), _hub(redis_prefix)
        await a.start()
        await b.start()
        try:
            store_a, store_b = a.presence_store, b.presence_store
            assert store_a is not None and store_b is not None
            await store_a.heartbeat()
            await store_b.heartbeat()
            await store_a.share_presence("s1", 4)
            await store_b.share_presence("s1", 1)
            backend_a = a._backend
            assert isinstance(backend_a, RedisBackend)
            client = Redis.from_url(REDIS_URL)
            await client.delete(f"{redis_prefix}:node:{backend_a.node_id}")  # as if A died
            await client.aclose()
            assert await store_b.share_presence("s1", 1) == (1, True)
        finally:
            await a.stop()
            await b.stop()


class TestLostBroker:
    async def test_subscribers_are_told_to_reconnect_and_the_bus_comes_back(
        self, own_redis: RedisServer
    ) -> None:
        hub = _hub("lost", url=own_redis.url)
        await hub.start()
        try:
            async with hub.subscribe("room") as sub:
                own_redis.stop()
                closed = await next_message(sub, timeout=10)
                assert isinstance(closed, Closed) and closed.code == 1012
                with pytest.raises(BrokerUnavailable):
                    await hub.publish("room", "x", {}, seq_key="s1")
            own_redis.start()

            async def delivered() -> bool:
                async with hub.subscribe("room") as again:
                    try:
                        await hub.publish("room", "x", {"back": True})
                    except BrokerUnavailable:
                        return False
                    try:
                        message = await next_message(again, timeout=0.5)
                    except TimeoutError:
                        return False
                    return not isinstance(message, Closed) and message["data"] == {"back": True}

            await eventually(delivered, timeout=15)
        finally:
            await hub.stop()

    async def test_an_unreachable_broker_at_start_is_a_sentence(self, own_redis: RedisServer) -> None:
        own_redis.stop()
        hub = _hub("down", url=own_redis.url)
        with pytest.raises(BrokerUnavailable, match="THIRDSPACE_BROKER_URL: Redis cannot be reached"):
            await hub.start()
