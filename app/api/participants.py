"""Joining with a code and consenting: routes for participants, who have no account."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.api.common import client_address, too_many_wrong_codes
from app.auth.ratelimit import JoinLimiter, TooManyWrongCodes
from app.db import Db
from app.errors import AppError, error_responses
from app.polls import service as polls_service
from app.sessions import service as sessions_service
from app.sessions.deps import CurrentParticipant, ParticipantSession, participant_cookie
from app.sessions.joins import OpenSession, OpenSessionsByCode
from app.sessions.schemas import (
    ConsentPublic,
    ConsentRequest,
    ConsentResultPublic,
    JoinPublic,
    JoinRequest,
    JoinSessionPublic,
)
from app.snapshots import queue_results

router = APIRouter(prefix="/api", tags=["participants"])

# 12 hours: a participant cookie outlives a long event day, then lapses on its own.
PARTICIPANT_COOKIE_SECONDS = 12 * 3600


def unknown_code() -> AppError:
    return AppError(404, "unknown_code", "No open session has that code. Check the code and try again.")


@router.post(
    "/join",
    responses=error_responses(
        400,
        404,
        422,
        429,
        s404="No open session has this code (`unknown_code`).",
        s429="A wrong code from an address past its budget of wrong codes, looked at only after a wait "
        "(`too_many_attempts`); `Retry-After` says when to try again. Never for a correct code.",
    ),
)
async def join(request: Request, response: Response, body: JoinRequest) -> JoinPublic:
    """Join an open session by its code: a new anonymous participant and their token (also set as the
    cookie `ts_p_<session_id>`), or, for a browser that sends that cookie, that participant again.
    Wrong codes are limited per address and across addresses (docs/operations.md); a code someone from
    the same address has joined with is never refused."""
    # No request-wide transaction: the lookups read without the write lock, and the insert goes to the
    # join writer.
    limiter: JoinLimiter = request.app.state.join_limiter
    open_sessions: OpenSessionsByCode = request.app.state.open_sessions

    async def lookup(code: str) -> OpenSession | None:
        # Only digits can be a code: anything else is wrong (and counted) without a query.
        return await open_sessions.get(code) if code.isdigit() else None

    try:
        live = await limiter.admit(client_address(request), body.code, lookup)
    except TooManyWrongCodes as refused:
        raise too_many_wrong_codes(refused.retry_after) from None
    if live is None:
        raise unknown_code()
    returning = await _returning_participant(request, live)
    if returning is not None:
        token, agreed = returning
    else:
        joined = await request.app.state.joins.join(session_id=live.id)
        if joined is None:  # the session closed a moment ago
            raise unknown_code()
        token, agreed = joined[1], False
    response.set_cookie(
        participant_cookie(live.id),
        token,
        max_age=PARTICIPANT_COOKIE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies,
    )
    return JoinPublic(
        participant_token=token,
        session=JoinSessionPublic(id=live.id, title=live.title),
        consent=ConsentPublic(
            required=live.consent_version is not None,
            text=live.consent_text or "",
            version=live.consent_version,
            agreed=agreed,
        ),
        continued=returning is not None,
    )


async def _returning_participant(request: Request, live: OpenSession) -> tuple[str, bool] | None:
    """(token, agreed to the current sheet) of the participant whose cookie for this session the
    browser sent, if it still exists: one phone pressing Back and Join again stays one participant."""
    token = request.cookies.get(participant_cookie(live.id))
    if not token:
        return None
    async with request.app.state.database.read_session() as db:
        participant = await sessions_service.participant_by_token(db, session_id=live.id, token=token)
    if participant is None:
        return None
    agreed = live.consent_version is not None and participant.consent_version == live.consent_version
    return token, agreed


@router.post(
    "/sessions/{session_id}/consent",
    responses=error_responses(
        400,
        401,
        404,
        409,
        422,
        s401="No participant token (or cookie) of this session.",
        s409="The session is closed (`session_closed`), has no information sheet (`consent_not_required`), "
        "the sheet changed since it was shown (`consent_stale`), or this participant already agreed "
        "(`already_consented`).",
    ),
)
async def consent(
    response: Response,
    db: Db,
    live: ParticipantSession,
    participant: CurrentParticipant,
    body: ConsentRequest,
) -> ConsentResultPublic:
    """Agree to the information sheet, or decline (`"agree": false`), which deletes the participant and
    their answers; a closed question's exact result is then computed again without them, and an open
    one counts the removal as one change towards its next step."""
    removal = (
        None if body.agree else await polls_service.participant_leaving(db, participant_id=participant.id)
    )
    agreed = await sessions_service.record_consent(
        db, live=live, participant=participant, version=body.version, agree=body.agree
    )
    if removal is not None:
        response.delete_cookie(participant_cookie(live.id))
        # Declining removes the participant and, with them, any answers: closed results are recomputed
        # and shown at once; open ones count the removal as one change towards their next step.
        await polls_service.participant_left(db, removal=removal)
        for question in removal.closed:
            queue_results(db, question.id)
        for question in removal.open:
            queue_results(db, question.id, force=False)
    return ConsentResultPublic(agreed=agreed)
