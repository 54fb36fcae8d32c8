"""A small hub in encode/broadcaster's shape, plus what broadcaster lacks: bounded per-subscriber
queues, slow subscribers told to go (1013), and every subscriber told to reconnect (1012) when the
backend dies or the hub stops."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from app.realtime.envelope import encode, encode_around_seq, envelope_seq, envelope_seq_fast

log = logging.getLogger(__name__)
T = TypeVar("T")

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

    __slots__ = ("_floor", "_items", "_maxsize", "_waiter", "channels", "closed")

    def __init__(self, channels: tuple[str, ...], maxsize: int) -> None:
        self.channels = channels
        self._items: deque[str | Closed] = deque()
        self._maxsize = maxsize
        self._waiter: asyncio.Future[None] | None = None
        self.closed: Closed | None = None
        # After a snapshot or a catch-up taken at seq F: events up to F that a broker delivers late
        # are already covered and dropped, until the first newer one (a broker keeps seq order).
        self._floor: int | None = None

    def deliver(self, text: str) -> None:
        if self.closed is not None:
            return
        if self._floor is not None:
            seq = envelope_seq_fast(text)
            if seq is not None:
                if seq <= self._floor:
                    return
                self._floor = None
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
        self._floor = None
        for text in texts:
            self.deliver(text)
        for item in queued:
            if isinstance(item, Closed):
                self.close(item)
            else:
                item_seq = envelope_seq(item)
                if item_seq is None or item_seq > seq:
                    self.deliver(item)
        self._floor = seq

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


class BrokerUnavailable(RuntimeError):
    """The broker cannot be reached now: a socket told this closes with 1012 and reconnects later."""


@dataclass(frozen=True, slots=True)
class Logged:
    """One event kept in a session's replay log: its seq, the channels it went to, its text."""

    seq: int
    channels: tuple[str, ...]
    text: str


class Backend(Protocol):
    """Carries texts between processes; the hub fans them out to local subscribers. Events with a seq
    are numbered, kept in the key's bounded replay log and published in one step, so the log's order,
    the seq order and the delivery order on each channel are the same."""

    async def connect(self, deliver: Deliver, on_lost: Callable[[], None]) -> None: ...
    async def disconnect(self) -> None: ...
    async def subscribe(self, channel: str) -> None: ...
    async def unsubscribe(self, channel: str) -> None: ...
    async def publish(self, channel: str, text: str) -> None: ...
    async def publish_numbered(self, channels: tuple[str, ...], key: str, head: str, tail: str) -> int:
        """Give the key's next seq N, keep `head + N + tail` in its log, publish it; return N."""
        ...

    async def current_seq(self, key: str) -> int: ...
    async def log(self, key: str) -> list[Logged]:
        """The key's kept events, oldest first (contiguous seqs)."""
        ...

    async def lease(self, name: str, ms: int) -> float:
        """Take or renew a lease: 0 if this process holds it now, else the seconds until it may be free."""
        ...


class PresenceStore(Protocol):
    """Open sockets per key summed over every process (app/realtime/presence.py)."""

    async def heartbeat(self) -> None: ...
    async def share_presence(self, key: str, count: int) -> tuple[int, bool]:
        """Store this process's count; return the total and whether this call is the one to report it."""
        ...

    async def presence_total(self, key: str) -> int: ...


# Events kept per session for ?last_seq= catch-up, when the setting does not say.
REPLAY_LOG_MAX = 1000


class MemoryBackend:
    """One process: publishing is delivering; the replay log is a ring per key."""

    def __init__(self, *, log_max: int = REPLAY_LOG_MAX) -> None:
        self._deliver: Deliver | None = None
        self._seq: dict[str, int] = defaultdict(int)
        self._log_max = log_max
        self._logs: dict[str, deque[Logged]] = {}

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

    async def publish_numbered(self, channels: tuple[str, ...], key: str, head: str, tail: str) -> int:
        self._seq[key] += 1
        seq = self._seq[key]
        text = f"{head}{seq}{tail}"
        ring = self._logs.get(key)
        if ring is None:
            ring = self._logs[key] = deque(maxlen=self._log_max)
        ring.append(Logged(seq, channels, text))
        for channel in channels:
            await self.publish(channel, text)
        return seq

    async def current_seq(self, key: str) -> int:
        return self._seq.get(key, 0)

    async def log(self, key: str) -> list[Logged]:
        return list(self._logs.get(key, ()))

    async def lease(self, name: str, ms: int) -> float:
        return 0.0


def backend_for(url: str, *, prefix: str = "thirdspace", log_max: int = REPLAY_LOG_MAX) -> Backend:
    """The backend named by THIRDSPACE_BROKER_URL: `memory://`, or `redis://` / `rediss://` (keys and
    channels under `prefix`)."""
    if url == "memory://":
        return MemoryBackend(log_max=log_max)
    scheme = url.split(":", 1)[0]
    if scheme in ("redis", "rediss", "unix"):
        from app.realtime.redis_backend import RedisBackend

        return RedisBackend(url, prefix=prefix, log_max=log_max)
    raise ValueError(f"unsupported broker URL scheme: {scheme}")


