"""The hub's Redis backend (THIRDSPACE_BROKER_URL=redis://...): pub/sub between processes, and the
state they share: each session's seq and replay log, leases, presence.

- A numbered event is one Lua call: INCR the seq, XADD it to the session's log (a stream trimmed to
  exactly `log_max` entries), PUBLISH it to each channel. Seq order, log order and delivery order on a
  channel are therefore the same on every node.
- Pub/sub may drop messages (a node that reconnects misses what was sent meanwhile). Nothing depends on
  it: messages say "this changed", results are recomputed from the database, and sockets catch up
  from the log or a snapshot. When the subscription connection is lost, every local subscriber is told
  (the hub closes sockets with 1012); the connection is rebuilt in the background, and once it is back
  every subscriber is told again, because those that subscribed while it was away missed messages.
- redis-py reconnects a pub/sub connection silently unless its retry is Retry(NoBackoff(), 0); this
  backend builds it so, and notices every loss.
- Keys and channels are all under `prefix`, so several deployments (or tests) share one Redis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import uuid
from collections.abc import Callable
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import RedisError

from app.realtime.hub import BrokerUnavailable, Deliver, Logged

log = logging.getLogger(__name__)

# Seq, log and presence keys of a session nobody touched for a week are let go; a client whose
# last_seq is then ahead of the session's seq gets a snapshot.
KEY_TTL_SECONDS = 7 * 24 * 3600
# A node that stops refreshing its heartbeat for this long no longer counts in presence.
NODE_TTL_MS = 5000
# Command connections per process, and how long a command waits for a free one.
POOL_CONNECTIONS = 32
POOL_WAIT_SECONDS = 10
# Reconnecting the subscription: from 0.1 s, doubling up to 2 s.
RECONNECT_MIN = 0.1
RECONNECT_MAX = 2.0

_PUBLISH = """
local seq = redis.call('INCR', KEYS[1])
local text = ARGV[3] .. seq .. ARGV[4]
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[1], '*', 's', seq, 'c', ARGV[5], 't', text)
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
for i = 6, #ARGV do
  redis.call('PUBLISH', ARGV[i], text)
end
return seq
"""

# -1 when this node holds the lease (taken or renewed now), else the milliseconds it has left.
_LEASE = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return -1
end
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return -1
end
return redis.call('PTTL', KEYS[1])
"""

# Store this node's count, sum the live nodes' counts (dropping dead nodes), and say whether the total
# differs from the one last reported (then this caller reports it, and no other node does).
_PRESENCE = """
if tonumber(ARGV[2]) > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
local total = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if redis.call('EXISTS', ARGV[3] .. all[i]) == 1 then
    total = total + tonumber(all[i + 1])
  else
    redis.call('HDEL', KEYS[1], all[i])
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
local shown = redis.call('GET', KEYS[2])
if shown ~= tostring(total) then
  redis.call('SET', KEYS[2], total, 'EX', ARGV[4])
  return {total, 1}
end
return {total, 0}
"""

_PRESENCE_TOTAL = """
local total = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if redis.call('EXISTS', ARGV[1] .. all[i]) == 1 then
    total = total + tonumber(all[i + 1])
  end
end
return total
"""

# INCRBY, and an expiry for a counter just made.
_COUNT = """
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if value == tonumber(ARGV[1]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
"""

# The hour's random key: made by whoever asks first, the same for every process, gone with its hour.
_HOUR_KEY = """
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
return redis.call('GET', KEYS[1])
"""

_UNAVAILABLE = (RedisError, OSError)


