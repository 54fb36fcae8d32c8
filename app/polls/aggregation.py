"""The SQL behind results: counts come from GROUP BY, never from counters kept in Python."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.polls.models import Answer, AnswerItem, ResultChange


@dataclass(frozen=True, slots=True)
class Answered:
    """Participants with an answer counted (`n`) and those who preferred not to answer."""

    n: int
    declined: int


async def answered(db: AsyncSession, *, question_id: str) -> Answered:
    rows = await db.execute(
        select(col(Answer.declined), func.count())
        .where(col(Answer.question_id) == question_id)
        .group_by(col(Answer.declined))
    )
    by_declined = {bool(declined): count for declined, count in rows.all()}
    return Answered(n=by_declined.get(False, 0), declined=by_declined.get(True, 0))


async def item_counts(db: AsyncSession, *, question_id: str) -> dict[str, int]:
    """How many answers hold each item (a chosen option), whatever its value."""
    rows = await db.execute(
        select(col(AnswerItem.item), func.count())
        .where(col(AnswerItem.question_id) == question_id)
        .group_by(col(AnswerItem.item))
    )
    return {item: count for item, count in rows.all()}


async def item_histogram(db: AsyncSession, *, question_id: str) -> dict[str, dict[int | None, int]]:
    """How many answers give each item each value: (statement, rating) for scales, (option, rank) for
    rankings. A null value is "prefer not to answer" for that item."""
    rows = await db.execute(
        select(col(AnswerItem.item), col(AnswerItem.value), func.count())
        .where(col(AnswerItem.question_id) == question_id)
        .group_by(col(AnswerItem.item), col(AnswerItem.value))
    )
    histogram: dict[str, dict[int | None, int]] = {}
    for item, value, count in rows.all():
        histogram.setdefault(item, {})[value] = count
    return histogram


@dataclass(frozen=True, slots=True)
class Changes:
    """How many different participants changed their contribution since a change, and the newest."""

    participants: int
    last_change_id: int


async def changes_since(db: AsyncSession, *, question_id: str, since: int) -> Changes:
    row = (
        await db.execute(
            select(
                func.count(func.distinct(col(ResultChange.participant_id))), func.max(col(ResultChange.id))
            ).where(col(ResultChange.question_id) == question_id, col(ResultChange.id) > since)
        )
    ).one()
    return Changes(participants=row[0] or 0, last_change_id=row[1] or since)


async def last_change_id(db: AsyncSession, *, question_id: str) -> int:
    value = await db.scalar(
        select(func.max(col(ResultChange.id))).where(col(ResultChange.question_id) == question_id)
    )
    return value or 0
