"""/healthz (alive), /readyz (database, and the broker when there is one), /metrics (Prometheus)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.db import Database
from app.main import create_app
from tests.conftest import RedisServer
from tests.factories import Api, assert_error, choice


class TestHealthz:
    async def test_answers_ok(self, api: Api) -> None:
        r = await api.client.get("/healthz")
        assert r.status_code == 200
        assert r.json() == {"status": "ok"}


class TestReadyz:
    async def test_ready_with_the_database_and_no_broker(self, api: Api) -> None:
        r = await api.client.get("/readyz")
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "ready", "database": "ok", "broker": "none"}

    async def test_503_when_the_database_cannot_be_reached(self, api: Api, settings: Settings) -> None:
        working = api.app.state.database
        # The same kind of database, where none answers: a folder that does not exist, a closed port.
        gone = (
            "sqlite+aiosqlite:////nonexistent-folder/thirdspace.db"
            if settings.is_sqlite
            else "postgresql+asyncpg://postgres@127.0.0.1:1/thirdspace"
        )
        api.app.state.database = Database(gone)
        try:
            r = await api.client.get("/readyz")
        finally:
            await api.app.state.database.dispose()
            api.app.state.database = working
        assert_error(r, 503, "not_ready")
        assert "the database" in r.json()["error"]["message"]
        assert (await api.client.get("/healthz")).status_code == 200


@pytest.fixture
async def redis_app(settings: Settings, own_redis: RedisServer) -> AsyncIterator[FastAPI]:
    settings.BROKER_URL = own_redis.url
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


class TestReadyzWithRedis:
    async def test_ready_then_503_when_redis_goes_away(
        self, redis_app: FastAPI, own_redis: RedisServer
    ) -> None:
        transport = httpx.ASGITransport(app=redis_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            r = await client.get("/readyz")
            assert r.json() == {"status": "ready", "database": "ok", "broker": "ok"}
            own_redis.stop()
            for _ in range(100):
                r = await client.get("/readyz")
                if r.status_code == 503:
                    break
                await asyncio.sleep(0.1)
            assert_error(r, 503, "not_ready")
            assert "Redis" in r.json()["error"]["message"]


def _value(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+-]+)$", text, re.MULTILINE)
    assert match, f"{name}{labels} is not in the metrics"
    return float(match.group(1))


class TestMetrics:
    async def test_answers_batches_and_sockets_are_counted(self, live_api: Api) -> None:
        api = live_api
        before = (await api.client.get("/metrics")).text
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        question = await api.open_question(auth, session, kind="choice", prompt="Which?", options=["A", "B"])
        phone = await api.phone(session)
        assert (await phone.answer(question, choice(question, 0), "m1"))["type"] == "answer.ack"
        assert (await phone.answer(question, {"choices": ["nope"]}, "m2"))["type"] == "answer.error"
        api.app.state.sampler.sample_now()
        r = await api.client.get("/metrics")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain")
        after = r.text
        acked = 'thirdspace_answers_total{outcome="acked"}'
        refused = 'thirdspace_answers_total{outcome="refused"}'
        assert _value(after, acked) - _value(before, acked) == 1
        assert _value(after, refused) - _value(before, refused) == 1
        count = 'thirdspace_writer_batch_size_count{writer="answer-writer"}'
        assert _value(after, count) - _value(before, count) >= 1
        assert (
            _value(after, "thirdspace_sockets") == 1
        )  # the phone; the process's own listeners are not sockets
        assert _value(after, "thirdspace_participants_connected") == 1
        for name in ("thirdspace_hub_lag_messages", "thirdspace_fanout_seconds_count"):
            _value(after, name)
        # Counts only: no session, question or answer ids.
        assert session["id"] not in after and question["id"] not in after
        await phone.close()
