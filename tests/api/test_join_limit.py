"""The limit on wrong join codes (docs/operations.md, "Wrong join codes"): a room behind one address
all gets in, typos and all; a guesser gets a bounded number of guesses an hour, and many addresses
guessing together are slowed by a budget they share. Time is the limiter's injected clock."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI

from app.auth.ratelimit import JoinLimiter, MemoryCounts
from app.config import Settings
from app.main import join_budget
from tests.factories import Api

VENUE = "203.0.113.7"  # a documentation address (RFC 5737): the venue's one public address
PHONES = 500


def _client(app: FastAPI, address: str) -> httpx.AsyncClient:
    """A client whose requests come from `address`, as the server sees it (one phone, no cookie jar
    shared with any other)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def _typo(code: str, rng: random.Random) -> str:
    """The code with one digit changed, as a thumb slips."""
    i = rng.randrange(len(code))
    digit = str((int(code[i]) + rng.randrange(1, 10)) % 10)
    return code[:i] + digit + code[i + 1 :]


class TestCrowdedVenue:
    async def test_500_phones_behind_one_address_all_get_in(self, api: Api, app: FastAPI) -> None:
        session = await api.create_session(await api.quick_facilitator())
        rng = random.Random(6)
        # A realistic room: most type the code right; one in ten slips once, one in twenty twice.
        typos = [2 if i % 20 == 0 else 1 if i % 10 == 5 else 0 for i in range(PHONES)]
        statuses: Counter[int] = Counter()
        joined: list[str] = []

        async def phone(slips: int) -> None:
            async with _client(app, VENUE) as http:
                for _ in range(slips):
                    r = await http.post("/api/join", json={"code": _typo(session["code"], rng)})
                    statuses[r.status_code] += 1
                # A person whose wrong code was refused reads the screen and types the code again.
                for _ in range(3):
                    r = await http.post("/api/join", json={"code": session["code"]})
                    statuses[r.status_code] += 1
                    if r.status_code == 200:
                        joined.append(r.json()["participant_token"])
                        return

        await asyncio.gather(*(phone(slips) for slips in typos))
        wrong = sum(typos)
        print(f"\ncrowded venue: {PHONES} phones, {wrong} wrong codes; replies {dict(statuses)}")
        assert len(joined) == PHONES
        assert len(set(joined)) == PHONES
        # Every right code was let in at the first try, and every wrong one was told it was wrong.
        assert statuses == {200: PHONES, 404: wrong}

    async def test_a_room_that_misreads_the_screen_gets_in(self, api: Api, app: FastAPI) -> None:
        """Sixty phones read a 3 as an 8 before anyone types the code right: one wrong code, sent
        sixty times, costs the address one wrong code, not sixty."""
        session = await api.create_session(await api.quick_facilitator())
        misread = _typo(session["code"], random.Random(3))
        replies: Counter[int] = Counter()
        async with _client(app, VENUE) as http:
            for _ in range(60):
                http.cookies.clear()
                replies[(await http.post("/api/join", json={"code": misread})).status_code] += 1
            for _ in range(60):
                http.cookies.clear()
                replies[(await http.post("/api/join", json={"code": session["code"]})).status_code] += 1
        assert replies == {404: 60, 200: 60}

    async def test_a_guesser_in_the_room_does_not_lock_it_out(
        self, api: Api, app: FastAPI, settings: Settings, clock: FakeClock
    ) -> None:
        session = await api.create_session(await api.quick_facilitator())
        async with _client(app, VENUE) as first:
            assert (await first.post("/api/join", json={"code": session["code"]})).status_code == 200
        guesses = Counter[int]()
        async with _client(app, VENUE) as guesser:
            # Past the address's budget (20, plus 2 for the one join), within the hour.
            for code in _wrong_codes(session["code"], settings.JOIN_WRONG_CODES_PER_HOUR + 30):
                guesses[(await guesser.post("/api/join", json={"code": code})).status_code] += 1
        assert guesses[429] > 0, "the address never reached its budget: this test shows nothing"
        # The room's own session still takes every phone from that address, at once.
        waited = clock.slept
        for _ in range(5):
            async with _client(app, VENUE) as late_phone:
                r = await late_phone.post("/api/join", json={"code": session["code"]})
                assert r.status_code == 200, r.text
        assert clock.slept == waited


