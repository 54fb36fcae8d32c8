"""How the answer writer stores a batch's accepted contributions, in a fixed handful of statements:
answers that changed (upsert, their items and words replaced), new entries, new votes, one
`result_change` row per participant whose stored contribution to a question changed, and, for a
breakout round's group question, the group each contribution was given in (app/breakouts/attribution.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.breakouts import attribution
from app.db import insert_for, new_id, table_of, utcnow
from app.polls import entries
from app.polls.kinds import Accepted
from app.polls.models import Answer, AnswerItem, AnswerWord, Entry, EntryVote, Question, ResultChange
from app.polls.schemas import EntryPublic


@dataclass(frozen=True, slots=True)
class Status:
    name: str
    flagged: bool


@dataclass(frozen=True, slots=True)
class NewEntry:
    text: str
    comment: bool
    status: Status
    # Made before it is stored, so the writer's ack can name it: the phone then knows its own entries.
    id: str = field(default_factory=new_id)


# "Prefer not to answer": an answer row with no value.
DECLINED = Accepted(value={})


@dataclass(slots=True)
class Contribution:
    """One accepted message: exactly one of an answer (DECLINED for "prefer not to answer"), a new
    entry (open, qa, comment) or a vote (the entry id)."""

    participant_id: str
    client_id: str
    question_id: str
    session_id: str
    answer: Accepted | None = None
    entry: NewEntry | None = None
    vote: str | None = None

    @property
    def declined(self) -> bool:
        return self.answer is DECLINED

    @property
    def value(self) -> dict[str, Any] | None:
        return None if self.answer is None or self.answer is DECLINED else self.answer.value


@dataclass(frozen=True, slots=True)
class NewEntryEvent:
    session_id: str
    question_id: str
    entry: EntryPublic


@dataclass(frozen=True, slots=True)
class Written:
    """What a batch changed: the questions to recompute, and the entries to announce to consoles."""

    questions: set[str] = field(default_factory=set)
    entries: list[NewEntryEvent] = field(default_factory=list)


NOTHING = Written()


async def store(db: AsyncSession, accepted: list[Contribution], *, questions: dict[str, Question]) -> Written:
    """Store a batch's new contributions; return what changed."""
    changes = await _store_answers(db, [c for c in accepted if c.answer is not None])
    new_entries = await _store_entries(db, [c for c in accepted if c.entry is not None], questions)
    votes = [c for c in accepted if c.vote is not None]
    if votes:
        await db.execute(
            insert_for(db, table_of(EntryVote)).on_conflict_do_nothing(
                index_elements=["entry_id", "participant_id"]
            ),
            [
                {"entry_id": c.vote, "participant_id": c.participant_id, "question_id": c.question_id}
                for c in votes
            ],
        )
    changes += [(c.question_id, c.participant_id) for c in accepted if c.entry is not None or c.vote]
    if changes:
        await db.execute(insert(ResultChange), [{"question_id": q, "participant_id": p} for q, p in changes])
    # Every accepted contribution, a resend of the same answer too: it was given where its author is now
    # (the question is open, and per-group results are read only once it is closed for good).
    await attribution.attribute(db, ((c.question_id, c.participant_id) for c in accepted))
    return Written(questions={q for q, _ in changes}, entries=new_entries)


async def _store_answers(db: AsyncSession, answers: list[Contribution]) -> list[tuple[str, str]]:
    """Upsert the answers whose stored value changes; return their (question, participant) pairs."""
    if not answers:
        return []
    now = utcnow()
    # A later answer from the same phone to the same question in this batch replaces the earlier.
    latest: dict[tuple[str, str], Contribution] = {}
    for c in answers:
        latest[(c.question_id, c.participant_id)] = c
    stored = await _stored_answers(db, latest)
    changed = {
        key: c for key, c in latest.items() if key not in stored or stored[key] != (c.declined, c.value)
    }
    if not changed:
        return []
    upsert = insert_for(db, table_of(Answer))
    await db.execute(
        upsert.on_conflict_do_update(
            index_elements=["question_id", "participant_id"],
            set_={
                "value": upsert.excluded.value,
                "declined": upsert.excluded.declined,
                "updated_at": upsert.excluded.updated_at,
            },
        ),
        [
            {
                "question_id": q,
                "participant_id": p,
                "value": c.value,
                "declined": c.declined,
                "created_at": now,
                "updated_at": now,
            }
            for (q, p), c in changed.items()
        ],
    )
    by_question: dict[str, list[str]] = {}
    for q, p in changed:
        by_question.setdefault(q, []).append(p)
    for question_id, participants in by_question.items():
        # One question at a time, so each delete searches the primary key instead of scanning.
        for table in (AnswerItem, AnswerWord):
            await db.execute(
                delete(table).where(
                    col(table.question_id) == question_id, col(table.participant_id).in_(participants)
                )
            )
    items = [
        {"question_id": q, "participant_id": p, "item": item, "value": value}
        for (q, p), c in changed.items()
        if c.answer is not None
        for item, value in c.answer.items
    ]
    if items:
        await db.execute(insert(AnswerItem), items)
    word_rows = [
        {"question_id": q, "participant_id": p, "word": key, "text": text}
        for (q, p), c in changed.items()
        if c.answer is not None
        for key, text in c.answer.words
    ]
    if word_rows:
        await db.execute(insert(AnswerWord), word_rows)
    return list(changed)


async def _stored_answers(
    db: AsyncSession, wanted: dict[tuple[str, str], Any]
) -> dict[tuple[str, str], tuple[bool, Any]]:
    """(declined, value) of the answers stored now for these (question, participant) pairs: one query
    on the primary key's prefix and the participant index (a row-value IN would scan the table)."""
    rows = await db.execute(
        select(
            col(Answer.question_id), col(Answer.participant_id), col(Answer.declined), col(Answer.value)
        ).where(
            col(Answer.question_id).in_({q for q, _ in wanted}),
            col(Answer.participant_id).in_({p for _, p in wanted}),
        )
    )
    return {(row[0], row[1]): (bool(row[2]), row[3]) for row in rows if (row[0], row[1]) in wanted}


async def _store_entries(
    db: AsyncSession, contributions: list[Contribution], questions: dict[str, Question]
) -> list[NewEntryEvent]:
    if not contributions:
        return []
    now = utcnow()
    rows: list[Entry] = []
    events: list[NewEntryEvent] = []
    for i, c in enumerate(contributions):
        assert c.entry is not None
        # A microsecond apart, so "newest first" keeps the order the batch received them in.
        entry = Entry(
            id=c.entry.id,
            question_id=c.question_id,
            participant_id=c.participant_id,
            comment=c.entry.comment,
            text=c.entry.text,
            status=c.entry.status.name,
            flagged=c.entry.status.flagged,
            created_at=now + timedelta(microseconds=i),
        )
        rows.append(entry)
        qa = questions[c.question_id].kind == "qa"
        events.append(NewEntryEvent(c.session_id, c.question_id, entries.public(entry, qa=qa, votes=None)))
    await db.execute(
        insert(Entry),
        [
            {
                "id": e.id,
                "question_id": e.question_id,
                "participant_id": e.participant_id,
                "comment": e.comment,
                "text": e.text,
                "status": e.status,
                "flagged": e.flagged,
                "highlighted": False,
                "answered": False,
                "reviewed": False,
                "created_at": e.created_at,
            }
            for e in rows
        ],
    )
    return events