class RedisBackend:
    def __init__(self, url: str, *, prefix: str, log_max: int) -> None:
        self._url = url
        self._prefix = prefix.rstrip(":") + ":"
        self._channel_prefix = f"{self._prefix}ch:"
        self._log_max = log_max
        self.node_id = uuid.uuid4().hex
        self._redis: Redis | None = None
        self._pubsub: PubSub | None = None
        self._pubsub_owner: Redis | None = None
        self._channels: set[str] = set()
        self._deliver: Deliver | None = None
        self._on_lost: Callable[[], None] = lambda: None
        self._reader: asyncio.Task[None] | None = None
        self._scripts: dict[str, Any] = {}

    # Keys and channel names, all under the prefix.
    def _key(self, kind: str, name: str) -> str:
        return f"{self._prefix}{kind}:{name}"

    def _channel(self, channel: str) -> str:
        return f"{self._channel_prefix}{channel}"

    @property
    def _hello(self) -> str:
        # Every node is always subscribed to this channel, so the subscription connection always exists
        # and a loss is noticed even with no socket open.
        return self._channel("hello")

    @property
    def connected(self) -> bool:
        """Whether the subscription connection is up (while it is not, commands fail too)."""
        return self._pubsub is not None

    async def connect(self, deliver: Deliver, on_lost: Callable[[], None]) -> None:
        self._deliver = deliver
        self._on_lost = on_lost
        # Commands retry twice, quickly; past that the caller hears BrokerUnavailable. A join burst asks
        # for far more commands at once than Redis needs connections: they wait for one of a bounded
        # pool (redis-py's default pool refuses past 100 with MaxConnectionsError instead).
        pool = BlockingConnectionPool.from_url(
            self._url,
            max_connections=POOL_CONNECTIONS,
            timeout=POOL_WAIT_SECONDS,
            decode_responses=True,
            socket_connect_timeout=2,
            socket_timeout=5,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), 2),
        )
        self._redis = Redis.from_pool(pool)  # closing the client closes the pool
        for name, source in (
            ("publish", _PUBLISH),
            ("lease", _LEASE),
            ("presence", _PRESENCE),
            ("presence_total", _PRESENCE_TOTAL),
            ("count", _COUNT),
            ("hour_key", _HOUR_KEY),
        ):
            self._scripts[name] = self._redis.register_script(source)
        try:
            await self._redis.ping()
            pubsub = await self._open_pubsub()
        except _UNAVAILABLE as error:
            await self._redis.aclose()
            raise BrokerUnavailable(
                f"THIRDSPACE_BROKER_URL: Redis cannot be reached ({error}); start it or correct the URL."
            ) from error
        self._reader = asyncio.create_task(self._read(pubsub), name="redis-subscription")

    async def disconnect(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        await self._close_pubsub()
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def _open_pubsub(self) -> PubSub:
        """A subscription connection that never reconnects by itself, subscribed to every channel
        wanted now."""
        own = Redis.from_url(
            self._url, decode_responses=True, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0)
        )
        pubsub = own.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._hello, *self._channels)
        except BaseException:
            await pubsub.aclose()
            await own.aclose(close_connection_pool=True)
            raise
        self._pubsub = pubsub
        self._pubsub_owner = own
        return pubsub

    async def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
        owner, self._pubsub_owner = self._pubsub_owner, None
        if owner is not None:
            with contextlib.suppress(Exception):
                await owner.aclose(close_connection_pool=True)

    async def _read(self, pubsub: PubSub) -> None:
        delay = RECONNECT_MIN
        while True:
            try:
                await self._pump(pubsub)
            except asyncio.CancelledError:
                raise
            except _UNAVAILABLE as error:
                log.warning("lost the Redis subscription (%s); reconnecting", type(error).__name__)
            await self._close_pubsub()
            self._on_lost()
            while True:
                await asyncio.sleep(delay)
                try:
                    pubsub = await self._open_pubsub()
                except _UNAVAILABLE:
                    delay = min(RECONNECT_MAX, delay * 2)
                    continue
                break
            delay = RECONNECT_MIN
            log.warning("Redis subscription restored")
            # Whoever subscribed while it was away missed messages: tell them too.
            self._on_lost()

    async def _pump(self, pubsub: PubSub) -> None:
        deliver = self._deliver
        strip = len(self._channel_prefix)
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            if message is None or message.get("type") != "message" or deliver is None:
                continue
            channel = message["channel"]
            if channel == self._hello:
                continue
            deliver(channel[strip:], message["data"])

    async def subscribe(self, channel: str) -> None:
        name = self._channel(channel)
        self._channels.add(name)
        if self._pubsub is not None:
            # While the connection is away the name is only remembered: the reconnect subscribes it.
            with contextlib.suppress(*_UNAVAILABLE):
                await self._pubsub.subscribe(name)

    async def unsubscribe(self, channel: str) -> None:
        name = self._channel(channel)
        self._channels.discard(name)
        if self._pubsub is not None:
            with contextlib.suppress(*_UNAVAILABLE):
                await self._pubsub.unsubscribe(name)

    def _client(self) -> Redis:
        if self._redis is None:
            raise BrokerUnavailable("the Redis backend is not connected")
        return self._redis

    async def _call(self, script: str, keys: list[str], args: list[Any]) -> Any:
        try:
            return await self._scripts[script](keys=keys, args=args, client=self._client())
        except _UNAVAILABLE as error:
            raise BrokerUnavailable(f"Redis: {error}") from error

    async def publish(self, channel: str, text: str) -> None:
        try:
            await self._client().publish(self._channel(channel), text)
        except _UNAVAILABLE as error:
            raise BrokerUnavailable(f"Redis: {error}") from error

    async def publish_numbered(self, channels: tuple[str, ...], key: str, head: str, tail: str) -> int:
        seq = await self._call(
            "publish",
            [self._key("seq", key), self._key("log", key)],
            [
                self._log_max,
                KEY_TTL_SECONDS,
                head,
                tail,
                "\n".join(channels),
                *(self._channel(c) for c in channels),
            ],
        )
        return int(seq)

    async def current_seq(self, key: str) -> int:
        try:
            value = await self._client().get(self._key("seq", key))
        except _UNAVAILABLE as error:
            raise BrokerUnavailable(f"Redis: {error}") from error
        return int(value) if value is not None else 0

    async def log(self, key: str) -> list[Logged]:
        try:
            entries = await self._client().xrange(self._key("log", key))
        except _UNAVAILABLE as error:
            raise BrokerUnavailable(f"Redis: {error}") from error
        kept: list[Logged] = []
        for _, fields in entries or ():
            assert fields is not None
            channels = str(fields["c"]).split("\n")
            kept.append(Logged(int(fields["s"]), tuple(channels), str(fields["t"])))
        return kept

    async def lease(self, name: str, ms: int) -> float:
        left = int(await self._call("lease", [self._key("lease", name)], [self.node_id, ms]))
        return 0.0 if left < 0 else max(left, 1) / 1000

    async def heartbeat(self) -> None:
        try:
            await self._client().set(self._key("node", self.node_id), 1, px=NODE_TTL_MS)
        except _UNAVAILABLE as error:
            raise BrokerUnavailable(f"Redis: {error}") from error

    async def share_presence(self, key: str, count: int) -> tuple[int, bool]:
        total, report = await self._call(
            "presence",
            [self._key("presence", key), self._key("presence-shown", key)],
            [self.node_id, count, self._key("node", ""), KEY_TTL_SECONDS],
        )
        return int(total), bool(report)

    async def presence_total(self, key: str) -> int:
        return int(await self._call("presence_total", [self._key("presence", key)], [self._key("node", "")]))

    # Counters that expire, and the hour's key (app/auth/ratelimit.py's Counts and HourKeys): the join
    # limit counted by every process together. The keys are HMACs, never addresses.
    async def get(self, keys: list[str]) -> list[int]:
        if not keys:
            return []
        try:
            values = await self._client().mget([self._key("count", k) for k in keys])
        except _UNAVAILABLE as error:
            raise BrokerUnavailable(f"Redis: {error}") from error
        return [int(v) if v is not None else 0 for v in values]

    async def add(self, key: str, amount: int, *, ttl_seconds: float) -> int:
        ttl_ms = max(1, int(ttl_seconds * 1000))
        return int(await self._call("count", [self._key("count", key)], [amount, ttl_ms]))

    async def hour_key(self, window: int, *, ttl_seconds: float) -> bytes:
        ttl_ms = max(1, int(ttl_seconds * 1000))
        made = secrets.token_hex(32)
        return bytes.fromhex(
            str(await self._call("hour_key", [self._key("hour-key", str(window))], [made, ttl_ms]))
        )