class TestSideBySide:
    async def test_a_proven_code_is_looked_at_while_another_join_from_the_address_is_in_hand(
        self, settings: Settings
    ) -> None:
        """Joins from one address with a code someone there joined with take no turn: two phones are
        looked up at the same time. (Waiting for turns costs a room only when each lookup or count
        takes a round trip, as with Redis; here the lookup is held open by the test.)"""
        limiter = JoinLimiter(join_budget(settings))

        async def instant(code: str) -> str:
            return "session"

        assert await limiter.admit(VENUE, "12345678", instant) == "session"  # proves the code
        inside, release = 0, asyncio.Event()
        both_inside = asyncio.Event()

        async def held(code: str) -> str:
            nonlocal inside
            inside += 1
            if inside == 2:
                both_inside.set()
            await release.wait()
            return "session"

        phones = [asyncio.create_task(limiter.admit(VENUE, "12345678", held)) for _ in range(2)]
        await asyncio.wait_for(both_inside.wait(), 5)  # before: the second waited for the first's turn
        release.set()
        assert await asyncio.gather(*phones) == ["session", "session"]
        # A code never joined with from there still takes its turn (a guesser's lookups stay serial).
        order: list[str] = []

        async def slow_wrong(code: str) -> None:
            order.append(f"in {code}")
            await asyncio.sleep(0)
            order.append(f"out {code}")
            return None

        await asyncio.gather(*(limiter.admit(VENUE, c, slow_wrong) for c in ("11111111", "22222222")))
        assert order == ["in 11111111", "out 11111111", "in 22222222", "out 22222222"]


class FakeClock:
    """The limiter's clock, moved by the test instead of by sleeping; the limiter's waits move it too
    (one guesser waiting in turn), unless `waits_pass_time` is off (many guessers waiting side by side)."""

    def __init__(self, *, waits_pass_time: bool = True) -> None:
        # A minute into an hour, far from any real time: the windows are clock hours.
        self.now = 1_900_000_000 // 3600 * 3600 + 60.0
        self.waits_pass_time = waits_pass_time
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self.waits_pass_time:
            self.now += seconds

    @property
    def slept(self) -> float:
        return sum(self.waits)


