"""The SQL behind results: counts come from GROUP BY, never from counters kept in Python."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, select, true, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.polls.models import Answer, AnswerItem, AnswerWord, Entry, EntryVote, ResultChange

# While set, every count below covers only these participants (a breakout group's results).
_ONLY: ContextVar[frozenset[str] | None] = ContextVar("aggregation_only", default=None)


@contextmanager
def only_participants(ids: frozenset[str]) -> Iterator[None]:
    """Count only these participants' answers inside the block (a breakout group's results): every
    kind's count goes through this module, so every kind is scoped the same way."""
    token = _ONLY.set(ids)
    try:
        yield
    finally:
        _ONLY.reset(token)


def _scoped(column: Any) -> Any:
    """The WHERE clause that keeps the scope's participants (true when no scope is set)."""
    only = _ONLY.get()
    return column.in_(only) if only is not None else true()


@dataclass(frozen=True, slots=True)
class Answered:
    """Participants with an answer counted (`n`) and those who preferred not to answer."""

    n: int
    declined: int


async def answered(db: AsyncSession, *, question_id: str) -> Answered:
    rows = await db.execute(
        select(col(Answer.declined), func.count())
        .where(col(Answer.question_id) == question_id, _scoped(col(Answer.participant_id)))
        .group_by(col(Answer.declined))
    )
    by_declined = {bool(declined): count for declined, count in rows.all()}
    return Answered(n=by_declined.get(False, 0), declined=by_declined.get(True, 0))


async def item_counts(db: AsyncSession, *, question_id: str) -> dict[str, int]:
    """How many answers hold each item (a chosen option), whatever its value."""
    rows = await db.execute(
        select(col(AnswerItem.item), func.count())
        .where(col(AnswerItem.question_id) == question_id, _scoped(col(AnswerItem.participant_id)))
        .group_by(col(AnswerItem.item))
    )
    return {item: count for item, count in rows.all()}


async def item_histogram(db: AsyncSession, *, question_id: str) -> dict[str, dict[int | None, int]]:
    """How many answers give each item each value: (statement, rating) for scales, (option, rank) for
    rankings. A null value is "prefer not to answer" for that item."""
    rows = await db.execute(
        select(col(AnswerItem.item), col(AnswerItem.value), func.count())
        .where(col(AnswerItem.question_id) == question_id, _scoped(col(AnswerItem.participant_id)))
        .group_by(col(AnswerItem.item), col(AnswerItem.value))
    )
    histogram: dict[str, dict[int | None, int]] = {}
    for item, value, count in rows.all():
        histogram.setdefault(item, {})[value] = count
    return histogram


async def word_counts(db: AsyncSession, *, question_id: str, at_least: int) -> list[tuple[str, str, int]]:
    """(word, most common spelling, participants) for each word used by at least `at_least`
    participants, most used first: two GROUP BYs, the spellings only of the words kept."""
    per_word = (
        select(col(AnswerWord.word), func.count().label("n"))
        .where(col(AnswerWord.question_id) == question_id, _scoped(col(AnswerWord.participant_id)))
        .group_by(col(AnswerWord.word))
        .having(func.count() >= at_least)
    ).subquery()
    counts = {word: n for word, n in (await db.execute(select(per_word.c.word, per_word.c.n))).all()}
    if not counts:
        return []
    spellings = await db.execute(
        select(col(AnswerWord.word), col(AnswerWord.text), func.count())
        .where(
            col(AnswerWord.question_id) == question_id,
            _scoped(col(AnswerWord.participant_id)),
            col(AnswerWord.word).in_(select(per_word.c.word)),
        )
        .group_by(col(AnswerWord.word), col(AnswerWord.text))
    )
    # The spelling most participants used; ties go to the one first in alphabetical order.
    best: dict[str, str] = {}
    for word, text, _n in sorted(spellings.all(), key=lambda row: (-row[2], row[1])):
        best.setdefault(word, text)
    rows = [(word, best[word], n) for word, n in counts.items()]
    rows.sort(key=lambda row: (-row[2], row[1].casefold(), row[1]))
    return rows


