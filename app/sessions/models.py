"""Live session and participant tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlmodel import Column, Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow


class LiveSession(SQLModel, table=True):
    """One live event that participants join with a code."""

    __tablename__ = "live_session"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    owner_id: str = Field(sa_column=Column(String(32), ForeignKey("account.id"), nullable=False, index=True))
    title: str = Field(max_length=200)
    code: str = Field(unique=True, max_length=8)
    min_group: int = Field(default=5)
    consent_text: str | None = Field(default=None)
    # A hash of consent_text: a participant's consent names the exact sheet they read.
    consent_version: str | None = Field(default=None, max_length=64)
    # The language word-cloud entries are read in (lemmatised, stopwords dropped).
    language: str = Field(default="en", sa_column=Column(String(8), nullable=False, server_default="en"))
    # No foreign key: sessions know nothing of questions (polls depends on sessions, not the reverse).
    current_question_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


class Participant(SQLModel, table=True):
    """An anonymous person in one session, known only by the SHA-256 of their token."""

    __tablename__ = "participant"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    session_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("live_session.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    token_hash: str = Field(unique=True, max_length=64)
    consent_version: str | None = Field(default=None, max_length=64)
    consented_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