def _wrong_codes(right: str, count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    codes: list[str] = []
    while len(codes) < count:
        code = f"{rng.randrange(10**8):08d}"
        if code != right:
            codes.append(code)
    return codes


@pytest.fixture
def clock(app: FastAPI, settings: Settings) -> FakeClock:
    """The app's join limiter, as configured, on a clock the test moves."""
    fake = FakeClock()
    app.state.join_limiter = JoinLimiter(join_budget(settings), clock=fake, sleep=fake.sleep)
    return fake


class TestGuesser:
    async def test_one_address_gets_its_hourly_budget_then_one_guess_a_wait(
        self, api: Api, app: FastAPI, settings: Settings, clock: FakeClock
    ) -> None:
        session = await api.create_session(await api.quick_facilitator())
        delay = settings.JOIN_OVER_BUDGET_DELAY_SECONDS
        codes = iter(_wrong_codes(session["code"], 3 * 600))
        by_hour: Counter[int] = Counter()
        async with _client(app, "198.51.100.23") as guesser:
            clock.now -= clock.now % 3600  # the top of the hour: the tries fill clock hours
            end = clock.now + 3 * 3600
            # Guessing without pause for three hours: every reply is a code looked at (404 within the
            # budget, 429 past it), counted in the clock hour it was looked up in.
            while clock.now < end:
                r = await guesser.post("/api/join", json={"code": next(codes)})
                if clock.now < end:
                    by_hour[int(clock.now // 3600)] += 1
                if r.status_code == 429:
                    assert r.headers["Retry-After"] == str(int(delay))
                    assert r.json()["error"]["code"] == "too_many_attempts"
                else:
                    assert r.status_code == 404
        looked_at = [by_hour[h] for h in sorted(by_hour)]
        print(f"\nguesser, one address, guessing without pause: codes looked at per hour {looked_at}")
        most = settings.JOIN_WRONG_CODES_PER_HOUR + 3600 / delay
        assert len(looked_at) == 3
        assert all(most - 2 <= n <= most for n in looked_at)
        assert max(looked_at) < 300

    async def test_a_right_code_is_never_refused_only_delayed(
        self, api: Api, app: FastAPI, settings: Settings, clock: FakeClock
    ) -> None:
        """The contract: repeated failures get 429, never a correct code. An address past its budget
        (a room whose first phones all mistyped, or a guesser) still gets the right code in, after the
        wait, and from then on at once."""
        session = await api.create_session(await api.quick_facilitator())
        async with _client(app, VENUE) as phone:
            for code in _wrong_codes(session["code"], settings.JOIN_WRONG_CODES_PER_HOUR + 3):
                await phone.post("/api/join", json={"code": code})
            before = clock.slept
            phone.cookies.clear()
            assert (await phone.post("/api/join", json={"code": session["code"]})).status_code == 200
            assert clock.slept == before + settings.JOIN_OVER_BUDGET_DELAY_SECONDS
            phone.cookies.clear()
            assert (await phone.post("/api/join", json={"code": session["code"]})).status_code == 200
            assert clock.slept == before + settings.JOIN_OVER_BUDGET_DELAY_SECONDS

    async def test_right_joins_raise_the_budget_only_to_the_cap(
        self, api: Api, app: FastAPI, settings: Settings, clock: FakeClock
    ) -> None:
        session = await api.create_session(await api.quick_facilitator())
        address = "198.51.100.24"
        joins = settings.JOIN_WRONG_CODES_MAX_PER_HOUR  # far more than the cap needs

        async def join() -> int:
            async with _client(app, address) as phone:
                return (await phone.post("/api/join", json={"code": session["code"]})).status_code

        assert set(await asyncio.gather(*(join() for _ in range(joins)))) == {200}
        replies: Counter[int] = Counter()
        async with _client(app, address) as guesser:
            for code in _wrong_codes(session["code"], settings.JOIN_WRONG_CODES_MAX_PER_HOUR + 100):
                replies[(await guesser.post("/api/join", json={"code": code})).status_code] += 1
        print(f"\nguesser after {joins} right joins from its address: {dict(replies)}")
        assert replies == {404: settings.JOIN_WRONG_CODES_MAX_PER_HOUR, 429: 100}
        # Past the cap, each wrong code cost a wait.
        assert clock.waits == [settings.JOIN_OVER_BUDGET_DELAY_SECONDS] * 100

    async def test_many_guesses_in_flight_at_once_wait_in_turn(
        self, api: Api, app: FastAPI, settings: Settings, clock: FakeClock
    ) -> None:
        session = await api.create_session(await api.quick_facilitator())

        async def guess(code: str) -> int:
            async with _client(app, "198.51.100.25") as guesser:
                return (await guesser.post("/api/join", json={"code": code})).status_code

        replies = Counter(await asyncio.gather(*(guess(c) for c in _wrong_codes(session["code"], 80))))
        over = 80 - settings.JOIN_WRONG_CODES_PER_HOUR
        assert replies == {404: settings.JOIN_WRONG_CODES_PER_HOUR, 429: over}
        # Sent all at once, they were looked at one a wait, as if sent in turn.
        assert clock.waits == [settings.JOIN_OVER_BUDGET_DELAY_SECONDS] * over

    async def test_ipv6_addresses_of_one_block_count_together(
        self, api: Api, app: FastAPI, settings: Settings, clock: FakeClock
    ) -> None:
        session = await api.create_session(await api.quick_facilitator())
        replies: Counter[int] = Counter()
        for i, code in enumerate(_wrong_codes(session["code"], 100)):
            # A new address of the same /64 for every guess, as one subscriber can make at will.
            async with _client(app, f"2001:db8:5:7::{i + 1:x}") as guesser:
                replies[(await guesser.post("/api/join", json={"code": code})).status_code] += 1
        assert replies == {
            404: settings.JOIN_WRONG_CODES_PER_HOUR,
            429: 100 - settings.JOIN_WRONG_CODES_PER_HOUR,
        }
        assert len(clock.waits) == 100 - settings.JOIN_WRONG_CODES_PER_HOUR


class TestManyAddressesGuessing:
    GLOBAL = 100

    async def test_they_share_one_budget(self, api: Api, app: FastAPI, settings: Settings) -> None:
        # Many guessers wait side by side, each in its own turn: their waits do not add up in time.
        clock = FakeClock(waits_pass_time=False)
        budget = replace(join_budget(settings), global_max=self.GLOBAL)
        app.state.join_limiter = JoinLimiter(budget, clock=clock, sleep=clock.sleep)
        session = await api.create_session(await api.quick_facilitator())
        addresses = [f"192.0.2.{i}" for i in range(1, 31)]
        codes = iter(_wrong_codes(session["code"], 30 * 10 + 4))
        replies: Counter[int] = Counter()
        for _round in range(10):
            for address in addresses:
                async with _client(app, address) as guesser:
                    r = await guesser.post("/api/join", json={"code": next(codes)})
                    replies[r.status_code] += 1
        slow = budget.over_global_delay
        print(f"\n30 addresses x 10 guesses, global budget {self.GLOBAL}: {dict(replies)}")
        # Without the shared budget each address would have had all 10 looked at at once: 300. With it,
        # 100 were, and each of the other 200 waited the long wait: 3600 / 120 = 30 an hour an address.
        assert replies == {404: self.GLOBAL, 429: 200}
        assert clock.waits == [slow] * 200

        # A phone's first try from a new address is still looked at at once, right or wrong...
        async with _client(app, "192.0.2.100") as newcomer:
            assert (await newcomer.post("/api/join", json={"code": next(codes)})).status_code == 404
            assert len(clock.waits) == 200
            assert (await newcomer.post("/api/join", json={"code": next(codes)})).status_code == 429
            assert clock.waits[-1] == slow
        async with _client(app, "192.0.2.101") as phone:
            assert (await phone.post("/api/join", json={"code": session["code"]})).status_code == 200
        # ...and the next hour starts afresh.
        clock.now += 3600
        async with _client(app, addresses[0]) as guesser:
            assert (await guesser.post("/api/join", json={"code": next(codes)})).status_code == 404
        assert len(clock.waits) == 201


class TestCounts:
    async def test_counts_expire_and_leave_memory(self) -> None:
        clock = FakeClock()
        counts = MemoryCounts(clock)
        assert await counts.add("a", 1, ttl_seconds=10) == 1
        assert await counts.add("a", 2, ttl_seconds=10) == 3
        assert await counts.get(["a", "b"]) == [3, 0]
        clock.now += 10
        assert await counts.get(["a"]) == [0]
        clock.now += 60
        await counts.add("b", 1, ttl_seconds=10)
        assert len(counts) == 1

    async def test_no_address_is_kept_in_the_limiter(self, api: Api, app: FastAPI) -> None:
        """ETHICS 2: the limiter's memory holds HMACs, never the address itself."""
        session = await api.create_session(await api.quick_facilitator())
        async with _client(app, "198.51.100.99") as phone:
            await phone.post("/api/join", json={"code": "00000000"})
            await phone.post("/api/join", json={"code": session["code"]})
        limiter = app.state.join_limiter
        held = repr(vars(limiter)) + repr(vars(limiter._counts))
        assert "198.51.100.99" not in held
        assert len(limiter._counts) > 0


class TestAcrossProcesses:
    """With the Redis broker every process counts wrong codes together (issue 11), under one hour key
    shared through Redis; what Redis holds is HMACs, never an address."""

    async def test_two_processes_share_one_budget_and_store_no_address(
        self, redis_prefix: str, settings: Settings
    ) -> None:
        from redis.asyncio import Redis

        from app.auth.ratelimit import TooManyWrongCodes
        from app.realtime.redis_backend import RedisBackend
        from tests.conftest import REDIS_URL

        backends = [RedisBackend(REDIS_URL, prefix=redis_prefix, log_max=10) for _ in range(2)]
        for backend in backends:
            await backend.connect(lambda channel, text: None, lambda: None)
        clock = FakeClock()
        budget = replace(join_budget(settings), per_address=3, per_join=0)
        one, two = (
            JoinLimiter(budget, counts=b, hour_keys=b, clock=clock, sleep=clock.sleep) for b in backends
        )

        async def lookup(code: str) -> str | None:
            return "session" if code == "12345678" else None

        try:
            for i, limiter in enumerate([one, two, one]):
                assert await limiter.admit(VENUE, f"0000000{i}", lookup) is None
            assert clock.waits == []
            with pytest.raises(TooManyWrongCodes):
                await two.admit(VENUE, "00000009", lookup)
            assert clock.waits == [budget.over_budget_delay]
            # A right code still gets in, through either process.
            assert await one.admit(VENUE, "12345678", lookup) == "session"

            client = Redis.from_url(REDIS_URL, decode_responses=True)
            keys = [key async for key in client.scan_iter(match=f"{redis_prefix}:*")]
            values = [str(await client.get(key)) for key in keys if await client.type(key) == "string"]
            await client.aclose()
            assert any(":count:" in key for key in keys)
            assert not any(VENUE in text for text in keys + values)
        finally:
            for backend in backends:
                await backend.disconnect()


class CountedCounts(MemoryCounts):
    """Shared counts (Redis in production) that count the round trips made to them."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.gets = 0
        self.adds: Counter[str] = Counter()

    async def get(self, keys: list[str]) -> list[int]:
        self.gets += 1
        return await super().get(keys)

    async def add(self, key: str, amount: int, *, ttl_seconds: float) -> int:
        self.adds[key.split(":")[1]] += 1
        return await super().add(key, amount, ttl_seconds=ttl_seconds)


async def lookup(code: str) -> str | None:
    """The one open session's code is 12345678."""
    return "session" if code == "12345678" else None


class TestRoundTrips:
    """A room joining asks the shared counts only what this process does not know already: a proven
    code stays proven for the hour, and right joins past the budget's cap raise nothing."""

    async def test_a_room_makes_round_trips_only_until_the_budget_is_capped(self, settings: Settings) -> None:
        clock = FakeClock()
        counts = CountedCounts(clock)
        budget = join_budget(settings)
        limiter = JoinLimiter(budget, counts=counts, clock=clock, sleep=clock.sleep)
        for _ in range(PHONES):
            assert await limiter.admit(VENUE, "12345678", lookup) == "session"
        capped = -(-(budget.max_per_address - budget.per_address) // budget.per_join)
        # The first join: "proven?", then its turn's read and look; from then on the process knows.
        assert counts.gets == 3
        assert counts.adds == {"j": capped, "p": 1}
        # The budget the room earned is there for a wrong code all the same.
        assert await limiter.admit(VENUE, "87654321", lookup) is None
        assert counts.adds["w"] == 1
        # Next hour, nothing is known: the first join asks again.
        clock.now += 3600
        gets = counts.gets
        assert await limiter.admit(VENUE, "12345678", lookup) == "session"
        assert counts.gets > gets
        assert counts.adds["j"] == capped + 1

    async def test_a_code_proven_by_another_process_is_read_once(self, settings: Settings) -> None:
        clock = FakeClock()
        counts = CountedCounts(clock)
        budget = join_budget(settings)
        first = JoinLimiter(budget, counts=counts, clock=clock, sleep=clock.sleep)
        assert await first.admit(VENUE, "12345678", lookup) == "session"
        # A second process sharing the counts (and the hour's key, as Redis gives it).
        second = JoinLimiter(budget, counts=counts, clock=clock, sleep=clock.sleep)
        second._window, second._key = first._window, first._key
        gets = counts.gets
        for _ in range(10):
            assert await second.admit(VENUE, "12345678", lookup) == "session"
        assert counts.gets == gets + 1
