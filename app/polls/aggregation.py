"""The SQL behind results: counts come from GROUP BY, never from counters kept in Python."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.polls.models import Answer, AnswerItem, AnswerReceipt


@dataclass(frozen=True, slots=True)
class Tally:
    """Exact counts of a question's answers now."""

    n: int
    declined: int
    item_counts: dict[str, int]


async def tally(db: AsyncSession, *, question_id: str) -> Tally:
    """Who answered, who declined, and how often each item (option) was chosen."""
    rows = await db.execute(
        select(col(Answer.declined), func.count())
        .where(col(Answer.question_id) == question_id)
        .group_by(col(Answer.declined))
    )
    by_declined = {bool(declined): count for declined, count in rows.all()}
    items = await db.execute(
        select(col(AnswerItem.item), func.count())
        .where(col(AnswerItem.question_id) == question_id)
        .group_by(col(AnswerItem.item))
    )
    return Tally(
        n=by_declined.get(False, 0),
        declined=by_declined.get(True, 0),
        item_counts={item: count for item, count in items.all()},
    )


@dataclass(frozen=True, slots=True)
class Changes:
    """How many different participants answered since a receipt, and the newest receipt."""

    participants: int
    last_receipt_id: int


async def changes_since(db: AsyncSession, *, question_id: str, receipt_id: int) -> Changes:
    row = (
        await db.execute(
            select(
                func.count(func.distinct(col(AnswerReceipt.participant_id))), func.max(col(AnswerReceipt.id))
            ).where(col(AnswerReceipt.question_id) == question_id, col(AnswerReceipt.id) > receipt_id)
        )
    ).one()
    return Changes(participants=row[0] or 0, last_receipt_id=row[1] or receipt_id)


async def last_receipt_id(db: AsyncSession, *, question_id: str) -> int:
    value = await db.scalar(
        select(func.max(col(AnswerReceipt.id))).where(col(AnswerReceipt.question_id) == question_id)
    )
    return value or 0
