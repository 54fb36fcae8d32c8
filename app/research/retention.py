"""Retention (ETHICS 15): a session's raw data is deleted once its retention period has passed, and a
facilitator can delete a session outright."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.breakouts.models import BreakoutAttribution, BreakoutNote, NotePlus, PrivateMessage
from app.db import utcnow
from app.polls import service as polls_service
from app.polls.models import Answer, AnswerReceipt, Entry, EntryVote, Question, ResultChange
from app.sessions.models import LiveSession, Participant

# What purge deletes, in order, as the report names it. Answers take their items and words with them
# (foreign keys), entries their votes; participants go last (breakout notes and private messages,
# which reference participants with ON DELETE CASCADE, go with them). `breakout_attribution` is the
# group each answer to a round's question was given in: raw data about the answers, so it goes too.
PURGED = (
    "answer",
    "entry",
    "entry_vote",
    "answer_receipt",
    "result_change",
    "breakout_attribution",
    "note_plus",
    "breakout_note",
    "private_message",
    "participant",
)


def expires_at(live: LiveSession) -> datetime:
    """When the session's raw data falls due: its retention period after it closed (or, left open,
    after it was created)."""
    return (live.closed_at or live.created_at) + timedelta(days=live.retention_days)


async def due(db: AsyncSession, *, now: datetime | None = None) -> list[LiveSession]:
    """Sessions not yet purged whose retention period has passed, oldest first."""
    now = now or utcnow()
    sessions = await db.scalars(
        select(LiveSession).where(col(LiveSession.purged_at).is_(None)).order_by(col(LiveSession.created_at))
    )
    return [live for live in sessions if expires_at(live) <= now]


@dataclass(slots=True)
class Purged:
    session_id: str
    title: str
    deleted: dict[str, int] = field(default_factory=dict)


async def _count(db: AsyncSession, stmt: object) -> int:
    return int(await db.scalar(stmt) or 0)  # type: ignore[call-overload]


async def purge_session(db: AsyncSession, *, live: LiveSession, dry_run: bool) -> Purged:
    """Delete (or, dry, count) the session's raw answers, entries, votes, receipts, change log, the
    groups answers were given in, and participants. Questions and their final results stay; a session
    still open is closed first, each open question with its exact result, so what screens last showed
    is kept."""
    questions = select(col(Question.id)).where(col(Question.session_id) == live.id)
    participants = select(col(Participant.id)).where(col(Participant.session_id) == live.id)
    where = {
        "answer": (Answer, col(Answer.question_id).in_(questions)),
        "entry": (Entry, col(Entry.question_id).in_(questions)),
        "entry_vote": (EntryVote, col(EntryVote.question_id).in_(questions)),
        "answer_receipt": (AnswerReceipt, col(AnswerReceipt.question_id).in_(questions)),
        "result_change": (ResultChange, col(ResultChange.question_id).in_(questions)),
        "breakout_attribution": (
            BreakoutAttribution,
            col(BreakoutAttribution.participant_id).in_(participants),
        ),
        "note_plus": (NotePlus, col(NotePlus.participant_id).in_(participants)),
        "breakout_note": (BreakoutNote, col(BreakoutNote.participant_id).in_(participants)),
        "private_message": (PrivateMessage, col(PrivateMessage.session_id) == live.id),
        "participant": (Participant, col(Participant.session_id) == live.id),
    }
    report = Purged(session_id=live.id, title=live.title)
    for name in PURGED:
        model, condition = where[name]
        report.deleted[name] = await _count(db, select(func.count()).select_from(model).where(condition))
    if dry_run:
        return report
    if not live.closed:
        await polls_service.close_open_questions(db, live=live)
        live.closed_at = utcnow()
    for name in PURGED:
        model, condition = where[name]
        await db.execute(delete(model).where(condition))
    live.purged_at = utcnow()
    db.add(live)
    await db.flush()
    return report


async def delete_session(db: AsyncSession, *, live: LiveSession) -> None:
    """Delete the session and everything in it (its questions, participants, answers, results, sheet
    versions and researchers go by foreign key). The audit log keeps that it happened."""
    await db.execute(delete(LiveSession).where(col(LiveSession.id) == live.id))
