"""Rate limits that keep no addresses: an address is counted under an HMAC whose key is random, held
in memory only, and replaced every hour; it is never written or logged (ETHICS 2).

Two limiters. `FailureLimiter` counts failed logins per address in a sliding window. `JoinLimiter`
bounds wrong join codes without locking out a room whose phones share one public address; its
reasoning, with the arithmetic, is in docs/operations.md ("Wrong join codes")."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import math
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar

Clock = Callable[[], float]
T = TypeVar("T")

# One hour: the window every join count lives in, and how long one HMAC key lives. When the hour
# ends, its key and its counts go together, so nothing links one hour's counts to the next.
WINDOW_SECONDS = 3600


class FailureLimiter:
    """Failed logins per address in a sliding window."""

    def __init__(self, *, allowed: int, window_seconds: int) -> None:
        self._allowed = allowed
        self._window = window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._key = secrets.token_bytes(32)
        self._key_hour = self._hour()

    @staticmethod
    def _hour() -> int:
        return int(time.time() // 3600)

    def _bucket(self, address: str) -> str:
        hour = self._hour()
        if hour != self._key_hour:
            # A new key every hour: yesterday's buckets cannot be linked to today's addresses.
            self._key, self._key_hour, self._failures = secrets.token_bytes(32), hour, {}
        return hmac.new(self._key, address.encode(), hashlib.sha256).hexdigest()

    def _recent(self, bucket: str, now: float) -> deque[float]:
        times = self._failures.setdefault(bucket, deque())
        while times and times[0] <= now - self._window:
            times.popleft()
        if not times:
            del self._failures[bucket]
            return deque()
        return times

    def retry_after(self, address: str) -> int | None:
        """Seconds to wait before this address may try again, or None when it may try now."""
        now = time.monotonic()
        times = self._recent(self._bucket(address), now)
        if len(times) < self._allowed:
            return None
        return max(1, math.ceil(times[0] + self._window - now))

    def fail(self, address: str) -> None:
        bucket = self._bucket(address)
        self._failures.setdefault(bucket, deque()).append(time.monotonic())


class Counts(Protocol):
    """Counters that expire: the join limiter's whole state. In memory now; in Redis when the broker is
    Redis (issue 11: `MGET`, and `INCRBY` with `EXPIRE`), so that every process counts together. The
    hour's HMAC key must then be shared by the processes too (and still never be written to disk)."""

    async def get(self, keys: list[str]) -> list[int]:
        """The current value of each key; 0 for a key never added to, or expired."""
        ...

    async def add(self, key: str, amount: int, *, ttl_seconds: float) -> int:
        """Add to a key (made at 0 with this time to live if absent) and return its new value."""
        ...


class HourKeys(Protocol):
    """The random HMAC key of one hour, the same for every process that asks (in Redis, made once by
    whichever process asks first and expiring with its hour)."""

    async def hour_key(self, window: int, *, ttl_seconds: float) -> bytes: ...


class MemoryCounts:
    """Counts in this process's memory, dropped when they expire."""

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._counts: dict[str, tuple[int, float]] = {}
        self._next_sweep = 0.0

    async def get(self, keys: list[str]) -> list[int]:
        now = self._clock()
        values = []
        for key in keys:
            found = self._counts.get(key)
            values.append(found[0] if found is not None and found[1] > now else 0)
        return values

    async def add(self, key: str, amount: int, *, ttl_seconds: float) -> int:
        now = self._clock()
        if now >= self._next_sweep:
            # Once a minute: expired counts (an hour that ended) leave memory.
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            self._next_sweep = now + 60
        found = self._counts.get(key)
        count, expires = found if found is not None and found[1] > now else (0, now + ttl_seconds)
        self._counts[key] = (count + amount, expires)
        return count + amount

    def __len__(self) -> int:
        return len(self._counts)


@dataclass(frozen=True, slots=True)
class JoinBudget:
    """Wrong join codes allowed in an hour (the numbers and their reasons are in app/config.py)."""

    per_address: int
    per_join: int
    max_per_address: int
    global_max: int
    # Seconds an attempt over the address's budget waits before its code is looked at, and over the
    # budget all addresses share; one attempt at a time per address, so they cap its lookups an hour.
    over_budget_delay: float
    over_global_delay: float


