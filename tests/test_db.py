"""app/db.py: reads never queue behind writes, and a read session cannot write."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.db import Database
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
