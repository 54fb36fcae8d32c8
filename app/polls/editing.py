"""Changing a session's plan: edit a question nobody has answered, delete one never opened, reorder."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.errors import AppError
from app.polls import service as polls_service
from app.polls.kinds import kind_of
from app.polls.models import Question, ResultChange
from app.polls.schemas import QuestionCreate
from app.sessions.models import LiveSession


async def answered(db: AsyncSession, *, question: Question) -> bool:
    """Whether anyone ever contributed to this question (the change log keeps it after they left)."""
    found = await db.scalar(
        select(col(ResultChange.id)).where(col(ResultChange.question_id) == question.id).limit(1)
    )
    return found is not None


def _session_open(live: LiveSession) -> None:
    if live.closed:
        raise AppError(409, "session_closed", "This session is closed; its questions cannot change.")


async def edit_question(
    db: AsyncSession, *, live: LiveSession, question: Question, request: QuestionCreate
) -> Question:
    """Replace a question's kind, prompt and fields, keeping its place; only while nobody answered it
    (an answer given to other words must not be counted under new ones). Closed questions stay as
    they were: ask again as a new question instead."""
    _session_open(live)
    if question.is_closed:
        raise AppError(
            409, "question_closed", "A closed question cannot be edited; ask it again as a new question."
        )
    if await answered(db, question=question):
        raise AppError(
            409,
            "question_answered",
            "People have already answered this question, so it cannot be edited; ask a new question instead.",
        )
    question.kind = request.kind
    question.prompt = request.prompt
    question.config = kind_of(request.kind).config_from_create(request)
    question.comments = request.comments
    question.moderated = request.moderated
    question.section_id = await polls_service.section_of(db, live=live, section_id=request.section_id)
    db.add(question)
    await db.flush()
    return question


async def delete_question(db: AsyncSession, *, live: LiveSession, question: Question) -> None:
    """Delete a question that was never opened (so nobody ever saw it on a phone or answered it)."""
    _session_open(live)
    if question.opened_at is not None:
        raise AppError(
            409,
            "question_opened",
            "This question has been opened, so it stays in the session's record; close it instead.",
        )
    if live.current_question_id == question.id:
        live.current_question_id = None
        db.add(live)
    await db.execute(delete(Question).where(col(Question.id) == question.id))
    await _renumber(db, session_id=live.id)


async def reorder(db: AsyncSession, *, live: LiveSession, question_ids: list[str]) -> list[Question]:
    """Put the session's questions in this order; the list must name each of them once."""
    _session_open(live)
    questions = await polls_service.list_questions(db, session_id=live.id)
    by_id = {q.id: q for q in questions}
    if sorted(question_ids) != sorted(by_id):
        raise AppError(
            422,
            "invalid",
            "List every question of this session once, in the new order.",
            fields={"question_ids": "must name each question of the session exactly once"},
        )
    for position, question_id in enumerate(question_ids, start=1):
        by_id[question_id].position = position
        db.add(by_id[question_id])
    await db.flush()
    return [by_id[i] for i in question_ids]


async def _renumber(db: AsyncSession, *, session_id: str) -> None:
    for position, question in enumerate(await polls_service.list_questions(db, session_id=session_id), 1):
        if question.position != position:
            question.position = position
            db.add(question)
    await db.flush()
