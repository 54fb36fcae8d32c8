"""Joins with group commit: participants of a join burst are inserted a batch per transaction."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlmodel import col

from app.auth.security import hash_participant_token
from app.batching import GroupCommit
from app.db import Database, new_id, utcnow
from app.sessions.models import LiveSession, Participant


@dataclass(slots=True)
class _Join:
    session_id: str
    participant_id: str
    token_hash: str
    done: asyncio.Future[bool]


class JoinWriter(GroupCommit[_Join]):
    name = "join-writer"

    def __init__(self, database: Database, *, batch_max: int) -> None:
        super().__init__(batch_max=batch_max)
        self._database = database

    async def join(self, *, session_id: str) -> tuple[str, str] | None:
        """A new participant of an open session: (participant id, token), the token 256 random bits of
        which only the SHA-256 is stored. None when the session closed meanwhile."""
        token = secrets.token_urlsafe(32)
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        participant_id = new_id()
        self._put(_Join(session_id, participant_id, hash_participant_token(token), done))
        return (participant_id, token) if await done else None

    async def _write(self, batch: list[_Join]) -> None:
        now = utcnow()
        async with self._database.session() as db:
            # Checked inside the write transaction: a session closed a moment ago takes no one.
            open_ids = set(
                await db.scalars(
                    select(col(LiveSession.id)).where(
                        col(LiveSession.id).in_({j.session_id for j in batch}),
                        col(LiveSession.closed_at).is_(None),
                    )
                )
            )
            rows = [
                {
                    "id": j.participant_id,
                    "session_id": j.session_id,
                    "token_hash": j.token_hash,
                    "created_at": now,
                }
                for j in batch
                if j.session_id in open_ids
            ]
            if rows:
                await db.execute(insert(Participant), rows)
            await db.commit()
        for j in batch:
            if not j.done.done():
                j.done.set_result(j.session_id in open_ids)

    def _fail(self, batch: list[_Join]) -> None:
        for j in batch:
            if not j.done.done():
                j.done.set_exception(RuntimeError("the join could not be saved"))
