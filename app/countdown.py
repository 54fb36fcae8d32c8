"""Question countdowns: a question with `closes_at` closes by itself then, with its exact result, as if
the facilitator had pressed Close. One task per process looks once a second; closing is idempotent
(a question already closed is left alone), so several processes may look at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import select
from sqlmodel import col

from app.db import Database, utcnow
from app.polls import service as polls_service
from app.polls.models import Question
from app.polls.schemas import QuestionUpdate
from app.realtime import outbox
from app.realtime.hub import Hub
from app.research import audit
from app.sessions.models import LiveSession
from app.snapshots import queue_results, queue_session_state

log = logging.getLogger(__name__)


async def close_due(database: Database, hub: Hub) -> int:
    """Close every open question whose countdown has run out; how many closed."""
    async with database.read_session() as db:
        due = list(
            (
                await db.execute(
                    select(col(Question.id)).where(
                        col(Question.closes_at) <= utcnow(),
                        col(Question.closed_at).is_(None),
                        col(Question.opened_at).is_not(None),
                    )
                )
            ).scalars()
        )
    closed = 0
    for question_id in due:
        async with database.session() as db:
            question = await db.get(Question, question_id)
            live = await db.get(LiveSession, question.session_id) if question else None
            if question is None or live is None or question.is_closed:
                continue
            if live.closed:
                continue
            if await polls_service.update_question(
                db, live=live, question=question, change=QuestionUpdate(open=False)
            ):
                audit.record(
                    db,
                    session_id=live.id,
                    action="question.close",
                    actor="countdown",
                    detail={"question_id": question.id},
                )
                if live.current_question_id == question.id:
                    queue_session_state(db, live, question)
                else:
                    queue_results(db, question.id)
                closed += 1
            await db.commit()
            await outbox.flush(db, hub)
    return closed


class Countdowns:
    def __init__(self, database: Database, hub: Hub, *, interval: float = 1.0) -> None:
        self._database = database
        self._hub = hub
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="countdowns")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await close_due(self._database, self._hub)
            except Exception:
                log.exception("closing questions whose countdown ran out failed; trying again")
