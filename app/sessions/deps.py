"""Lookups that return the session or participant, or raise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from app.auth.deps import CurrentAccount, CurrentFacilitator, bearer_token
from app.db import Db
from app.errors import AppError
from app.sessions import service
from app.sessions.models import LiveSession, Participant


def participant_cookie(session_id: str) -> str:
    """One cookie per session, so the same browser is a different participant in each session."""
    return f"ts_p_{session_id}"


def participant_token(authorization: str | None, cookies: Mapping[str, str], session_id: str) -> str | None:
    """The participant token from `Authorization: Bearer`, else from the session's cookie."""
    return bearer_token(authorization) or cookies.get(participant_cookie(session_id))


async def _owned_session(session_id: str, db: Db, facilitator: CurrentFacilitator) -> LiveSession:
    return await service.get_owned(db, session_id=session_id, owner=facilitator)


OwnedSession = Annotated[LiveSession, Depends(_owned_session)]


async def _readable_session(session_id: str, db: Db, account: CurrentAccount) -> LiveSession:
    return await service.get_readable(db, session_id=session_id, account=account)


# The session's facilitator, or a researcher they added: may read results and export, not run it.
ReadableSession = Annotated[LiveSession, Depends(_readable_session)]


# As the OpenAPI describes it; the browser pages send the participant cookie instead (its name holds the
# session id, which OpenAPI's cookie scheme cannot say).
_participant_token = HTTPBearer(
    scheme_name="ParticipantToken",
    description="A participant token of the session in the path, from `POST /api/join`. Browsers send "
    "the participant cookie `ts_p_<session_id>` instead.",
    auto_error=False,
)


async def _current_participant(
    session_id: str, request: Request, db: Db, _: Annotated[object, Depends(_participant_token)]
) -> Participant:
    token = participant_token(request.headers.get("authorization"), request.cookies, session_id)
    participant = (
        await service.participant_by_token(db, session_id=session_id, token=token)
        if token is not None
        else None
    )
    if participant is None:
        raise AppError(
            401, "not_authenticated", "Join the session first: your participant token is missing or invalid."
        )
    return participant


CurrentParticipant = Annotated[Participant, Depends(_current_participant)]


async def _participant_session(session_id: str, db: Db, participant: CurrentParticipant) -> LiveSession:
    live = await db.get(LiveSession, session_id)
    if live is None:
        raise AppError(404, "not_found", "This session does not exist.")
    return live


ParticipantSession = Annotated[LiveSession, Depends(_participant_session)]
