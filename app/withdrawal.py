"""Removing a participant and everything of theirs: declining the sheet, or withdrawing with the code
(ETHICS 4 and 5). It lives above the domains, as the faces do, because it needs them all.

One function, `remove_participant`, that each domain's removal joins: polls says which open and
closed questions the participant contributed to (and counts the removal as one change of theirs to
each open one, ETHICS 9), every registered remover deletes what its domain holds of them, the
participant row goes (its foreign keys cascade to answers, entries, votes and receipts), and the
closed questions' exact results are computed again. A domain added later (breakout notes, private
messages) registers its remover with `joins_removal`, or gives its rows a foreign key to
`participant.id` with ON DELETE CASCADE, and is then covered by declining, withdrawal and purge."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.polls import service as polls_service
from app.sessions.models import Participant, WithdrawnCode
from app.snapshots import queue_results

Remover = Callable[[AsyncSession, str], Awaitable[None]]
_REMOVERS: list[Remover] = []


def joins_removal(remover: Remover) -> Remover:
    """Register a domain's removal of one participant's rows (called with the participant's id, inside
    the transaction, before the participant row is deleted)."""
    _REMOVERS.append(remover)
    return remover


async def remove_participant(db: AsyncSession, *, participant: Participant) -> polls_service.Removal:
    """Remove the participant and everything they gave from results, screens and later exports. Open
    questions count the removal as one change towards their next step (never a move by itself);
    closed ones get their exact result again at once. Call inside the request's transaction."""
    removal = await polls_service.participant_leaving(db, participant_id=participant.id)
    for remover in _REMOVERS:
        await remover(db, participant.id)
    if participant.withdrawal_code_hash is not None:
        # The used code stays known (as a hash only), so using it twice says "withdrawn", not "unknown".
        await db.execute(
            insert(WithdrawnCode).values(
                code_hash=participant.withdrawal_code_hash, session_id=participant.session_id
            )
        )
    await db.execute(delete(Participant).where(col(Participant.id) == participant.id))
    await polls_service.participant_left(db, removal=removal)
    for question in removal.closed:
        queue_results(db, question.id)
    for question in removal.open:
        queue_results(db, question.id, force=False)
    return removal
