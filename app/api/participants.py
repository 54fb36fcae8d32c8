"""Joining with a code and consenting: routes for participants, who have no account."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request, Response

from app.api.common import client_address, refuse_if_limited, too_many_wrong_codes
from app.auth.ratelimit import FailureLimiter, JoinLimiter, TooManyWrongCodes
from app.breakouts import service as breakouts_service
from app.db import Db
from app.errors import AppError, error_responses
from app.research import audit
from app.sessions import codes, sheet
from app.sessions import service as sessions_service
from app.sessions.deps import CurrentParticipant, ParticipantSession, participant_cookie
from app.sessions.joins import OpenSession, OpenSessionsByCode
from app.sessions.models import Participant, WithdrawnCode
from app.sessions.schemas import (
    ConsentPublic,
    ConsentRequest,
    ConsentResultPublic,
    JoinPublic,
    JoinRequest,
    JoinSessionPublic,
    WithdrawPublic,
    WithdrawRequest,
)
from app.withdrawal import remove_participant

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
    withdrawal_code = None
    if returning is not None:
        token, agreed = returning
    else:
        # No sheet to agree to: the withdrawal code comes now (ETHICS 5), else with consent.
        withdrawal_code = codes.new_code() if live.consent_version is None else None
        joined = await request.app.state.joins.join(
            session_id=live.id,
            withdrawal_code_hash=codes.hash_code(withdrawal_code) if withdrawal_code else None,
        )
        if joined is None:  # the session closed a moment ago
            raise unknown_code()
        if live.consent_version is None and joined.round_open:
            # A late joiner goes to the smallest group of an open breakout round at once.
            await request.app.state.breakouts.place(live.id, joined.participant_id)
        token, agreed = joined.token, False
        request.app.state.presence.touch(live.id)  # one more joined: screens say so within a second
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
            html=sheet.render(live.consent_text),
            version=live.consent_version,
            agreed=agreed,
        ),
        continued=returning is not None,
        withdrawal_code=withdrawal_code,
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
    agreed = live.consent_version is not None and participant.consent_version is not None
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
    request: Request,
    response: Response,
    background: BackgroundTasks,
    db: Db,
    live: ParticipantSession,
    participant: CurrentParticipant,
    body: ConsentRequest,
) -> ConsentResultPublic:
    """Agree to the information sheet, which returns the participant's withdrawal code (shown once), or
    decline (`"agree": false`), which deletes the participant and their answers; a closed question's
    exact result is then computed again without them, and an open one counts the removal as one change
    towards its next step."""
    code = await sessions_service.record_consent(
        db, live=live, participant=participant, version=body.version, agree=body.agree
    )
    if not body.agree:
        response.delete_cookie(participant_cookie(live.id))
        await remove_participant(db, participant=participant)
    else:
        # One who consents during a breakout round goes to its smallest group at once.
        await breakouts_service.place(db, session_id=live.id, participant_id=participant.id)
    # After the commit (background tasks run once the response is out): screens count it within a second.
    background.add_task(request.app.state.presence.touch, live.id)
    return ConsentResultPublic(agreed=body.agree, withdrawal_code=code)


def _withdrawn(db: Db, participant: Participant) -> None:
    audit.record(db, session_id=participant.session_id, action="withdrawal", actor="participant")


@router.post(
    "/withdraw",
    responses=error_responses(
        400,
        404,
        422,
        429,
        s404="No participant holds this code (`unknown_code`).",
        s429="Too many unknown codes from this address (`too_many_attempts`); `Retry-After` says when "
        "to try again.",
    ),
)
async def withdraw(request: Request, db: Db, body: WithdrawRequest) -> WithdrawPublic:
    """Withdraw with the five-word code, during or after the session: every answer, entry, vote,
    comment, note and private message of that participant leaves results, screens and every export
    made from now on. A code already used answers `withdrawn` again. Unknown codes are limited per
    address (the address is held in memory only, under an hourly key)."""
    limiter: FailureLimiter = request.app.state.withdraw_limiter
    address = client_address(request)
    refuse_if_limited(limiter, address, failures="unknown withdrawal codes")
    participant = await sessions_service.participant_by_withdrawal_code(db, code=body.code)
    if participant is None:
        normalised = codes.normalise(body.code)
        if normalised is not None and await db.get(WithdrawnCode, codes.hash_code(normalised)) is not None:
            return WithdrawPublic()
        limiter.fail(address)
        raise AppError(
            404,
            "unknown_code",
            "No answers are held under that code. Check the five words (in order) and try again.",
        )
    await remove_participant(db, participant=participant)
    _withdrawn(db, participant)
    return WithdrawPublic()


@router.post(
    "/sessions/{session_id}/withdraw",
    responses=error_responses(401, 404, s401="No participant token (or cookie) of this session."),
)
async def withdraw_me(
    response: Response, db: Db, live: ParticipantSession, participant: CurrentParticipant
) -> WithdrawPublic:
    """ "Withdraw my answers" on the phone during the session: the participant's own token stands in for
    the code, with the same effect as `POST /api/withdraw`; the participant cookie is cleared."""
    response.delete_cookie(participant_cookie(live.id))
    await remove_participant(db, participant=participant)
    _withdrawn(db, participant)
    return WithdrawPublic()
