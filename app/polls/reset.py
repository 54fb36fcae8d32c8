"""Resetting a question's answers: every answer, entry, vote and comment of it (and the breakout group
each was given in) goes, so results, screens and later exports no longer hold them. The question keeps
its place and state."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.breakouts.models import BreakoutAttribution
from app.errors import AppError
from app.polls import aggregation, results
from app.polls.models import Answer, Entry, Question
from app.sessions.models import LiveSession


async def reset_answers(db: AsyncSession, *, live: LiveSession, question: Question) -> None:
    """Delete the question's answers and entries (their items, words and votes go with them) and store
    its result as it now is: empty. The change log stays, so the session's anonymity settings stay
    locked (ETHICS 3), and the k rule steps from here: a new result shows once k people answer again."""
    if live.closed:
        raise AppError(409, "session_closed", "This session is closed; its answers stay as they are.")
    await db.execute(delete(Answer).where(col(Answer.question_id) == question.id))
    await db.execute(delete(Entry).where(col(Entry.question_id) == question.id))
    # Where the answers were given in a breakout round goes with them (a new answer is placed anew).
    await db.execute(delete(BreakoutAttribution).where(col(BreakoutAttribution.question_id) == question.id))
    exact = await results.count(db, question)
    change_id = await aggregation.last_change_id(db, question_id=question.id)
    await results.store_reset(
        db, question_id=question.id, result=exact, change_id=change_id, final=question.is_closed
    )
