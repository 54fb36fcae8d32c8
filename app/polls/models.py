"""Question, answer and result tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlmodel import Column, Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow


class Section(SQLModel, table=True):
    """An ordered, titled part of a session; its questions follow one another on the presenter."""

    __tablename__ = "section"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    session_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("live_session.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    position: int = Field(default=0)
    title: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # "presenter": the facilitator runs its questions one at a time (the default); "audience": it opens
    # as a survey that each participant moves through at their own speed.
    pace: str = Field(
        default="presenter",
        sa_column=Column(String(12), nullable=False, server_default="presenter"),
    )
    # An audience-paced section runs from started_at until finished_at.
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))

    @property
    def running(self) -> bool:
        return self.started_at is not None and self.finished_at is None


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
    # Participants may comment on the question (any kind).
    comments: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    # The presenter shows the question's comments under its result.
    show_comments: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    # The question's free text (open entries, Q&A questions, comments) waits for approval.
    moderated: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    opened_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # The section it belongs to (issue 8), or none.
    section_id: str | None = Field(
        default=None,
        sa_column=Column(
            String(32), ForeignKey("section.id", ondelete="SET NULL"), nullable=True, index=True
        ),
    )
    # A countdown: the question closes by itself at this time (app/polls/countdown.py).
    closes_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))

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


class AnswerWord(SQLModel, table=True):
    """The words of a word-cloud answer: one row per normalised word (`word`, the counting key) with
    the spelling the participant typed (`text`), so that a cloud is one GROUP BY and shows each word in
    its most common spelling. The key holds each participant once per word (ETHICS 10 counts people)."""

    __tablename__ = "answer_word"
    __table_args__ = (
        ForeignKeyConstraint(
            ["question_id", "participant_id"],
            ["answer.question_id", "answer.participant_id"],
            ondelete="CASCADE",
        ),
    )

    question_id: str = Field(sa_column=Column(String(32), primary_key=True))
    participant_id: str = Field(sa_column=Column(String(32), primary_key=True))
    # 160: 40 characters typed, after NFKC and case folding (which can lengthen some characters).
    word: str = Field(sa_column=Column(String(160), primary_key=True))
    text: str = Field(sa_column=Column(String(160), nullable=False))


class Entry(SQLModel, table=True):
    """Free text that accumulates: an `open` entry, a `qa` question, or a comment on any question."""

    __tablename__ = "entry"
    __table_args__ = (Index("ix_entry_question_id_created_at", "question_id", "created_at"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    question_id: str = Field(
        sa_column=Column(String(32), ForeignKey("question.id", ondelete="CASCADE"), nullable=False)
    )
    participant_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("participant.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    comment: bool = Field(default=False)
    text: str = Field(sa_column=Column(String(500), nullable=False))
    status: str = Field(max_length=10)
    flagged: bool = Field(default=False)
    highlighted: bool = Field(default=False)
    answered: bool = Field(default=False)
    # A facilitator approved it (or hid it, ...): it shows at once, not at the next step of the k rule.
    reviewed: bool = Field(default=False)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class EntryVote(SQLModel, table=True):
    """A participant's upvote of a Q&A question: once each (the key)."""

    __tablename__ = "entry_vote"

    entry_id: str = Field(
        sa_column=Column(String(32), ForeignKey("entry.id", ondelete="CASCADE"), primary_key=True)
    )
    participant_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    # The entry's question, so a question's votes are one GROUP BY without a join.
    question_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("question.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )


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
