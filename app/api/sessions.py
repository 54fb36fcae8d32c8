"""Sessions and their questions, for facilitators [F]."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from pydantic import TypeAdapter

from app.api import breakouts as breakouts_api
from app.auth.deps import FACILITATOR_REFUSALS, CurrentAccount, CurrentFacilitator
from app.breakouts.schemas import GroupResultPublic
from app.db import Db
from app.errors import error_responses
from app.polls import results as polls_results
from app.polls import sections
from app.polls import service as polls_service
from app.polls.models import Question
from app.polls.schemas import (
    CurrentUpdate,
    QuestionCreate,
    QuestionPublic,
    QuestionUpdate,
    ResultsPublic,
    SessionDetailPublic,
)
from app.research import audit
from app.sessions import service as sessions_service
from app.sessions.deps import OwnedSession, ReadableSession
from app.sessions.models import LiveSession
from app.sessions.schemas import (
    CurrentPublic,
    SessionCreate,
    SessionSettingsPublic,
    SessionSummaryPublic,
    SessionUpdate,
)
from app.snapshots import current_question, queue_results, queue_session_state

router = APIRouter(prefix="/api/sessions", tags=["sessions"])

_QUESTION = TypeAdapter[QuestionPublic](QuestionPublic)
_CLOSED = "The session is closed (`session_closed`)."


def links(request: Request, live: LiveSession) -> dict[str, str]:
    public = request.app.state.settings.PUBLIC_URL
    return {"join_url": f"{public}/j/{live.code}", "presenter_url": f"{public}/presenter/{live.id}"}


def question_public(question: Question) -> QuestionPublic:
    """The question as the API shows it (the same fields as on sockets, typed by its kind)."""
    return _QUESTION.validate_python(polls_service.question_public(question))


async def session_public(request: Request, db: Db, live: LiveSession) -> SessionDetailPublic:
    """The session as the API shows it: settings, links, questions and the current question."""
    questions = await polls_service.list_questions(db, session_id=live.id)
    return SessionDetailPublic(
        id=live.id,
        title=live.title,
        code=live.code,
        **links(request, live),
        settings=SessionSettingsPublic(
            min_group=live.min_group,
            consent_text=live.consent_text,
            language=live.language,
            retention_days=live.retention_days,
            export_minutes=live.export_minutes,
        ),
        closed=live.closed,
        created_at=live.created_at,
        current_question_id=live.current_question_id,
        questions=[question_public(q) for q in questions],
        sections=[sections.section_public(s) for s in await sections.list_sections(db, session_id=live.id)],
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, *FACILITATOR_REFUSALS, 422),
)
async def create_session(
    request: Request, db: Db, facilitator: CurrentFacilitator, body: SessionCreate
) -> SessionDetailPublic:
    """Create a live session with a fresh 8-digit join code."""
    live = await sessions_service.create_session(
        db,
        owner=facilitator,
        title=body.title,
        min_group=body.settings.min_group,
        consent_text=body.settings.consent_text,
        language=body.settings.language,
        retention_days=body.settings.retention_days or request.app.state.settings.RETENTION_DAYS,
        export_minutes=body.settings.export_minutes,
    )
    audit.record(db, session_id=live.id, action="session.create", account=facilitator)
    return await session_public(request, db, live)


@router.get("", responses=error_responses(*FACILITATOR_REFUSALS))
async def list_sessions(db: Db, account: CurrentAccount) -> list[SessionSummaryPublic]:
    """Your sessions, newest first, then the sessions shared with you as a researcher (`role`)."""
    owned = await sessions_service.list_owned(db, owner=account)
    shared = await sessions_service.list_shared(db, account=account)
    return [
        SessionSummaryPublic(
            id=s.id, title=s.title, code=s.code, closed=s.closed, created_at=s.created_at, role=role
        )
        for sessions, role in ((owned, "facilitator"), (shared, "researcher"))
        for s in sessions
    ]


@router.get("/{session_id}", responses=error_responses(*FACILITATOR_REFUSALS, 404))
async def get_session(request: Request, db: Db, live: ReadableSession) -> SessionDetailPublic:
    """The session, its settings, its questions and its current question id (for its facilitator and
    the researchers they added)."""
    return await session_public(request, db, live)


@router.patch(
    "/{session_id}",
    responses=error_responses(
        400,
        *FACILITATOR_REFUSALS,
        404,
        409,
        422,
        s409="The session is closed (`session_closed`), or answers exist and the change would weaken "
        "anonymity (`settings_locked`).",
    ),
)
async def update_session(
    request: Request, db: Db, live: OwnedSession, facilitator: CurrentFacilitator, body: SessionUpdate
) -> SessionDetailPublic:
    """Rename, change settings, or close for good (`"closed": true`). Once the session has an answer,
    `settings.min_group` cannot be lowered and neither `settings.consent_text` nor `settings.language`
    can change (`409 settings_locked`): the schema cannot say so, as it depends on the session's answers.
    Closing closes its open questions, each with its exact result."""
    settings = body.settings
    k_before = live.min_group
    language_before = live.language
    closing_questions = []
    was_closed = live.closed
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
        retention_days=settings.retention_days if settings else None,
        export_minutes=settings.export_minutes if settings else None,
        close=bool(body.closed),
        answers_exist=await polls_service.has_answers(db, session_id=live.id),
    )
    if settings is not None and settings.model_fields_set:
        audit.record(
            db,
            session_id=live.id,
            action="session.settings",
            account=facilitator,
            detail={"changed": sorted(settings.model_fields_set)},
        )
    if body.closed and not was_closed:
        audit.record(db, session_id=live.id, action="session.close", account=facilitator)
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


@router.put(
    "/{session_id}/current",
    responses=error_responses(
        400,
        *FACILITATOR_REFUSALS,
        404,
        409,
        422,
        s404="The session, or the question, is missing or not yours.",
        s409=_CLOSED,
    ),
)
async def set_current(db: Db, live: OwnedSession, body: CurrentUpdate) -> CurrentPublic:
    """Make a question current (pushed to every phone), or none."""
    question = None
    if body.question_id is not None:
        question = await polls_service.get_question(db, live=live, question_id=body.question_id)
    await sessions_service.set_current(db, live=live, question_id=body.question_id)
    queue_session_state(db, live, question)
    return CurrentPublic(current_question_id=live.current_question_id)


@router.post(
    "/{session_id}/questions",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        400,
        *FACILITATOR_REFUSALS,
        404,
        409,
        422,
        s409=_CLOSED,
        s422="Fields are invalid; `error.fields` names them. Beyond what the schema says, option labels "
        "and statements must differ ignoring case and surrounding spaces, and a scale's `labels` are 2 or "
        "exactly `points`.",
    ),
)
async def create_question(db: Db, live: OwnedSession, body: QuestionCreate) -> QuestionPublic:
    """Add a question of any kind; it starts neither open nor closed, its results not shown on phones.
    Two rules JSON Schema cannot say are refused with `422` and `error.fields` naming the field: the
    option labels of a `choice` or `ranking` question, and the statements of a `scale`, may not be the
    same ignoring case and surrounding spaces ("Yes" and " yes"; its `uniqueItems` compares exactly);
    a `scale`'s `labels` are either 2 (the ends) or exactly `points`."""
    question = await polls_service.create_question(db, live=live, request=body)
    return question_public(question)


