"""Audience-paced sections: a section that opens as a survey, which each participant moves through at
their own speed (the phone shows one question after another with its progress); the console counts who
finished. Presenter pace (one question at a time, run by the facilitator) stays the default."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import utcnow
from app.errors import AppError
from app.polls import service as polls_service
from app.polls.models import Answer, Entry, Question, Section
from app.polls.schemas import QuestionUpdate
from app.sessions import service as sessions_service
from app.sessions.models import LiveSession


async def running_section(db: AsyncSession, *, session_id: str) -> Section | None:
    return await db.scalar(
        select(Section).where(
            col(Section.session_id) == session_id,
            col(Section.started_at).is_not(None),
            col(Section.finished_at).is_(None),
        )
    )


async def section_questions(db: AsyncSession, *, section: Section) -> list[Question]:
    return [
        q
        for q in await polls_service.list_questions(db, session_id=section.session_id)
        if q.section_id == section.id
    ]


async def survey_state(db: AsyncSession, *, session_id: str, facilitator: bool) -> dict[str, Any]:
    """The `survey.state` data: the running audience-paced section and its questions, or null."""
    section = await running_section(db, session_id=session_id)
    if section is None:
        return {"survey": None}
    questions = await section_questions(db, section=section)
    return {
        "survey": {
            "section_id": section.id,
            "title": section.title,
            "questions": [polls_service.question_public(q, facilitator=facilitator) for q in questions],
        }
    }


async def start(db: AsyncSession, *, live: LiveSession, section: Section) -> list[Question]:
    """Open every question of an audience-paced section at once, and clear the current question so
    phones move to the survey. Returns the section's questions."""
    if live.closed:
        raise AppError(409, "session_closed", "This session is closed.")
    if section.pace != "audience":
        raise AppError(
            409,
            "not_audience_paced",
            "Only an audience-paced section starts as a survey; change its pace first.",
        )
    if section.started_at is not None:
        raise AppError(
            409, "section_started", "This section has already been started; it cannot start again."
        )
    other = await running_section(db, session_id=live.id)
    if other is not None:
        raise AppError(409, "section_running", f"Finish the section “{other.title}” first.")
    questions = await section_questions(db, section=section)
    if not questions:
        raise AppError(409, "section_empty", "This section has no questions to answer yet.")
    for question in questions:
        if not question.is_open and not question.is_closed:
            await polls_service.update_question(
                db, live=live, question=question, change=QuestionUpdate(open=True)
            )
    section.started_at = utcnow()
    db.add(section)
    await sessions_service.set_current(db, live=live, question_id=None)
    await db.flush()
    return questions


async def finish(db: AsyncSession, *, live: LiveSession, section: Section) -> list[Question]:
    """Close the section's open questions for good (each with its exact result); the questions closed."""
    if not section.running:
        raise AppError(409, "section_not_running", "This section is not running as a survey.")
    closed = [
        question
        for question in await section_questions(db, section=section)
        if question.is_open
        and await polls_service.update_question(
            db, live=live, question=question, change=QuestionUpdate(open=False)
        )
    ]
    section.finished_at = utcnow()
    db.add(section)
    await db.flush()
    return closed


async def progress(db: AsyncSession, *, section: Section) -> dict[str, Any]:
    """How many participants responded to every question of the section ("finished"), and to any."""
    ids = [q.id for q in await section_questions(db, section=section)]
    if not ids:
        return {"section_id": section.id, "questions": 0, "started": 0, "finished": 0}
    # One row per participant and question they responded to (an answer, a decline, or an entry).
    responded = union_all(
        select(col(Answer.participant_id).label("pid"), col(Answer.question_id).label("qid")).where(
            col(Answer.question_id).in_(ids)
        ),
        select(col(Entry.participant_id).label("pid"), col(Entry.question_id).label("qid")).where(
            col(Entry.question_id).in_(ids), col(Entry.comment).is_(False)
        ),
    ).subquery()
    per_person = (
        select(responded.c.pid, func.count(func.distinct(responded.c.qid)).label("done"))
        .group_by(responded.c.pid)
        .subquery()
    )
    rows = (await db.execute(select(per_person.c.done))).scalars().all()
    return {
        "section_id": section.id,
        "questions": len(ids),
        "started": len(rows),
        "finished": sum(1 for done in rows if done >= len(ids)),
    }


async def set_pace(db: AsyncSession, *, section: Section, pace: str) -> None:
    if section.started_at is not None and pace != section.pace:
        raise AppError(409, "section_started", "A section's pace cannot change once it has started.")
    section.pace = pace
    db.add(section)
    await db.flush()
