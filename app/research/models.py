"""The audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlmodel import Column, Field, SQLModel

from app.db import UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    """An account action that changed what is collected or shown (ETHICS 16), with who and when. No
    content (no answer, entry text or code), and no foreign keys: the log outlives a deleted session,
    and a withdrawal is recorded without any participant."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_session_id_id", "session_id", "id"),)

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    )
    session_id: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    # The account that acted; null for a participant's withdrawal and for the command line.
    account_id: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    # Who, as a person reads it: the account's e-mail at the time, "participant" or "command line".
    actor: str = Field(sa_column=Column(String(320), nullable=False))
    action: str = Field(sa_column=Column(String(40), nullable=False))
    # Ids and counts only, e.g. {"question_id": ...} or {"deleted": {"answer": 12}}.
    detail: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
