"""Sessions and their questions, for facilitators [F]."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status

from app.auth.deps import CurrentFacilitator
from app.db import Db
from app.polls import results as polls_results
from app.polls import service as polls_service
from app.polls.schemas import CurrentUpdate, QuestionCreate, QuestionUpdate, ResultsPublic
from app.sessions import service as sessions_service
from app.sessions.deps import OwnedSession
from app.sessions.models import LiveSession
from app.sessions.schemas import SessionCreate, SessionSummary, SessionUpdate
from app.snapshots import current_question, queue_results, queue_session_state

router = APIRouter(prefix="/api/sessions", tags=["sessions"])


def links(request: Request, live: LiveSession) -> dict[str, str]:
    public = request.app.state.settings.PUBLIC_URL
    return {"join_url": f"{public}/j/{live.code}", "presenter_url": f"{public}/presenter/{live.id}"}


async def session_public(request: Request, db: Db, live: LiveSession) -> dict[str, Any]:
    """The session as the API shows it: settings, links, questions and the current question."""
    questions = await polls_service.list_questions(db, session_id=live.id)
    return {
        "id": live.id,
        "title": live.title,
        "code": live.code,
        **links(request, live),
        "settings": {
            "min_group": live.min_group,
            "consent_text": live.consent_text,
            "language": live.language,
        },
        "closed": live.closed,
        "created_at": live.created_at,
        "current_question_id": live.current_question_id,
        "questions": [polls_service.question_public(q) for q in questions],
    }


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_session(
    request: Request, db: Db, facilitator: CurrentFacilitator, body: SessionCreate
) -> dict[str, Any]:
    """Create a live session with a join code."""
    live = await sessions_service.create_session(
        db,
        owner=facilitator,
        title=body.title,
        min_group=body.settings.min_group,
        consent_text=body.settings.consent_text,
        language=body.settings.language,
    )
    return await session_public(request, db, live)


@router.get("")
async def list_sessions(db: Db, facilitator: CurrentFacilitator) -> list[SessionSummary]:
    """Your sessions, newest first."""
    return [
        SessionSummary(id=s.id, title=s.title, code=s.code, closed=s.closed, created_at=s.created_at)
        for s in await sessions_service.list_owned(db, owner=facilitator)
    ]


@router.get("/{session_id}")
async def get_session(request: Request, db: Db, live: OwnedSession) -> dict[str, Any]:
    """The session, its settings, its questions and its current question id."""
    return await session_public(request, db, live)


@router.patch("/{session_id}")
async def update_session(request: Request, db: Db, live: OwnedSession, body: SessionUpdate) -> dict[str, Any]:
    """Rename, change settings (never weakening anonymity once answers exist), or close for good."""
    settings = body.settings
    k_before = live.min_group
    language_before = live.language
    closing_questions = []
    if body.closed and not live.closed:
        # Closing the session closes its open questions for good, each with its exact result (ETHICS 9).
        closing_questions = await polls_service.close_open_questions(db, live=live)
    await sessions_service.update_session(
        db,
        live=live,
        title=body.title,
        min_group=settings.min_group if settings else None,
        consent_text=settings.consent_text if settings else None,
        language=settings.language if settings else None,
        close=bool(body.closed),
        answers_exist=await polls_service.has_answers(db, session_id=live.id),
    )
    request.app.state.open_sessions.forget(live.code)
    if live.language != language_before:
        await polls_service.rekey_hidden_words(db, live=live)
    if live.min_group != k_before:
        # Every read applies k; screens hold results read under the old k, so send each one again.
        for question in await polls_service.list_questions(db, session_id=live.id):
            queue_results(db, question.id)
    if body.closed:
        queue_session_state(db, live, await current_question(db, live))
        for question in closing_questions:
            queue_results(db, question.id)
    return await session_public(request, db, live)


@router.put("/{session_id}/current")
async def set_current(db: Db, live: OwnedSession, body: CurrentUpdate) -> dict[str, Any]:
    """Make a question current (pushed to every phone), or none."""
    question = None
    if body.question_id is not None:
        question = await polls_service.get_question(db, live=live, question_id=body.question_id)
    await sessions_service.set_current(db, live=live, question_id=body.question_id)
    queue_session_state(db, live, question)
    return {"current_question_id": live.current_question_id}


@router.post("/{session_id}/questions", status_code=status.HTTP_201_CREATED)
async def create_question(db: Db, live: OwnedSession, body: QuestionCreate) -> dict[str, Any]:
    """Add a question; it starts not open."""
    question = await polls_service.create_question(db, live=live, request=body)
    return polls_service.question_public(question)


@router.patch("/{session_id}/questions/{question_id}")
async def update_question(
    db: Db, live: OwnedSession, question_id: str, body: QuestionUpdate
) -> dict[str, Any]:
    """Open, close for good, show/hide results on phones, show comments, hide words of a word cloud."""
    question = await polls_service.get_question(db, live=live, question_id=question_id)
    closed_now = await polls_service.update_question(db, live=live, question=question, change=body)
    if live.current_question_id == question.id:
        queue_session_state(db, live, question)
    elif closed_now or body.show_comments is not None or body.hidden_words is not None:
        queue_results(db, question.id)
    return polls_service.question_public(question)


@router.post("/{session_id}/questions/{question_id}/duplicate", status_code=status.HTTP_201_CREATED)
async def duplicate_question(db: Db, live: OwnedSession, question_id: str) -> dict[str, Any]:
    """A fresh, not yet open copy of a question (a closed question cannot be reopened)."""
    original = await polls_service.get_question(db, live=live, question_id=question_id)
    question = await polls_service.duplicate_question(db, live=live, question=original)
    return polls_service.question_public(question)


# exclude_unset: `comments` only on questions that take comments, as on sockets.
@router.get("/{session_id}/questions/{question_id}/results", response_model_exclude_unset=True)
async def get_results(db: Db, live: OwnedSession, question_id: str) -> ResultsPublic:
    """The result as screens show it, under the k rule."""
    question = await polls_service.get_question(db, live=live, question_id=question_id)
    return await polls_results.shown(db, question=question, k=live.min_group)
