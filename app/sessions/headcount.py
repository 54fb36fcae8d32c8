"""How many people joined a session and how many agreed to its information sheet: counted apart, so
the facilitator sees phones that are still reading the sheet (they joined, they have not agreed yet)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.sessions.models import LiveSession, Participant


@dataclass(frozen=True, slots=True)
class Headcount:
    joined: int
    agreed: int


async def headcount(db: AsyncSession, *, live: LiveSession) -> Headcount:
    """Participants who joined (reading the sheet or past it), and those who may answer: agreed to the
    sheet, or every one when the session has no sheet. Who declined is deleted, so in neither."""
    rows = await db.execute(
        select(col(Participant.consented_at).is_not(None), func.count())
        .where(col(Participant.session_id) == live.id)
        .group_by(col(Participant.consented_at).is_not(None))
    )
    by_agreed = {bool(agreed): count for agreed, count in rows.all()}
    joined = sum(by_agreed.values())
    agreed = joined if live.consent_version is None else by_agreed.get(True, 0)
    return Headcount(joined=joined, agreed=agreed)


def presence_message(participants: int, counted: Headcount | None) -> dict[str, int]:
    """The `presence` data: open phone sockets (`participants`, as the contract says), then who joined
    and who agreed."""
    data = {"participants": participants}
    if counted is not None:
        data |= {"joined": counted.joined, "agreed": counted.agreed}
    return data
