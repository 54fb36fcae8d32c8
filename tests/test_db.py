"""app/db.py: reads never queue behind writes, a read session cannot write, the one-statement read, and
PostgreSQL connections ended while pooled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest
from sqlalchemy import Float, bindparam, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from app.db import Database
from app.sessions.models import LiveSession
from tests.factories import Api, choice

# Seconds a read may take while a write is held: far above a read's few milliseconds, far below the
# SQLite busy timeout (10 s) that a read queued behind the writer would wait for.
READ_DEADLINE = 3.0


class TestReadsDuringAWrite:
    async def test_get_routes_and_pages_answer_while_a_write_transaction_is_open(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        database: Database = api.app.state.database
        cookie = {"Cookie": f"ts_login={auth['Authorization'].removeprefix('Bearer ')}"}
        async with database.session() as db:
            # The write lock (SQLite: the process's queue and BEGIN IMMEDIATE; PostgreSQL: the row).
            await db.execute(
                text("UPDATE live_session SET title = title WHERE id = :id"), {"id": session["id"]}
            )
            if database._write_lock is not None:
                assert database._write_lock.locked()
            reads = [
                api.client.get(f"/api/sessions/{session['id']}", headers=auth),
                api.client.get("/api/sessions", headers=auth),
                api.client.get(f"/console/{session['id']}", headers=cookie),
                api.client.get(f"/presenter/{session['id']}", headers=cookie),
            ]
            replies = await asyncio.wait_for(asyncio.gather(*reads), READ_DEADLINE)
            await db.rollback()
        assert [r.status_code for r in replies] == [200, 200, 200, 200]
        assert replies[0].json()["id"] == session["id"]

    async def test_a_write_waits_for_the_write_transaction(self, api: Api) -> None:
        # The check above can fail: a write route does queue behind an open write.
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        database: Database = api.app.state.database
        patch = None
        async with database.session() as db:
            await db.execute(
                text("UPDATE live_session SET title = title WHERE id = :id"), {"id": session["id"]}
            )
            patch = asyncio.create_task(
                api.client.patch(f"/api/sessions/{session['id']}", json={"title": "Renamed"}, headers=auth)
            )
            await asyncio.sleep(0.5)
            assert not patch.done()
            await db.commit()
        reply = await asyncio.wait_for(patch, 10)
        assert reply.status_code == 200
        assert reply.json()["title"] == "Renamed"


class TestReadSession:
    async def test_cannot_write(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        database: Database = api.app.state.database
        async with database.read_session() as db:
            with pytest.raises(DBAPIError):
                await db.execute(
                    text("UPDATE live_session SET title = 'x' WHERE id = :id"), {"id": session["id"]}
                )
        r = await api.client.get(f"/api/sessions/{session['id']}", headers=auth)
        assert r.json()["title"] == session["title"]


class TestNulInText:
    """PostgreSQL cannot store NUL; SQLite can. Neither answers 500, nor fails a batch of other people's
    answers because one message carried it."""

    async def test_a_researcher_email_with_nul_is_refused_not_a_server_error(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        r = await api.client.post(
            f"/api/sessions/{session['id']}/researchers", json={"email": "f\u0102\u0000"}, headers=auth
        )
        assert r.status_code in (404, 422), r.text

    async def test_an_answer_naming_a_question_with_nul_fails_alone(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        question = await api.open_question(auth, session, kind="choice", prompt="Which?", options=["A", "B"])
        good, bad = await api.join(session), await api.join(session)
        writer = api.app.state.writer
        ids = [await api.participant_id(good), await api.participant_id(bad)]
        before = writer.batches
        outcomes = await asyncio.gather(
            writer.submit(
                session_id=session["id"],
                participant_id=ids[0],
                client_id="good",
                question_id=question["id"],
                value=choice(question, 0),
            ),
            writer.submit(
                session_id=session["id"],
                participant_id=ids[1],
                client_id="bad\x00",
                question_id=question["id"] + "\x00x",
                value=choice(question, 0),
            ),
        )
        assert writer.batches == before + 1, "not one batch"
        assert outcomes[0].ok, outcomes[0]
        assert not outcomes[1].ok and outcomes[1].code != "server_error", outcomes[1]


# The join code's session, by its code: a one-statement read like the socket handshake's.
_BY_CODE = select(col(LiveSession.id), col(LiveSession.title)).where(
    col(LiveSession.code) == bindparam("code")
)


class TestReadRow:
    """Database.read_row, the socket handshake's read: asyncpg itself on PostgreSQL, SQLAlchemy on SQLite."""

    async def test_the_row_or_none(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        database: Database = api.app.state.database
        assert await database.read_row(_BY_CODE, {"code": session["code"]}) == (
            session["id"],
            session["title"],
        )
        assert await database.read_row(_BY_CODE, {"code": "no such code"}) is None


async def _end_every_other_backend(url: str) -> int:
    """What a restart of PostgreSQL does to a pool's connections (the shared server stays up)."""
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        return len(
            await connection.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    finally:
        await connection.close()


@asynccontextmanager
async def _opened(url: str, **options: float) -> AsyncIterator[Database]:
    database = Database(url, **options)
    try:
        yield database
    finally:
        await database.dispose()


class TestPostgresPools:
    """A pooled connection that PostgreSQL ended while it sat unused (a restart, a failover) is pinged
    and replaced on its next use, on the read and the write pools; one in use a moment ago is not pinged
    (a join burst would pay three round trips a read). read_row gives back what it takes."""

    async def test_are_replaced_on_their_next_use(self, postgres_url: str) -> None:
        async with _opened(postgres_url, idle_ping_seconds=0.0) as database:
            await self._use_both_pools(database)
            assert await _end_every_other_backend(postgres_url) >= 2
            await asyncio.wait_for(self._use_both_pools(database), 10)

    async def test_fail_their_next_use_when_not_idle_long_enough_to_be_pinged(
        self, postgres_url: str
    ) -> None:
        # The check above can fail: without the ping the ended connection is handed out, once.
        async with _opened(postgres_url, idle_ping_seconds=3600.0) as database:
            await database.read_row(_BY_CODE, {"code": "1"})
            assert await _end_every_other_backend(postgres_url) >= 1
            with pytest.raises((asyncpg.PostgresConnectionError, asyncpg.InterfaceError, ConnectionError)):
                await database.read_row(_BY_CODE, {"code": "1"})
            # ... and is not given back: the next read has a new connection.
            assert await database.read_row(_BY_CODE, {"code": "1"}) is None

    async def test_a_nul_in_a_parameter_is_looked_up_without_it(self, postgres_url: str) -> None:
        # As every other statement on PostgreSQL (app/db.py _no_nul), not a server error.
        async with _opened(postgres_url) as database:
            assert await database.read_row(_BY_CODE, {"code": "12\x0034"}) is None

    async def test_reads_cancelled_mid_statement_give_their_connections_back(self, postgres_url: str) -> None:
        # A phone that leaves during its handshake cancels the read; 25 of them would hold every
        # connection of the read pool (20) if a cancelled read kept its own.
        async with _opened(postgres_url) as database:
            slow = select(func.pg_sleep(bindparam("seconds", type_=Float)))
            reads = [asyncio.create_task(database.read_row(slow, {"seconds": 3.0})) for _ in range(25)]
            await asyncio.sleep(0.5)  # 20 reads are in PostgreSQL, sleeping; 5 wait for a connection
            for read in reads:
                read.cancel()
            await asyncio.gather(*reads, return_exceptions=True)
            # More reads than the pool holds: every pooled connection is used again, at once.
            found = await asyncio.wait_for(
                asyncio.gather(*(database.read_row(_BY_CODE, {"code": "1"}) for _ in range(40))), 10
            )
            assert found == [None] * 40

    @staticmethod
    async def _use_both_pools(database: Database) -> None:
        assert await database.read_row(_BY_CODE, {"code": "1"}) is None
        async with database.session() as db:
            assert (await db.execute(text("SELECT 1"))).scalar_one() == 1
