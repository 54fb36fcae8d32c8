"""Research routes [F]: the export bundle, researchers of a session, information-sheet versions, the
audit log, and deleting a session."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import StreamingResponse

from app.auth.deps import FACILITATOR_REFUSALS, CurrentAccount, CurrentFacilitator
from app.db import Db, writes_on_read
from app.errors import error_responses
from app.research import audit, export, retention
from app.research.schemas import AuditEventPublic, AuditPublic
from app.sessions import service as sessions_service
from app.sessions.deps import OwnedSession, ReadableSession
from app.sessions.schemas import (
    ResearcherAdd,
    ResearcherPublic,
    ResearchersPublic,
    SheetVersionPublic,
    SheetVersionsPublic,
)

router = APIRouter(prefix="/api/sessions", tags=["research"])

_READ = "The session is missing, or neither yours nor shared with you as a researcher."


def _download(kind: str) -> dict[int | str, dict[str, Any]]:
    media = {"zip": "application/zip", "csv": "text/csv"}[kind]
    return {
        200: {
            "description": f"The {'research bundle' if kind == 'zip' else 'responses.csv of the bundle'}, "
            "streamed.",
            "content": {media: {"schema": {"type": "string", "format": "binary"}}},
        },
        **error_responses(*FACILITATOR_REFUSALS, 404, s404=_READ),
    }


def _filename(live_id: str, suffix: str) -> str:
    return f'attachment; filename="thirdspace-{live_id}-{suffix}"'


@router.get("/{session_id}/export.zip", response_class=StreamingResponse, responses=_download("zip"))
@writes_on_read
async def export_zip(request: Request, db: Db, live: ReadableSession, account: CurrentAccount) -> Response:
    """The research bundle: README.txt, questions.csv, responses.csv, summary.csv, comments.csv,
    private_messages.csv and datapackage.json, streamed as it is written (docs/researcher-guide.md
    explains each file). For the facilitator and the researchers they added; written to the audit log."""
    audit.record(db, session_id=live.id, action="export", account=account, detail={"file": "export.zip"})
    return StreamingResponse(
        export.stream_zip(request.app.state.database, session_id=live.id),
        media_type="application/zip",
        headers={"Content-Disposition": _filename(live.id, "bundle.zip")},
    )


@router.get("/{session_id}/export.csv", response_class=StreamingResponse, responses=_download("csv"))
@writes_on_read
async def export_csv(request: Request, db: Db, live: ReadableSession, account: CurrentAccount) -> Response:
    """responses.csv of the bundle alone (long format, pseudonymous, shuffled, redacted), streamed;
    written to the audit log."""
    audit.record(db, session_id=live.id, action="export", account=account, detail={"file": "export.csv"})
    return StreamingResponse(
        export.stream_responses(request.app.state.database, session_id=live.id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": _filename(live.id, "responses.csv")},
    )


@router.delete(
    "/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(*FACILITATOR_REFUSALS, 404),
)
async def delete_session(
    request: Request, db: Db, live: OwnedSession, facilitator: CurrentFacilitator
) -> Response:
    """Delete the session outright: its questions, participants, answers, entries, results, sheets and
    researchers. Only the audit log keeps that it existed (its id, who deleted it and when)."""
    audit.record(
        db,
        session_id=live.id,
        action="session.delete",
        account=facilitator,
        detail={"title_length": len(live.title)},
    )
    request.app.state.open_sessions.forget(live.code)
    await retention.delete_session(db, live=live)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{session_id}/researchers", responses=error_responses(*FACILITATOR_REFUSALS, 404))
async def list_researchers(db: Db, live: OwnedSession) -> ResearchersPublic:
    """The accounts added to the session as researchers."""
    accounts = await sessions_service.researchers(db, live=live)
    return ResearchersPublic(researchers=[ResearcherPublic(id=a.id, email=a.email) for a in accounts])


@router.post(
    "/{session_id}/researchers",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        400,
        *FACILITATOR_REFUSALS,
        404,
        422,
        s422="No account has that e-mail (`unknown_account`), or it is the session's own facilitator.",
    ),
)
async def add_researcher(
    db: Db, live: OwnedSession, facilitator: CurrentFacilitator, body: ResearcherAdd
) -> ResearcherPublic:
    """Add an existing account, by e-mail, as a researcher of the session: it then sees the session,
    its results, its presenter and its exports, and cannot run it."""
    account = await sessions_service.add_researcher(db, live=live, email=body.email)
    audit.record(
        db,
        session_id=live.id,
        action="researcher.add",
        account=facilitator,
        detail={"account_id": account.id},
    )
    return ResearcherPublic(id=account.id, email=account.email)


@router.delete(
    "/{session_id}/researchers/{account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=error_responses(*FACILITATOR_REFUSALS, 404),
)
async def remove_researcher(
    db: Db, live: OwnedSession, facilitator: CurrentFacilitator, account_id: str
) -> Response:
    """Take a researcher off the session."""
    await sessions_service.remove_researcher(db, live=live, account_id=account_id)
    audit.record(
        db,
        session_id=live.id,
        action="researcher.remove",
        account=facilitator,
        detail={"account_id": account_id},
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{session_id}/consent/versions", responses=error_responses(*FACILITATOR_REFUSALS, 404))
async def sheet_versions(db: Db, live: ReadableSession) -> SheetVersionsPublic:
    """Every version of the information sheet, oldest first, with how many participants agreed to
    each (counts only)."""
    versions = await sessions_service.sheet_versions(db, live=live)
    return SheetVersionsPublic(
        versions=[
            SheetVersionPublic(
                version=sheet.version,
                created_at=sheet.created_at,
                current=sheet.version == live.consent_version,
                participants=count,
                text=sheet.text,
            )
            for sheet, count in versions
        ]
    )


@router.get("/{session_id}/audit", responses=error_responses(*FACILITATOR_REFUSALS, 404))
async def audit_log(db: Db, live: ReadableSession) -> AuditPublic:
    """The session's audit log, newest first (at most 500 events): who opened, closed, revealed,
    moderated, exported, deleted; withdrawals without any participant."""
    events = await audit.events(db, session_id=live.id)
    return AuditPublic(
        events=[
            AuditEventPublic(at=e.at, actor=e.actor, action=e.action, detail=e.detail or {}) for e in events
        ]
    )