@router.patch(
    "/{session_id}/questions/{question_id}",
    responses=error_responses(
        400,
        *FACILITATOR_REFUSALS,
        404,
        409,
        422,
        s409="The session is closed (`session_closed`; `show_comments` and `hidden_words` are still "
        "accepted), or `open: true` on a closed question (`question_closed`).",
    ),
)
async def update_question(
    db: Db, live: OwnedSession, facilitator: CurrentFacilitator, question_id: str, body: QuestionUpdate
) -> QuestionPublic:
    """Open (`"open": true`), close for good (`"open": false`), show or hide results on phones, show a
    question's comments on the presenter (`show_comments`: only on a question with `"comments": true`,
    else `422`), or hide words of a word cloud (`hidden_words`: word clouds only, else `422`; a word
    that is empty once normalised, or a stopword, has nothing to hide and is `422` too). JSON Schema
    cannot say which kinds take which field, as that depends on the question in the path: the refusals
    are `422` with `error.fields` naming the field (`hidden_words.2` for the third word).
    `show_comments` and `hidden_words` are moderation: accepted on a closed question and in a closed
    session, where `open` and `results_visible` are `409 session_closed`."""
    question = await polls_service.get_question(db, live=live, question_id=question_id)
    opened_before, visible_before = question.opened_at is not None, question.results_visible
    closed_now = await polls_service.update_question(db, live=live, question=question, change=body)
    _audit_question(db, facilitator, question, body, opened_before, visible_before, closed_now)
    if live.current_question_id == question.id:
        queue_session_state(db, live, question)
    elif closed_now or body.show_comments is not None or body.hidden_words is not None:
        queue_results(db, question.id)
    return question_public(question)


