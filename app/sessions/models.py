"""Live session and participant tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, false
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
    # Days after the session closes (or, left open, after it was created) that `thirdspace purge`
    # deletes its raw answers, entries, notes and messages (ETHICS 15).
    retention_days: int = Field(default=365, sa_column=Column(Integer, nullable=False, server_default="365"))
    # Exports carry minutes since the session's start for each answer: only when asked for before the
    # first answer (ETHICS 12), and never the time of day.
    export_minutes: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    # When purge deleted the raw data (the questions and their final results stay).
    purged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))

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
    # The SHA-256 of the participant's withdrawal code (ETHICS 5); the code itself is shown once.
    withdrawal_code_hash: str | None = Field(
        default=None, sa_column=Column(String(64), nullable=True, unique=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ConsentSheet(SQLModel, table=True):
    """Every version of a session's information sheet, kept: a participant's `consent_version` names
    the text they agreed to, and an edit after people consented makes a new version beside it."""

    __tablename__ = "consent_sheet"

    session_id: str = Field(
        sa_column=Column(String(32), ForeignKey("live_session.id", ondelete="CASCADE"), primary_key=True)
    )
    version: str = Field(sa_column=Column(String(64), primary_key=True))
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class SessionResearcher(SQLModel, table=True):
    """An account the session's facilitator added as a researcher: it sees the session's results and
    exports, and cannot run it."""

    __tablename__ = "session_researcher"

    session_id: str = Field(
        sa_column=Column(String(32), ForeignKey("live_session.id", ondelete="CASCADE"), primary_key=True)
    )
    account_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("account.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class WithdrawnCode(SQLModel, table=True):
    """The hash of a withdrawal code already used, so that using it again says "withdrawn" rather
    than "unknown code". Nothing else: the participant and everything of theirs is gone."""

    __tablename__ = "withdrawn_code"

    code_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    session_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("live_session.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