class NextRead(Generic[T]):
    """Calls that overlap share one read, and each call is answered by a read that began after it was
    made: what a snapshot's seq needs (read after its socket subscribed), at one read of the broker for
    all the sockets that asked while the last read was in flight, not one each (a join burst asks
    hundreds of times a second; each GET cost a phone's handshake 3 % of the server's CPU)."""

    def __init__(self, read: Callable[[], Awaitable[T]], on_idle: Callable[[], object]) -> None:
        self._read = read
        self._on_idle = on_idle
        self._next: asyncio.Future[T] | None = None  # the callers waiting for a read not yet begun
        self._driver: asyncio.Task[None] | None = None

    async def __call__(self) -> T:
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            # Retrieved even when every caller has gone: no "exception never retrieved" in the log.
            self._next.add_done_callback(lambda done: done.cancelled() or done.exception())
        waiting = self._next
        if self._driver is None:
            self._driver = asyncio.create_task(self._drive())
        return await asyncio.shield(waiting)

    async def _drive(self) -> None:
        try:
            while self._next is not None:
                # Everyone who asked before this read begins gets it; who asks during it, the next.
                waiting, self._next = self._next, None
                try:
                    waiting.set_result(await self._read())
                except Exception as error:
                    waiting.set_exception(error)
                except BaseException:
                    waiting.cancel()
                    raise
        finally:
            if self._next is not None:  # cancelled: nothing will read for them
                self._next.cancel()
                self._next = None
            self._driver = None
            self._on_idle()


class Hub:
    """`gate`, if given, sees every text as it is delivered to this process's subscribers, in the order
    the backend delivers them, and may drop it: a rule that depends on what came before on the same
    channel (no results to phones after "results hidden") is kept there, in order, with no race
    between the publisher's reading of the database and the facilitator's change."""

    def __init__(
        self, backend: Backend, *, queue_max: int = 256, gate_factory: Callable[[], Gate] | None = None
    ) -> None:
        self._backend = backend
        self._queue_max = queue_max
        # One gate for live delivery; a fresh one walks the replay log for each catch-up.
        self._gate_factory = gate_factory
        self._gate = gate_factory() if gate_factory is not None else None
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)
        self._seq_reads: dict[str, NextRead[int]] = {}

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
        targets = (channels,) if isinstance(channels, str) else channels
        if seq_key is not None:
            head, tail = encode_around_seq(type_, data)
            return await self._backend.publish_numbered(targets, seq_key, head, tail)
        text = encode(type_, data)
        for channel in targets:
            await self._backend.publish(channel, text)
        return None

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

    @property
    def broker_up(self) -> bool:
        """False while the backend knows its connection to the broker is lost."""
        return bool(getattr(self._backend, "connected", True))

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
        """The last seq given out for this key (0 before any), for snapshots: read after this call
        began, in one read for all the calls that overlap (NextRead)."""
        read = self._seq_reads.get(key)
        if read is None:
            read = self._seq_reads[key] = NextRead(
                lambda: self._backend.current_seq(key), lambda: self._seq_reads.pop(key, None)
            )
        return await read()

    async def catch_up(self, key: str, after: int, channels: tuple[str, ...]) -> tuple[list[str], int] | None:
        """The events of `key` after seq `after` meant for `channels`, in order, and the seq they bring
        a socket to; None when they are not all kept (the log has moved past them, or `after` is ahead
        of the key's seq because the broker came back empty): then the socket needs a snapshot.

        The gate is applied as it was live: a fresh gate walks the whole kept log in order."""
        current = await self._backend.current_seq(key)
        if after > current:
            return None
        kept = await self._backend.log(key)
        if not kept:
            return ([], current) if after == current else None
        if kept[0].seq > after + 1 or kept[-1].seq < current:
            return None
        gate = self._gate_factory() if self._gate_factory is not None else None
        wanted = set(channels)
        texts: list[str] = []
        for event in kept:
            # Every channel goes through the gate (it learns from each), even once the text is taken.
            passed = [channel for channel in event.channels if gate is None or gate(channel, event.text)]
            if event.seq > after and wanted.intersection(passed):
                texts.append(event.text)
        return texts, max(current, kept[-1].seq)

    async def lease(self, name: str, ms: int) -> float:
        """0 if this process holds (or now took, or renewed) the lease `name`, else seconds to wait."""
        return await self._backend.lease(name, ms)

    @property
    def presence_store(self) -> PresenceStore | None:
        """The backend's shared presence, when there are other processes to share it with."""
        backend = self._backend
        return backend if hasattr(backend, "share_presence") else None  # type: ignore[return-value]

    @property
    def shared_counts(self) -> Any:
        """The backend's counters shared by every process (get/add/hour_key), or None on memory://."""
        backend = self._backend
        return backend if hasattr(backend, "hour_key") else None

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