def _audit_question(
    db: Db,
    facilitator: CurrentFacilitator,
    question: Question,
    body: QuestionUpdate,
    opened_before: bool,
    visible_before: bool,
    closed_now: bool,
) -> None:
    """Open, close, reveal, hide and moderation (shown comments, hidden words) go to the audit log."""
    actions = []
    if body.open is True and not opened_before:
        actions.append("question.open")
    if closed_now:
        actions.append("question.close")
    if body.results_visible is not None and body.results_visible != visible_before:
        actions.append("question.reveal" if body.results_visible else "question.hide")
    if body.show_comments is not None or body.hidden_words is not None:
        actions.append("moderation")
    for action in actions:
        audit.record(
            db,
            session_id=question.session_id,
            action=action,
            account=facilitator,
            detail={"question_id": question.id},
        )


@router.post(
    "/{session_id}/questions/{question_id}/duplicate",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(*FACILITATOR_REFUSALS, 404, 409, s409=_CLOSED),
)
async def duplicate_question(db: Db, live: OwnedSession, question_id: str) -> QuestionPublic:
    """A fresh, not yet open copy of a question (a closed question cannot be reopened)."""
    original = await polls_service.get_question(db, live=live, question_id=question_id)
    question = await polls_service.duplicate_question(db, live=live, question=original)
    return question_public(question)


# exclude_unset: `comments` only on questions that take comments, as on sockets.
@router.get(
    "/{session_id}/questions/{question_id}/results",
    # The results object; with `?group=`, also `group_id` and, when hidden, `reason`.
    response_model=GroupResultPublic,
    response_model_exclude_unset=True,
    responses=error_responses(*FACILITATOR_REFUSALS, 404),
)
async def get_results(
    db: Db,
    live: ReadableSession,
    question_id: str,
    group: Annotated[
        str | None,
        Query(description="A breakout group: its result, under ETHICS 10 (docs/protocol.md)."),
    ] = None,
) -> GroupResultPublic | ResultsPublic:
    """The result as screens show it, under the k rule (for the facilitator and the researchers they
    added); with `group`, that breakout group's result, shown only when every group of its round has at
    least k answers, else `hidden` with the `reason`."""
    question = await polls_service.get_question(db, live=live, question_id=question_id)
    if group is not None:
        return await breakouts_api.group_result(db, live, question, group)
    # As the response model (exclude_unset): exactly the results object's fields, as on sockets.
    return GroupResultPublic(**(await polls_results.shown(db, question=question, k=live.min_group)).data())