class TooManyWrongCodes(Exception):
    """A wrong code from an address over its budget (looked at only after a wait); try again after
    `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many wrong codes; retry after {retry_after} s")
        self.retry_after = retry_after


# Keys of the current hour a process remembers of the shared counts (a few MB at most).
LOCAL_KNOWLEDGE_MAX = 50_000


class JoinLimiter:
    """Wrong join codes, limited per address and across all addresses, per hour.

    - A right code is looked at and let in whenever its address is within budget, and always when
      someone from the same address has joined that session this hour: a room behind one address is
      never locked out of its own session, however many typos it makes.
    - A wrong code counts once per address an hour: a room that misreads the screen, all typing the
      same wrong code, spends one, and asking again for a code already found wrong tells nothing new.
    - Each address may send `per_address` wrong codes an hour, plus `per_join` for each right join
      from it, up to `max_per_address`: a room's budget grows with the room, a guesser's does not
      grow past the cap.
    - Past `global_max` wrong codes an hour from all addresses together, every address that has
      already sent a wrong code this hour is slowed further (`over_global_delay`), so many addresses
      guessing together are slowed too; a phone's first try is still looked at at once.
    - An attempt over budget is never refused unseen: it waits its turn (`over_budget_delay`, one
      attempt at a time per address), then its code is looked at. A right code is let in (the contract:
      never a 429 for a correct code); a wrong one gets 429. Waiting, not refusing, is what bounds a
      guesser: one address gets at most 3600 / delay lookups an hour past its budget. IPv6 addresses
      are counted by their /64, the block one subscriber usually holds."""

    def __init__(
        self,
        budget: JoinBudget,
        *,
        counts: Counts | None = None,
        hour_keys: HourKeys | None = None,
        clock: Clock = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._budget = budget
        self._clock = clock
        self._sleep = sleep
        self._counts: Counts = counts if counts is not None else MemoryCounts(clock)
        self._hour_keys = hour_keys
        self._window = -1
        self._key = b""
        # What this process already knows of the current hour, so a room's joins make no round trips
        # to shared counts: "proven" codes (an hour's fact, never undone), and the right joins it
        # counted per address, whose count stops mattering once the budget reaches its cap.
        self._proven_here: set[str] = set()
        self._joins_here: dict[str, int] = {}
        per_join = budget.per_join
        self._joins_that_matter = (
            math.ceil(max(0, budget.max_per_address - budget.per_address) / per_join) if per_join > 0 else 0
        )
        # One lookup at a time per address: otherwise a guesser with a thousand requests in flight
        # would have them all looked at before the first wrong one is counted.
        self._locks: dict[str, _Turn] = {}

    async def admit(self, address: str, code: str, lookup: Callable[[str], Awaitable[T | None]]) -> T | None:
        """What `lookup` finds for the code (None for a wrong code within budget, which is counted), or
        TooManyWrongCodes for a wrong code from an address over budget, looked at after its wait."""
        window, subject = await self._subject(address)
        keys = self._keys(window, subject, code)
        proven = keys.proven in self._proven_here
        if not proven:
            (shared,) = await self._counts.get([keys.proven])
            if shared:
                proven = True
                self._know_proven(keys.proven)
        if proven:
            # Someone from this address joined with this code this hour: it never waits (rule 1), so it
            # needs no turn. A room behind one address joins side by side, not one at a time (with
            # Redis counts, a turn held over its round trips capped a room at a few dozen joins a second).
            found = await lookup(code)
            if found is not None:
                await self._count_join(keys, window)
                return found
            # The session closed meanwhile: the code is wrong now, and counted as such below.
        async with self._serialised(subject):
            delay = await self._delay(address, code)
            if delay:
                # Holding the address's turn: its next attempt waits behind this one.
                await self._sleep(delay)
            found = await self._look(address, code, lookup)
            if found is None and delay:
                raise TooManyWrongCodes(max(1, math.ceil(delay)))
            return found

    async def _delay(self, address: str, code: str) -> float:
        """How long this attempt waits before its code is looked at: 0 within budget, and always for a
        code someone from this address joined with this hour, or one it already found wrong."""
        window, subject = await self._subject(address)
        keys = self._keys(window, subject, code)
        proven, known_wrong, wrong, joins, wrong_everywhere = await self._counts.get(
            [keys.proven, keys.known_wrong, keys.wrong, keys.joins, keys.everywhere]
        )
        if proven or known_wrong:
            return 0.0
        budget = min(self._budget.max_per_address, self._budget.per_address + self._budget.per_join * joins)
        if wrong and wrong_everywhere >= self._budget.global_max:
            return max(self._budget.over_global_delay, self._budget.over_budget_delay)
        return self._budget.over_budget_delay if wrong >= budget else 0.0

    async def _look(self, address: str, code: str, lookup: Callable[[str], Awaitable[T | None]]) -> T | None:
        """Look the code up and count the outcome in the hour it is looked up in (a wait may have
        crossed into the next)."""
        window, subject = await self._subject(address)
        keys = self._keys(window, subject, code)
        ttl = (window + 1) * WINDOW_SECONDS - self._clock()
        proven, known_wrong = await self._counts.get([keys.proven, keys.known_wrong])
        found = await lookup(code)
        if found is None:
            if not known_wrong:
                await self._counts.add(keys.known_wrong, 1, ttl_seconds=ttl)
                await self._counts.add(keys.wrong, 1, ttl_seconds=ttl)
                await self._counts.add(keys.everywhere, 1, ttl_seconds=ttl)
        else:
            await self._count_join(keys, window)
            if not proven:
                await self._counts.add(keys.proven, 1, ttl_seconds=ttl)
            self._know_proven(keys.proven)
        return found

    async def _count_join(self, keys: _Keys, window: int) -> None:
        """A right join raises its address's budget, until the cap: past it this process counts no more
        of them (other processes count theirs; the total is only ever higher)."""
        counted = self._joins_here.get(keys.joins, 0)
        if counted >= self._joins_that_matter:
            return
        if len(self._joins_here) >= LOCAL_KNOWLEDGE_MAX:
            self._joins_here.clear()
        self._joins_here[keys.joins] = counted + 1
        ttl = (window + 1) * WINDOW_SECONDS - self._clock()
        await self._counts.add(keys.joins, 1, ttl_seconds=ttl)

    def _know_proven(self, key: str) -> None:
        if len(self._proven_here) >= LOCAL_KNOWLEDGE_MAX:
            self._proven_here.clear()  # forgetting costs only a round trip
        self._proven_here.add(key)

    def _keys(self, window: int, subject: str, code: str) -> _Keys:
        this_code = self._mac(subject, code)
        return _Keys(
            proven=f"{window}:p:{this_code}",
            known_wrong=f"{window}:x:{this_code}",
            wrong=f"{window}:w:{subject}",
            joins=f"{window}:j:{subject}",
            everywhere=f"{window}:g",
        )

    async def _subject(self, address: str) -> tuple[int, str]:
        """The hour, and the address as counted: an HMAC under this hour's key, of the address (or of
        its /64 for IPv6)."""
        window = int(self._clock() // WINDOW_SECONDS)
        if window != self._window:
            if self._hour_keys is not None:
                ttl = (window + 1) * WINDOW_SECONDS - self._clock()
                key = await self._hour_keys.hour_key(window, ttl_seconds=ttl)
            else:
                key = secrets.token_bytes(32)
            self._window, self._key = window, key
            self._proven_here.clear()
            self._joins_here.clear()
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            counted = address
        else:
            is_v6 = isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is None
            counted = str(ipaddress.ip_network(f"{parsed}/64", strict=False)) if is_v6 else address
        return window, self._mac(counted)

    def _mac(self, *parts: str) -> str:
        # 128 bits of the HMAC: enough to tell addresses apart, half the memory of a full digest.
        return hmac.new(self._key, "\0".join(parts).encode(), hashlib.sha256).hexdigest()[:32]

    @asynccontextmanager
    async def _serialised(self, subject: str) -> AsyncIterator[None]:
        turn = self._locks.get(subject)
        if turn is None:
            turn = self._locks[subject] = _Turn()
        turn.users += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.users -= 1
            if turn.users == 0:
                # Nobody else holds or waits: the dict keeps only addresses with a join in flight.
                del self._locks[subject]


@dataclass(frozen=True, slots=True)
class _Keys:
    """The counts one attempt reads and adds to, for one hour, address (as counted) and code."""

    proven: str
    known_wrong: str
    wrong: str
    joins: str
    everywhere: str


class _Turn:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0
