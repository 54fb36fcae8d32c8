"""Lookups of the faces: a round of a session the account runs, or raise."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.breakouts import service
from app.breakouts.models import BreakoutRound
from app.db import Db
from app.sessions.deps import OwnedSession, ReadableSession


async def _owned_round(round_id: str, db: Db, live: OwnedSession) -> BreakoutRound:
    return await service.get_round(db, live=live, round_id=round_id)


async def _readable_round(round_id: str, db: Db, live: ReadableSession) -> BreakoutRound:
    return await service.get_round(db, live=live, round_id=round_id)


# A round of a session this facilitator runs.
OwnedRound = Annotated[BreakoutRound, Depends(_owned_round)]
# A round of a session this account may read (its facilitator, or a researcher they added).
ReadableRound = Annotated[BreakoutRound, Depends(_readable_round)]
