"""Joining with a code and consenting: routes for participants, who have no account."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.api.common import client_address, refuse_if_limited
from app.db import Db
from app.errors import AppError
from app.polls import service as polls_service
from app.sessions import service as sessions_service
from app.sessions.deps import CurrentParticipant, ParticipantSession, participant_cookie
from app.sessions.schemas import (
    ConsentPublic,
    ConsentRequest,
    ConsentResult,
    JoinPublic,
    JoinRequest,
    JoinSessionPublic,
)
from app.snapshots import queue_results

router = APIRouter(prefix="/api", tags=["participants"])

# 12 hours: a participant cookie outlives a long event day, then lapses on its own.
PARTICIPANT_COOKIE_SECONDS = 12 * 3600


@router.post("/join")
async def join(request: Request, response: Response, body: JoinRequest) -> JoinPublic:
    """Join an open session by its code: a new anonymous participant and their token. No request-wide
    transaction: the lookup reads without the write lock, and the insert goes to the join writer."""
    limiter = request.app.state.join_limiter
    address = client_address(request)
    refuse_if_limited(limiter, address, failures="wrong codes")
    live = await request.app.state.open_sessions.get(body.code) if body.code.isdigit() else None
    joined = await request.app.state.joins.join(session_id=live.id) if live is not None else None
    if live is None or joined is None:
        limiter.fail(address)
        raise AppError(404, "unknown_code", "No open session has that code. Check the code and try again.")
    _participant_id, token = joined
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
        ),
    )


@router.post("/sessions/{session_id}/consent")
async def consent(
    response: Response,
    db: Db,
    live: ParticipantSession,
    participant: CurrentParticipant,
    body: ConsentRequest,
) -> ConsentResult:
    """Agree to the information sheet, or decline (which deletes the participant)."""
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
    return ConsentResult(agreed=agreed)
