"""Breakout rounds, their groups and members, where each answer to a round's question was given, the
groups' notes and +1s, private messages, and what the presenters show for report-back.

Every row a participant made (membership, attribution, note, +1, private message) has a foreign key to
`participant.id` with ON DELETE CASCADE, so declining the sheet, withdrawing and purging remove them
with the participant (app/withdrawal.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlmodel import Column, Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow


class BreakoutRound(SQLModel, table=True):
    """One split of the room: a mode, a prompt, an optional question, a timer; open until closed."""

    __tablename__ = "breakout_round"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    session_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("live_session.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    number: int = Field(default=1)
    mode: str = Field(max_length=10)
    prompt: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # The group question: any question of the session; no foreign key, so deleting it leaves the round.
    # A question is the group question of one round at most (app/breakouts/service.py:start_round).
    question_id: str | None = Field(default=None, max_length=32, index=True)
    # Self-select: at most this many members a group (None: no cap).
    cap: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    auto_close: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    ends_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))

    @property
    def open(self) -> bool:
        return self.closed_at is None


class BreakoutGroup(SQLModel, table=True):
    __tablename__ = "breakout_group"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    round_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("breakout_round.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    position: int = Field(default=0)
    name: str = Field(max_length=60)
    link: str | None = Field(default=None, max_length=500)


class BreakoutMember(SQLModel, table=True):
    """A participant's place in a round: a group, or none (declined, ETHICS 6; or not yet chosen in a
    self-select round). `tile` is the anonymous handle the console shows for moves."""

    __tablename__ = "breakout_member"
    __table_args__ = (UniqueConstraint("round_id", "tile"),)

    round_id: str = Field(
        sa_column=Column(String(32), ForeignKey("breakout_round.id", ondelete="CASCADE"), primary_key=True)
    )
    participant_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    group_id: str | None = Field(
        default=None,
        sa_column=Column(
            String(32), ForeignKey("breakout_group.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    declined: bool = Field(default=False)
    tile: str = Field(max_length=8)


class BreakoutAttribution(SQLModel, table=True):
    """Where a participant's contribution to a round's group question was given: the group they were in
    at that moment, or none (the main room: declined, not yet chosen, moved out, or the round closed).
    Written by the answer writer in the transaction that stores the answer, entry or vote
    (app/breakouts/attribution.py), and never changed by a move, so a group's result cannot change
    between two reads by one person's answer (ETHICS 10). One row a question and participant: their
    latest contribution's place. A contribution with no row (given before the round) is the main room's.
    """

    __tablename__ = "breakout_attribution"

    question_id: str = Field(
        sa_column=Column(String(32), ForeignKey("question.id", ondelete="CASCADE"), primary_key=True)
    )
    participant_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    round_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("breakout_round.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    group_id: str | None = Field(
        default=None,
        sa_column=Column(
            String(32), ForeignKey("breakout_group.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )


class BreakoutNote(SQLModel, table=True):
    """A short anonymous note on a group's board."""

    __tablename__ = "breakout_note"
    __table_args__ = (
        UniqueConstraint("participant_id", "client_id"),
        Index("ix_breakout_note_group_id_created_at", "group_id", "created_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    round_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("breakout_round.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    group_id: str = Field(
        sa_column=Column(String(32), ForeignKey("breakout_group.id", ondelete="CASCADE"), nullable=False)
    )
    participant_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("participant.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    client_id: str = Field(max_length=100)
    text: str = Field(sa_column=Column(String(280), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class NotePlus(SQLModel, table=True):
    """A +1 on a note: once per participant and note (the key)."""

    __tablename__ = "note_plus"

    note_id: str = Field(
        sa_column=Column(String(32), ForeignKey("breakout_note.id", ondelete="CASCADE"), primary_key=True)
    )
    participant_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("participant.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )
    client_id: str = Field(max_length=100)


class PrivateMessage(SQLModel, table=True):
    """A message to the session's facilitators and researchers only (ETHICS 7): never on a presenter."""

    __tablename__ = "private_message"
    __table_args__ = (UniqueConstraint("participant_id", "client_id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    session_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("live_session.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    participant_id: str = Field(
        sa_column=Column(
            String(32), ForeignKey("participant.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    client_id: str = Field(max_length=100)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ReportBack(SQLModel, table=True):
    """What a session's presenters show for report-back: the last `PUT …/report` request, ids only
    (`{"show": "board", "round_id", "group_id"}`, `{"show": "notes", "note_ids"}`, ...). A withdrawal
    reads it to show the board or notes again without what the participant wrote or +1'd."""

    __tablename__ = "report_back"

    session_id: str = Field(
        sa_column=Column(String(32), ForeignKey("live_session.id", ondelete="CASCADE"), primary_key=True)
    )
    request: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
