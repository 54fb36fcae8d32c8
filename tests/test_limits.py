"""A hostile client: bodies capped before they are read, bounded queues and caches, a message budget
per phone socket (app/limits.py, app/batching.py, app/sockets.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from app.limits import BODY_MAX, SMALL_BODY_MAX, BoundedCache, MessageBudget
from app.polls.writer import AnswerWriter
from app.realtime.hub import Hub, MemoryBackend
from app.sessions.joins import JoinWriter
from app.sessions.models import Participant
from tests.conftest import LiveServer
from tests.factories import Api, assert_error, choice


async def _participants(api: Api) -> int:
    async with api.app.state.database.read_session() as db:
        return int(await db.scalar(select(func.count()).select_from(Participant)) or 0)


class TestBodyLimit:
    async def test_a_join_with_a_body_over_4_kib_is_413_and_joins_no_one(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator())
        padded = '{"code": "' + session["code"] + '", "pad": "' + "x" * SMALL_BODY_MAX + '"}'
        r = await api.client.post(
            "/api/join", content=padded.encode(), headers={"Content-Type": "application/json"}
        )
        assert_error(r, 413, "body_too_large")
        assert "4 KiB" in r.json()["error"]["message"]
        assert await _participants(api) == 0

    async def test_a_chunked_body_without_a_length_is_counted_as_it_arrives(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator())

        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"code": "' + session["code"].encode() + b'", "pad": "'
            for _ in range(64):
                yield b"x" * 1024
            yield b'"}'

        r = await api.client.post("/api/join", content=chunks(), headers={"Content-Type": "application/json"})
        assert "content-length" not in r.request.headers
        assert_error(r, 413, "body_too_large")
        assert await _participants(api) == 0

    async def test_the_largest_information_sheet_fits(self, api: Api) -> None:
        # 20,000 characters, each escaped as \\u00e9 in JSON: 120 KB, under the 256 KiB cap.
        auth = await api.quick_facilitator()
        r = await api.client.post(
            "/api/sessions",
            json={"title": "Big sheet", "settings": {"consent_text": "é" * 20_000}},
            headers=auth,
        )
        assert r.status_code == 201, r.text

    async def test_a_session_body_over_256_kib_is_413(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        r = await api.client.post(
            "/api/sessions", json={"title": "x", "settings": {"consent_text": "x" * BODY_MAX}}, headers=auth
        )
        assert_error(r, 413, "body_too_large")
        listed = await api.client.get("/api/sessions", headers=auth)
        assert listed.json() == []

    async def test_a_declared_huge_body_is_refused_before_it_is_sent(self, live_server: LiveServer) -> None:
        # Only the headers are sent: the answer comes without the server waiting for 100 MB.
        reader, writer = await asyncio.open_connection("127.0.0.1", live_server.port)
        writer.write(
            b"POST /api/join HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000000\r\n\r\n"
        )
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 413"), head
        writer.close()


class TestBoundedQueues:
    async def test_a_full_answer_queue_refuses_with_server_busy_and_records_nothing(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        question = await api.open_question(auth, session, kind="choice", prompt="Which?", options=["A", "B"])
        joined = await api.join(session)
        participant_id = await api.participant_id(joined)
        # Not started: nothing drains the queue of one.
        writer = AnswerWriter(api.app.state.database, Hub(MemoryBackend()), batch_max=10, queue_max=1)
        outcomes: list[object] = []
        for client_id in ("a1", "a2"):
            writer.submit_nowait(
                session_id=session["id"],
                participant_id=participant_id,
                client_id=client_id,
                question_id=question["id"],
                value=choice(question, 0),
                reply=outcomes.append,
            )
        assert len(outcomes) == 1
        refused = outcomes[0]
        assert refused.ok is False and refused.code == "server_busy"
        assert writer.queued == 1

    async def test_a_full_join_queue_is_503_with_retry_after(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator())
        joins: JoinWriter = api.app.state.joins
        joins._queue_max = 0
        r = await api.client.post("/api/join", json={"code": session["code"]})
        assert_error(r, 503, "server_busy")
        assert int(r.headers["retry-after"]) > 0
        assert await _participants(api) == 0
        joins._queue_max = 10
        assert (await api.client.post("/api/join", json={"code": session["code"]})).status_code == 200

    async def test_the_snapshot_cache_is_bounded(self, api: Api) -> None:
        cache = api.app.state.snapshots
        assert isinstance(cache, BoundedCache)
        assert cache.max_entries == api.app.state.settings.SNAPSHOT_CACHE_MAX


class TestBoundedCache:
    def test_forgets_the_least_recently_written(self) -> None:
        cache: BoundedCache[str, int] = BoundedCache(2)
        cache["a"] = 1
        cache["b"] = 2
        cache["a"] = 3
        cache["c"] = 4
        assert dict(cache) == {"a": 3, "c": 4}


class TestMessageBudget:
    def test_a_burst_then_refusals(self) -> None:
        budget = MessageBudget(rate=0.001, burst=3)
        assert [budget.take() for _ in range(5)] == [True, True, True, False, False]


class TestSocketRateLimit:
    async def test_a_phone_past_its_budget_gets_rate_limited_then_recovers(self, live_api: Api) -> None:
        api = live_api
        # Read when the socket opens: a budget of 3 at once, one more every 2 s.
        settings = api.app.state.settings
        settings.SOCKET_MESSAGE_BURST = 3
        settings.SOCKET_MESSAGES_PER_SECOND = 0.5
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        question = await api.open_question(auth, session, kind="choice", prompt="Which?", options=["A", "B"])
        phone = await api.phone(session)
        replies = [await phone.answer(question, choice(question, i % 2), f"a{i}") for i in range(6)]
        assert [r["type"] for r in replies[:3]] == ["answer.ack"] * 3
        limited = [r for r in replies[3:] if r["type"] == "answer.error"]
        assert len(limited) >= 2, replies
        assert {r["data"]["code"] for r in limited} == {"rate_limited"}
        assert "wait a second" in limited[0]["data"]["message"]
        await asyncio.sleep(2.5)
        again = await phone.answer(question, choice(question, 0), limited[0]["data"]["id"])
        assert again["type"] == "answer.ack"
        await phone.close()


@pytest.mark.parametrize("path", ["/api/withdraw", "/api/auth/token"])
async def test_other_routes_without_an_account_take_4_kib(api: Api, path: str) -> None:
    r = await api.client.post(path, content=b"x" * (SMALL_BODY_MAX + 1))
    assert_error(r, 413, "body_too_large")
