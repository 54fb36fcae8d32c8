"""Retention and deletion as an operator and a facilitator run them (ETHICS 15-16): `thirdspace purge`
on a session past its retention period deletes its raw data, says what it deleted and writes an audit
entry; deleting the session from the console's route writes its own, and the audit log outlives the
session it is about."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from app.auth.models import Account
from app.breakouts.models import PrivateMessage
from app.config import Settings
from app.db import utcnow
from app.polls.models import Answer, Entry, EntryVote, Question
from app.research.models import AuditEvent
from app.sessions.models import LiveSession, Participant
from tests.factories import Api, assert_error
from tests.research.conftest import PEOPLE, Study, build_study, rows


async def _purge(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """`thirdspace purge` in its own process, on this test's database, as cron runs it."""
    env = {
        **os.environ,
        "THIRDSPACE_ENVIRONMENT": "development",
        "THIRDSPACE_DATA_DIR": str(settings.DATA_DIR),
        "THIRDSPACE_DATABASE_URL": settings.DATABASE_URL,
        "THIRDSPACE_PUBLIC_URL": "http://testserver",
    }
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "app.cli", "purge", *args],
        env=env,
        capture_output=True,
        text=True,
    )


def _counts(line: str) -> dict[str, int]:
    """'Deleted from session s ('t'): 35 answer rows, 4 entry rows.' -> {"answer": 35, "entry": 4}"""
    return {name.replace(" ", "_"): int(n) for n, name in re.findall(r"(\d+) ([a-z ]+?) rows", line)}


async def _count(api: Api, model: Any, *where: Any) -> int:
    async with api.app.state.database.read_session() as db:
        return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _audit(api: Api, session_id: str) -> list[AuditEvent]:
    async with api.app.state.database.read_session() as db:
        found = await db.scalars(
            select(AuditEvent).where(AuditEvent.session_id == session_id).order_by(AuditEvent.id)
        )
        return list(found)


async def _past_retention(study: Study) -> None:
    async with study.api.app.state.database.session() as db:
        await db.execute(
            update(LiveSession)
            .where(LiveSession.id == study.session["id"])
            .values(created_at=utcnow() - timedelta(days=400), retention_days=365)
        )
        await db.commit()


async def test_purge_deletes_what_is_due_says_so_and_is_audited(api: Api, settings: Settings) -> None:
    study = await build_study(api)
    sid = study.session["id"]
    kept = await build_study(api)  # a session still inside its retention period
    await _past_retention(study)

    dry = await _purge(settings, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    [line] = dry.stdout.splitlines()
    assert line.startswith("Would delete from ") and f" session {sid} ('Workshop'): " in line
    would = _counts(line)
    assert (would["answer"], would["entry"], would["entry_vote"], would["participant"]) == (
        PEOPLE * 5,
        4,  # two open answers, a Q&A question and a comment
        1,
        PEOPLE,
    )
    assert await _count(api, Answer) == 2 * PEOPLE * 5  # a dry run deletes nothing
    assert not [e for e in await _audit(api, sid) if e.action == "purge"]

    done = await _purge(settings)
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    assert line.startswith("Deleted from ") and f" session {sid} ('Workshop'): " in line
    assert _counts(line) == would
    for model in (Answer, Entry, EntryVote, Participant):
        sessions = select(Question.id).where(Question.session_id == sid)
        where = Participant.session_id == sid if model is Participant else model.question_id.in_(sessions)
        assert await _count(api, model, where) == 0, model
    assert await _count(api, Participant, Participant.session_id == kept.session["id"]) == PEOPLE
    async with api.app.state.database.read_session() as db:
        live = await db.get(LiveSession, sid)
        assert live is not None and live.purged_at is not None and live.closed_at is not None
    [event] = [e for e in await _audit(api, sid) if e.action == "purge"]
    assert (event.actor, event.account_id, event.detail) == ("command line", None, {"deleted": would})
    # The console's audit card shows it; a purged session exports its final results, no raw rows.
    r = await api.client.get(f"/api/sessions/{sid}/audit", headers=study.auth)
    assert r.json()["events"][0]["action"] == "purge"  # newest first
    bundle = await study.bundle()
    assert rows(bundle["responses.csv"]) == [] and rows(bundle["private_messages.csv"]) == []
    assert any(r["item"] == "hope" and r["count"] == str(PEOPLE) for r in rows(bundle["summary.csv"]))

    again = await _purge(settings)
    assert again.returncode == 0 and "nothing to purge" in again.stdout


async def test_deleting_a_session_is_audited_and_its_audit_log_stays(api: Api, settings: Settings) -> None:
    study = await build_study(api)
    sid = study.session["id"]
    await _past_retention(study)
    assert (await _purge(settings)).returncode == 0
    await study.export()
    async with api.app.state.database.read_session() as db:
        email = await db.scalar(select(Account.email))
    # The console's "Delete this session" button: DELETE /api/sessions/{id}, by its facilitator.
    r = await api.client.delete(f"/api/sessions/{sid}", headers=study.auth)
    assert r.status_code == 204
    assert_error(await api.client.get(f"/api/sessions/{sid}", headers=study.auth), 404, "not_found")
    assert await _count(api, LiveSession, LiveSession.id == sid) == 0
    assert await _count(api, Question, Question.session_id == sid) == 0
    assert await _count(api, PrivateMessage, PrivateMessage.session_id == sid) == 0
    log = await _audit(api, sid)
    actions = [e.action for e in log]
    assert actions[0] == "session.create" and actions[-3:] == ["purge", "export", "session.delete"]
    assert "question.open" in actions
    deleted = log[-1]
    assert (deleted.actor, deleted.account_id is not None, deleted.at is not None) == (email, True, True)
    assert deleted.detail == {"title_length": len("Workshop")}  # ids and counts only: not the title