async def entries_of(db: AsyncSession, *, question_id: str, comment: bool) -> list[dict[str, Any]]:
    """Every entry (or comment) of a question, in every status, newest first."""
    rows = await db.execute(
        select(
            col(Entry.id),
            col(Entry.text),
            col(Entry.status),
            col(Entry.highlighted),
            col(Entry.answered),
        )
        .where(
            col(Entry.question_id) == question_id,
            col(Entry.comment).is_(comment),
            _scoped(col(Entry.participant_id)),
        )
        .order_by(col(Entry.created_at).desc(), col(Entry.id).desc())
    )
    return [
        {"id": r.id, "text": r.text, "status": r.status, "highlighted": r.highlighted, "answered": r.answered}
        for r in rows
    ]


async def entry_authors(db: AsyncSession, *, question_id: str, comment: bool) -> int:
    """How many participants wrote at least one entry (or comment) on a question, in any status."""
    return int(
        await db.scalar(
            select(func.count(func.distinct(col(Entry.participant_id)))).where(
                col(Entry.question_id) == question_id,
                col(Entry.comment).is_(comment),
                _scoped(col(Entry.participant_id)),
            )
        )
        or 0
    )


async def authors_or_voters(db: AsyncSession, *, question_id: str) -> int:
    """How many participants asked or upvoted at least one question of a Q&A (UNION drops repeats)."""
    both = union(
        select(col(Entry.participant_id)).where(
            col(Entry.question_id) == question_id,
            col(Entry.comment).is_(False),
            _scoped(col(Entry.participant_id)),
        ),
        select(col(EntryVote.participant_id)).where(
            col(EntryVote.question_id) == question_id, _scoped(col(EntryVote.participant_id))
        ),
    ).subquery()
    return int(await db.scalar(select(func.count()).select_from(both)) or 0)


async def votes(db: AsyncSession, *, question_id: str) -> dict[str, int]:
    """Upvotes per entry of a Q&A question (GROUP BY entry)."""
    rows = await db.execute(
        select(col(EntryVote.entry_id), func.count())
        .where(col(EntryVote.question_id) == question_id, _scoped(col(EntryVote.participant_id)))
        .group_by(col(EntryVote.entry_id))
    )
    return {entry_id: count for entry_id, count in rows.all()}


async def declined_without_entries(db: AsyncSession, *, question_id: str) -> int:
    """Participants who chose "prefer not to answer" on an open or Q&A question and wrote nothing."""
    wrote = exists().where(
        and_(
            col(Entry.question_id) == col(Answer.question_id),
            col(Entry.participant_id) == col(Answer.participant_id),
            col(Entry.comment).is_(False),
        )
    )
    return int(
        await db.scalar(
            select(func.count()).where(
                col(Answer.question_id) == question_id,
                col(Answer.declined).is_(True),
                _scoped(col(Answer.participant_id)),
                ~wrote,
            )
        )
        or 0
    )


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


def respondents(question_id: str, *, comments: bool = False) -> Any:
    """The participants who responded to a question (an answer, an entry or a vote, or "prefer not to
    answer"; with `comments`, a comment too), each once: a subquery with the column `participant_id`."""
    entries = select(col(Entry.participant_id)).where(col(Entry.question_id) == question_id)
    return union(
        select(col(Answer.participant_id)).where(col(Answer.question_id) == question_id),
        entries if comments else entries.where(col(Entry.comment).is_(False)),
        select(col(EntryVote.participant_id)).where(col(EntryVote.question_id) == question_id),
    ).subquery()


async def responses(db: AsyncSession, *, question_id: str) -> int:
    """How many participants responded to a question: an answer, an entry or a vote, or "prefer not to
    answer", all together, so the count never tells one from the other. Not a result (CONTRACT): it tells
    who took part, never what they chose, and may move one by one."""
    return int(await db.scalar(select(func.count()).select_from(respondents(question_id))) or 0)
