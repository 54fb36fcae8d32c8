"""A small hub in encode/broadcaster's shape, plus what broadcaster lacks: bounded per-subscriber
queues, slow subscribers told to go (1013), and every subscriber told to reconnect (1012) when the
backend dies or the hub stops."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

from app.realtime.envelope import encode, envelope_seq

log = logging.getLogger(__name__)

Deliver = Callable[[str, str], None]
# Decides, in delivery order, whether a text published to a channel reaches that channel's local
# subscribers (see Hub's `gate`).
Gate = Callable[[str, str], bool]


class Closed:
    """Put on a subscriber's queue instead of a message: the socket should close with this code."""

    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason


# 1013: this socket could not keep up; 1012: the server (or its broker) is restarting.
SLOW_CONSUMER = Closed(1013, "could not keep up; reconnect with ?last_seq=")
RESTARTING = Closed(1012, "server restarting; reconnect now")


class Subscription:
    """One subscriber's bounded queue of message texts: a deque and at most one waiting reader, which
    is a few hundred bytes per socket where an asyncio.Queue costs about 3 KB."""

    __slots__ = ("_items", "_maxsize", "_waiter", "channels", "closed")

    def __init__(self, channels: tuple[str, ...], maxsize: int) -> None:
        self.channels = channels
        self._items: deque[str | Closed] = deque()
        self._maxsize = maxsize
        self._waiter: asyncio.Future[None] | None = None
        self.closed: Closed | None = None

    def deliver(self, text: str) -> None:
        if self.closed is not None:
            return
        if len(self._items) >= self._maxsize:
            self.close(SLOW_CONSUMER)
            return
        self._items.append(text)
        self._wake()

    def close(self, why: Closed) -> None:
        """Drop what is queued and leave only the reason, so the reader wakes and stops."""
        if self.closed is not None:
            return
        self.closed = why
        self._items.clear()
        self._items.append(why)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def snapshot_first(self, texts: list[str], *, seq: int) -> None:
        """Put a snapshot (taken at `seq`) ahead of what queued while it was read, dropping queued
        events it already covers (seq <= the snapshot's), so a screen never steps back to older state."""
        if self.closed is not None:
            return
        queued = list(self._items)
        self._items.clear()
        for text in texts:
            self.deliver(text)
        for item in queued:
            if isinstance(item, Closed):
                self.close(item)
            else:
                item_seq = envelope_seq(item)
                if item_seq is None or item_seq > seq:
                    self.deliver(item)

    async def get(self) -> str | Closed:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    def get_nowait(self) -> str | Closed | None:
        return self._items.popleft() if self._items else None


class Backend(Protocol):
    """Carries texts between processes; the hub fans them out to local subscribers."""

    async def connect(self, deliver: Deliver, on_lost: Callable[[], None]) -> None: ...
    async def disconnect(self) -> None: ...
    async def subscribe(self, channel: str) -> None: ...
    async def unsubscribe(self, channel: str) -> None: ...
    async def publish(self, channel: str, text: str) -> None: ...
    async def next_seq(self, key: str) -> int: ...
    async def current_seq(self, key: str) -> int: ...


class MemoryBackend:
    """One process: publishing is delivering."""

    def __init__(self) -> None:
        self._deliver: Deliver | None = None
        self._seq: dict[str, int] = defaultdict(int)

    async def connect(self, deliver: Deliver, on_lost: Callable[[], None]) -> None:
        self._deliver = deliver

    async def disconnect(self) -> None:
        self._deliver = None

    async def subscribe(self, channel: str) -> None:
        return None

    async def unsubscribe(self, channel: str) -> None:
        return None

    async def publish(self, channel: str, text: str) -> None:
        if self._deliver is not None:
            self._deliver(channel, text)

    async def next_seq(self, key: str) -> int:
        self._seq[key] += 1
        return self._seq[key]

    async def current_seq(self, key: str) -> int:
        return self._seq.get(key, 0)


def backend_for(url: str) -> Backend:
    """The backend named by THIRDSPACE_BROKER_URL."""
    if url == "memory://":
        return MemoryBackend()
    raise ValueError(f"unsupported broker URL scheme: {url.split(':', 1)[0]}")


class Hub:
    """`gate`, if given, sees every text as it is delivered to this process's subscribers, in the order
    the backend delivers them, and may drop it: a rule that depends on what came before on the same
    channel (no results to phones after "results hidden") is kept there, in order, with no race
    between the publisher's reading of the database and the facilitator's change."""

    def __init__(self, backend: Backend, *, queue_max: int = 256, gate: Gate | None = None) -> None:
        self._backend = backend
        self._queue_max = queue_max
        self._gate = gate
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)

    async def start(self) -> None:
        await self._backend.connect(self._deliver, self._lost)

    async def stop(self) -> None:
        self._close_all(RESTARTING)
        await self._backend.disconnect()

    async def publish(
        self, channels: str | tuple[str, ...], type_: str, data: Any, *, seq_key: str | None = None
    ) -> int | None:
        """Publish one event to one or more channels; with seq_key it carries the next seq of that key
        (a session id), the same number on every channel."""
        seq = await self._backend.next_seq(seq_key) if seq_key is not None else None
        text = encode(type_, data, seq=seq)
        for channel in (channels,) if isinstance(channels, str) else channels:
            await self._backend.publish(channel, text)
        return seq

    @asynccontextmanager
    async def subscribe(self, *channels: str, maxsize: int | None = None) -> AsyncIterator[Subscription]:
        sub = Subscription(channels, maxsize or self._queue_max)
        for channel in channels:
            first = not self._subscribers[channel]
            self._subscribers[channel].add(sub)
            if first:
                await self._backend.subscribe(channel)
        try:
            yield sub
        finally:
            # sub.channels: as subscribed, with what add_channel/remove_channel changed since.
            for channel in sub.channels:
                subs = self._subscribers.get(channel)
                if subs is None:
                    continue
                subs.discard(sub)
                if not subs:
                    del self._subscribers[channel]
                    await self._backend.unsubscribe(channel)

    async def add_channel(self, sub: Subscription, channel: str) -> None:
        """Let a live subscription hear one more channel (a phone entering its breakout group)."""
        if channel in sub.channels:
            return
        sub.channels = (*sub.channels, channel)
        first = not self._subscribers[channel]
        self._subscribers[channel].add(sub)
        if first:
            await self._backend.subscribe(channel)

    async def remove_channel(self, sub: Subscription, channel: str) -> None:
        """Stop a live subscription hearing a channel it added (leaving a breakout group)."""
        if channel not in sub.channels:
            return
        sub.channels = tuple(c for c in sub.channels if c != channel)
        subs = self._subscribers.get(channel)
        if subs is None:
            return
        subs.discard(sub)
        if not subs:
            del self._subscribers[channel]
            await self._backend.unsubscribe(channel)

    async def current_seq(self, key: str) -> int:
        """The last seq given out for this key (0 before any), for snapshots."""
        return await self._backend.current_seq(key)

    def subscriber_count(self, channel: str) -> int:
        return len(self._subscribers.get(channel, ()))

    def _deliver(self, channel: str, text: str) -> None:
        if self._gate is not None and not self._gate(channel, text):
            return
        for sub in tuple(self._subscribers.get(channel, ())):
            sub.deliver(text)

    def _lost(self) -> None:
        log.warning("broker connection lost; asking every socket to reconnect")
        self._close_all(RESTARTING)

    def _close_all(self, why: Closed) -> None:
        for subs in self._subscribers.values():
            for sub in subs:
                sub.close(why)
