"""The audit log (ETHICS 16): who changed what is collected or shown, and when. Ids and counts only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import Account
from app.research.models import AuditEvent

# The actions written, as the console shows them.
ACTIONS = (
    "session.create",
    "session.settings",
    "session.close",
    "session.delete",
    "question.open",
    "question.close",
    "question.reveal",
    "question.hide",
    "question.reset",
    "moderation",
    "researcher.add",
    "researcher.remove",
    "export",
    "withdrawal",
    "purge",
    "round.start",
    "round.close",
    "report.show",
)


def record(
    db: AsyncSession,
    *,
    session_id: str | None,
    action: str,
    account: Account | None = None,
    actor: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an event to the request's transaction: it is written if and only if the action is."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    db.add(
        AuditEvent(
            session_id=session_id,
            account_id=account.id if account is not None else None,
            actor=account.email if account is not None else (actor or "command line"),
            action=action,
            detail=detail,
        )
    )


async def events(db: AsyncSession, *, session_id: str, limit: int = 500) -> list[AuditEvent]:
    """The session's events, newest first."""
    result = await db.scalars(
        select(AuditEvent)
        .where(col(AuditEvent.session_id) == session_id)
        .order_by(col(AuditEvent.id).desc())
        .limit(limit)
    )
    return list(result)
