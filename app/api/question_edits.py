"""Changing a session's plan [F]: edit a question nobody answered, delete one never opened, reorder."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.sessions import question_public, session_public
from app.auth.deps import FACILITATOR_REFUSALS, CurrentFacilitator
from app.db import Db, utcnow
from app.errors import AppError, error_responses
from app.polls import editing, reset
from app.polls import service as polls_service
from app.polls.schemas import QuestionCreate, QuestionId, QuestionPublic, SessionDetailPublic
from app.realtime import channels, outbox
from app.research import audit
from app.sessions.deps import OwnedSession
from app.snapshots import current_question, queue_results, queue_session_state

router = APIRouter(prefix="/api/sessions", tags=["sessions"])


class CountdownUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # 10 s to 2 h: shorter cannot be read out, longer is not a countdown but an agenda.
    seconds: int | None = Field(
        ge=10, le=7200, description="Close the question this many seconds from now; null stops the countdown."
    )


class OrderUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # 200: more questions than any session needs; each id once.
    question_ids: list[QuestionId] = Field(
        max_length=200, description="Every question id of the session, once each, in the new order."
    )


@router.put(
    "/{session_id}/questions/{question_id}",
    responses=error_responses(
        400,
        *FACILITATOR_REFUSALS,
        404,
        409,
        422,
        s409="The session is closed (`session_closed`), the question is closed (`question_closed`), or "
        "someone has answered it (`question_answered`).",
    ),
)
async def edit_question(db: Db, live: OwnedSession, question_id: str, body: QuestionCreate) -> QuestionPublic:
    """Replace a question (kind, prompt, fields) while nobody has answered it; the same body as when
    adding one. Its place, and whether it is open or current, stay."""
    question = await polls_service.get_question(db, live=live, question_id=question_id)
    await editing.edit_question(db, live=live, question=question, request=body)
    if live.current_question_id == question.id:
        queue_session_state(db, live, question)
    return question_public(question)


@router.delete(
    "/{session_id}/questions/{question_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(
        *FACILITATOR_REFUSALS,
        404,
        409,
        s409="The session is closed (`session_closed`), or the question was opened (`question_opened`).",
    ),
)
async def delete_question(db: Db, live: OwnedSession, question_id: str) -> Response:
    """Delete a question that was never opened. Opened questions stay in the record: close them."""
    question = await polls_service.get_question(db, live=live, question_id=question_id)
    was_current = live.current_question_id == question.id
    await editing.delete_question(db, live=live, question=question)
    if was_current:
        queue_session_state(db, live, None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/{session_id}/order",
    responses=error_responses(
        400, *FACILITATOR_REFUSALS, 404, 409, 422, s409="The session is closed (`session_closed`)."
    ),
)
async def reorder(request: Request, db: Db, live: OwnedSession, body: OrderUpdate) -> SessionDetailPublic:
    """Put the session's questions in a new order: `question_ids` lists each of them once, else `422`."""
    await editing.reorder(db, live=live, question_ids=body.question_ids)
    if live.current_question_id is not None:
        queue_session_state(db, live, await current_question(db, live))
    return await session_public(request, db, live)


@router.post(
    "/{session_id}/questions/{question_id}/reset",
    responses=error_responses(
        *FACILITATOR_REFUSALS, 404, 409, s409="The session is closed (`session_closed`)."
    ),
)
async def reset_answers(
    db: Db, live: OwnedSession, facilitator: CurrentFacilitator, question_id: str
) -> QuestionPublic:
    """Delete every answer, entry, vote and comment of a question: they leave results, screens and later
    exports. The question stays as it is (open, closed, current). The audit log records it; phones get
    `question.reset` and forget what they sent to it."""
    question = await polls_service.get_question(db, live=live, question_id=question_id)
    await reset.reset_answers(db, live=live, question=question)
    audit.record(
        db,
        session_id=live.id,
        action="question.reset",
        account=facilitator,
        detail={"question_id": question.id},
    )
    outbox.add(
        db,
        (channels.participants(live.id), channels.presenters(live.id)),
        "question.reset",
        {"question_id": question.id},
        seq_key=live.id,
    )
    queue_results(db, question.id)
    return question_public(question)


@router.put(
    "/{session_id}/questions/{question_id}/countdown",
    responses=error_responses(
        400,
        *FACILITATOR_REFUSALS,
        404,
        409,
        422,
        s409="The session is closed (`session_closed`), or the question is closed (`question_closed`) or not "
        "open (`question_not_open`).",
    ),
)
async def set_countdown(
    db: Db, live: OwnedSession, question_id: str, body: CountdownUpdate
) -> QuestionPublic:
    """Start (or restart) a countdown that closes an open question, with its exact result, at zero; or
    stop it (`"seconds": null`). Phones and screens show the time left from `closes_at`."""
    question = await polls_service.get_question(db, live=live, question_id=question_id)
    if live.closed:
        raise AppError(409, "session_closed", "This session is closed.")
    if question.is_closed:
        raise AppError(409, "question_closed", "This question is closed already.")
    if not question.is_open:
        raise AppError(
            409, "question_not_open", "Open the question first; a countdown closes an open question."
        )
    question.closes_at = None if body.seconds is None else utcnow() + timedelta(seconds=body.seconds)
    db.add(question)
    await db.flush()
    if live.current_question_id == question.id:
        queue_session_state(db, live, question)
    return question_public(question)
