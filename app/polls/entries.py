"""Entries (open entries, Q&A questions, comments): what the facilitator's moderation sees and does,
and how the stored result's entries meet the moderation of the moment.

A result stores the entries that existed at its last step (with their status then); reading it takes
each entry's status, highlight and answered mark as they are now (a facilitator's action shows at
once), keeps the stored status of an entry that is gone (its author left: it leaves at the next step,
never by itself), and adds entries written since the step only when a facilitator approved them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.errors import AppError, not_found
from app.polls.models import Entry, Question
from app.polls.schemas import EntryPublic, EntryUpdate

APPROVED = "approved"
PENDING = "pending"


@dataclass(frozen=True, slots=True)
class Live:
    """A question's entries as they are now, by id, newest first."""

    by_id: dict[str, dict[str, Any]]


async def live(db: AsyncSession, *, question_id: str) -> Live:
    rows = await db.execute(
        select(
            col(Entry.id),
            col(Entry.text),
            col(Entry.status),
            col(Entry.comment),
            col(Entry.highlighted),
            col(Entry.answered),
            col(Entry.reviewed),
        )
        .where(col(Entry.question_id) == question_id)
        .order_by(col(Entry.created_at).desc(), col(Entry.id).desc())
    )
    return Live(by_id={row.id: dict(row._mapping) for row in rows})


def visible(stored: list[dict[str, Any]], now: Live, *, comment: bool) -> list[dict[str, Any]]:
    """The approved entries a result shows, newest first: the stored ones under today's moderation,
    then (ahead of them, being newer) those written since the step that a facilitator approved."""
    kept = {entry["id"] for entry in stored}
    shown: list[dict[str, Any]] = []
    for entry in stored:
        current = now.by_id.get(entry["id"])
        merged = {**entry, **_moderation(current)} if current is not None else entry
        if merged["status"] == APPROVED:
            shown.append(merged)
    approved_since = [
        {**current, "votes": 0}
        for entry_id, current in now.by_id.items()
        if entry_id not in kept
        and current["comment"] is comment
        and current["reviewed"]
        and current["status"] == APPROVED
    ]
    return approved_since + shown


def _moderation(current: dict[str, Any]) -> dict[str, Any]:
    return {key: current[key] for key in ("status", "highlighted", "answered")}


def public(entry: Entry, *, qa: bool, votes: int | None) -> EntryPublic:
    """The entry as moderation sees it: no participant, no time."""
    on_qa = qa and not entry.comment
    return EntryPublic(
        id=entry.id,
        text=entry.text,
        status=entry.status,
        comment=entry.comment,
        flagged=entry.flagged,
        votes=votes if on_qa else None,
        highlighted=entry.highlighted if on_qa else None,
        answered=entry.answered if on_qa else None,
    )


async def list_for(db: AsyncSession, *, question: Question) -> list[Entry]:
    """Every entry and comment of a question, in every status, newest first."""
    rows = await db.execute(
        select(Entry)
        .where(col(Entry.question_id) == question.id)
        .order_by(col(Entry.created_at).desc(), col(Entry.id).desc())
    )
    return list(rows.scalars())


async def get(db: AsyncSession, *, question: Question, entry_id: str) -> Entry:
    entry = await db.get(Entry, entry_id)
    if entry is None or entry.question_id != question.id:
        raise not_found("This entry")
    return entry


async def moderate(db: AsyncSession, *, question: Question, entry: Entry, change: EntryUpdate) -> list[Entry]:
    """Apply a facilitator's change; return every entry that changed (highlighting one un-highlights
    the question's other)."""
    on_qa = question.kind == "qa" and not entry.comment
    if (change.highlighted is not None or change.answered is not None) and not on_qa:
        field = "highlighted" if change.highlighted is not None else "answered"
        raise AppError(
            422,
            "invalid",
            "Only questions of a Q&A can be highlighted or marked answered.",
            fields={field: "only for questions of a Q&A (not comments)"},
        )
    if change.status is not None:
        entry.status = change.status
        entry.reviewed = True
    if change.answered is not None:
        entry.answered = change.answered
    changed = [entry]
    if change.highlighted is not None:
        if change.highlighted and entry.status != APPROVED:
            raise AppError(409, "entry_not_visible", "Approve this question before highlighting it.")
        if change.highlighted:
            others = (
                await db.execute(
                    select(Entry).where(
                        col(Entry.question_id) == question.id,
                        col(Entry.highlighted).is_(True),
                        col(Entry.id) != entry.id,
                    )
                )
            ).scalars()
            for other in others:
                other.highlighted = False
                changed.append(other)
        entry.highlighted = change.highlighted
    if entry.highlighted and entry.status != APPROVED:
        # A highlighted question that is hidden or archived is no longer highlighted.
        entry.highlighted = False
    await db.flush()
    return changed
