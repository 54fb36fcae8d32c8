"""Question, answer and result tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlmodel import Column, Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow


class Question(SQLModel, table=True):
    __tablename__ = "question"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    session_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("live_session.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    position: int = Field(default=0)
    kind: str = Field(max_length=20)
    prompt: str = Field(max_length=500)
    # The kind's own fields as the API shows them (for choice: options with ids, multiple).
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    results_visible: bool = Field(default=False)
    opened_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None and self.closed_at is None

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class Answer(SQLModel, table=True):
    """One participant's current answer to one question; the primary key is the one-answer rule."""

    __tablename__ = "answer"

    question_id: str = Field(
        sa_column=Column(String(32), ForeignKey("question.id", ondelete="CASCADE"), primary_key=True)
    )
    participant_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    value: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    declined: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class AnswerItem(SQLModel, table=True):
    """The countable parts of an answer (a chosen option; later a rated statement, a word), so that
    results are one GROUP BY on every dialect."""

    __tablename__ = "answer_item"
    __table_args__ = (
        ForeignKeyConstraint(
            ["question_id", "participant_id"],
            ["answer.question_id", "answer.participant_id"],
            ondelete="CASCADE",
        ),
    )

    question_id: str = Field(sa_column=Column(String(32), primary_key=True))
    participant_id: str = Field(sa_column=Column(String(32), primary_key=True))
    item: str = Field(sa_column=Column(String(100), primary_key=True))
    value: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))


class AnswerReceipt(SQLModel, table=True):
    """Every answer id a participant's phone sent that was committed: a replayed id changes nothing.
    Receipts serve idempotency only; the k step counts `result_change`, since a resend of the same
    value under a new id is no change."""

    __tablename__ = "answer_receipt"
    __table_args__ = (UniqueConstraint("participant_id", "client_id"),)

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    )
    participant_id: str = Field(
        sa_column=Column(String(32), ForeignKey("participant.id", ondelete="CASCADE"), nullable=False)
    )
    client_id: str = Field(max_length=100)
    question_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("question.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ResultChange(SQLModel, table=True):
    """One row each time a participant's stored contribution to a question changed: a new answer, a
    different value, a new entry or vote, a replaced word list, or their removal (declining, later
    withdrawal). The k step counts the distinct participants here since the result last shown, so a
    resend of the same value moves nothing (ETHICS 9). No content, and no foreign key to the participant:
    the rows of one who left must still count towards the next step."""

    __tablename__ = "result_change"
    __table_args__ = (Index("ix_result_change_question_id_id", "question_id", "id"),)

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    )
    question_id: str = Field(
        sa_column=Column(String(32), ForeignKey("question.id", ondelete="CASCADE"), nullable=False)
    )
    participant_id: str = Field(sa_column=Column(String(32), nullable=False, index=True))


class ResultState(SQLModel, table=True):
    """The result last shown for a question, kept in the database so every process steps from it.

    `summary` is the kind's summary *before* k is applied (every statement, every word, with its
    count): each read applies the session's k as it is then, so raising k hides at once what is now
    made of too few answers, on every screen and in the API, open or closed."""

    __tablename__ = "result_state"

    question_id: str = Field(
        sa_column=Column(String(32), ForeignKey("question.id", ondelete="CASCADE"), primary_key=True)
    )
    # The last result_change the stored result covers: changes after it are not yet shown.
    change_id: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    n: int = Field(default=0)
    summary: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    final: bool = Field(default=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
