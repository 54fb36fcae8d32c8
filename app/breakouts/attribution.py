"""Where each contribution to a round's group question was given (ETHICS 10): the group its author was in
at that moment, frozen in `breakout_attribution`, so that per-group results never change when someone is
moved afterwards (two reads around a move would differ by exactly that person's answer).

The answer writer calls `attribute` in the transaction that stores a batch (app/polls/storing.py). It
imports nothing of polls, so polls may call it without a cycle."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.breakouts.models import BreakoutAttribution, BreakoutMember, BreakoutRound
from app.db import insert_for, table_of


async def attribute(db: AsyncSession, made: Iterable[tuple[str, str]]) -> None:
    """Record where each (question, participant) just contributed: for a question that is a round's group
    question, that round and the participant's group in it now, or none when the participant is in no
    group (declined, not yet chosen, moved to the main room, not a member) or the round is closed (given
    in the main room after it). Questions no round asked get nothing. A later contribution replaces the
    place of an earlier one: a participant's contributions to a question count where they made the last.

    One indexed read of the rounds a batch; the members and one upsert only when a round asked one of its
    questions."""
    pairs = set(made)
    if not pairs:
        return
    rows = await db.execute(
        select(
            col(BreakoutRound.id),
            col(BreakoutRound.question_id),
            col(BreakoutRound.closed_at),
            col(BreakoutRound.number),
        ).where(col(BreakoutRound.question_id).in_({q for q, _ in pairs}))
    )
    # One round a question (start_round refuses a second); for older data, the open one, else the latest.
    rounds: dict[str, Any] = {}
    for row in rows:
        kept = rounds.get(row.question_id)
        if kept is None or (
            kept.closed_at is not None and (row.closed_at is None or row.number > kept.number)
        ):
            rounds[row.question_id] = row
    if not rounds:
        return
    wanted = [(q, p) for q, p in pairs if q in rounds]
    open_ids = {r.id for r in rounds.values() if r.closed_at is None}
    groups: dict[tuple[str, str], str | None] = {}
    if open_ids:
        groups = {
            (m.round_id, m.participant_id): m.group_id
            for m in await db.execute(
                select(
                    col(BreakoutMember.round_id),
                    col(BreakoutMember.participant_id),
                    col(BreakoutMember.group_id),
                ).where(
                    col(BreakoutMember.round_id).in_(open_ids),
                    col(BreakoutMember.participant_id).in_({p for _, p in wanted}),
                )
            )
        }
    upsert = insert_for(db, table_of(BreakoutAttribution))
    await db.execute(
        upsert.on_conflict_do_update(
            index_elements=["question_id", "participant_id"],
            set_={"round_id": upsert.excluded.round_id, "group_id": upsert.excluded.group_id},
        ),
        [
            {
                "question_id": q,
                "participant_id": p,
                "round_id": rounds[q].id,
                "group_id": groups.get((rounds[q].id, p)),
            }
            for q, p in sorted(wanted)
        ],
    )
