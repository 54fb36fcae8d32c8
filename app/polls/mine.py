"""What one phone already sent in its session, so a reloaded page (or another tab of the same
participant) shows "your answer is in" instead of an empty form: the `answers.mine` message."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.polls.models import Answer, Entry, Question


async def mine(db: AsyncSession, *, session_id: str, participant_id: str) -> dict[str, Any]:
    """`{"answers": {question id: value, or null for "prefer not to answer"}, "entries": {question id:
    [texts, oldest first]}, "entry_ids": {question id: [their ids, in the same order]}}`: the
    participant's own answers and entries (not comments) in this session; the ids let the phone leave
    the upvote button off its own Q&A questions. Only ever sent to that participant's own socket."""
    answers = await db.execute(
        select(col(Answer.question_id), col(Answer.value), col(Answer.declined))
        .join(Question, col(Question.id) == col(Answer.question_id))
        .where(col(Answer.participant_id) == participant_id, col(Question.session_id) == session_id)
    )
    entries = await db.execute(
        select(col(Entry.question_id), col(Entry.id), col(Entry.text))
        .join(Question, col(Question.id) == col(Entry.question_id))
        .where(
            col(Entry.participant_id) == participant_id,
            col(Question.session_id) == session_id,
            col(Entry.comment).is_(False),
        )
        .order_by(col(Entry.created_at))
    )
    texts: dict[str, list[str]] = {}
    ids: dict[str, list[str]] = {}
    for question_id, entry_id, text in entries.all():
        texts.setdefault(question_id, []).append(text)
        ids.setdefault(question_id, []).append(entry_id)
    return {
        "answers": {
            question_id: None if declined else value for question_id, value, declined in answers.all()
        },
        "entries": texts,
        "entry_ids": ids,
    }
