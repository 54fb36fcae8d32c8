"""Joins with group commit: participants of a join burst are inserted a batch per transaction."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select

from app.auth.security import hash_participant_token
from app.batching import QUEUE_MAX, GroupCommit, Refusal
from app.breakouts.models import BreakoutRound
from app.db import Database, new_id, table_of, utcnow
from app.errors import AppError
from app.sessions.models import LiveSession, Participant
from app.sessions.service import open_session_by_code


@dataclass(frozen=True, slots=True)
class OpenSession:
    """What a join needs to know of a session."""

    id: str
    title: str
    consent_text: str | None
    consent_version: str | None


class OpenSessionsByCode:
    """Join codes looked up at most once every few seconds each: in a join burst thousands of phones
    send the same code. Safe to serve stale, because the JoinWriter checks in its own transaction that
    the session is still open; a changed information sheet shows up within `ttl` seconds (and a stale
    version is refused at consent, so the phone reloads the sheet)."""

    def __init__(self, database: Database, *, ttl: float = 2.0) -> None:
        self._database = database
        self._ttl = ttl
        self._cache: dict[str, tuple[float, OpenSession | None]] = {}

    def forget(self, code: str) -> None:
        """Drop a code whose session just changed (this process sees the change at once)."""
        self._cache.pop(code, None)

    async def get(self, code: str) -> OpenSession | None:
        now = time.monotonic()
        hit = self._cache.get(code)
        if hit is not None and hit[0] > now:
            return hit[1]
        async with self._database.read_session() as db:
            live = await open_session_by_code(db, code=code)
        found = (
            None
            if live is None
            else OpenSession(live.id, live.title, live.consent_text, live.consent_version)
        )
        if len(self._cache) > 10_000:
            # Only wrong codes could grow it this far, and those are rate-limited: start afresh.
            self._cache.clear()
        self._cache[code] = (now + self._ttl, found)
        return found


@dataclass(frozen=True, slots=True)
class Joined:
    """A new participant: their id and token, and whether their session had a breakout round open when
    they were saved (only then is there a group to put them in at once)."""

    participant_id: str
    token: str
    round_open: bool


@dataclass(slots=True)
class _Join:
    session_id: str
    participant_id: str
    token_hash: str
    withdrawal_code_hash: str | None
    # None: the session closed meanwhile; else whether a breakout round was open.
    done: asyncio.Future[bool | None]


# Built once, on the tables (Core, not the ORM): every batch of a join burst runs these three.
_SESSIONS, _ROUNDS = table_of(LiveSession), table_of(BreakoutRound)
_OPEN_SESSIONS = select(_SESSIONS.c.id).where(
    _SESSIONS.c.id.in_(bindparam("ids", expanding=True)), _SESSIONS.c.closed_at.is_(None)
)
_NEW_PARTICIPANTS = insert(table_of(Participant))
_OPEN_ROUNDS = select(_ROUNDS.c.session_id).where(
    _ROUNDS.c.session_id.in_(bindparam("ids", expanding=True)), _ROUNDS.c.closed_at.is_(None)
)


class JoinWriter(GroupCommit[_Join]):
    name = "join-writer"

    def __init__(self, database: Database, *, batch_max: int, queue_max: int = QUEUE_MAX) -> None:
        super().__init__(batch_max=batch_max, queue_max=queue_max)
        self._database = database

    async def join(self, *, session_id: str, withdrawal_code_hash: str | None = None) -> Joined | None:
        """A new participant of an open session, with a token of 256 random bits of which only the
        SHA-256 is stored, and the hash of their withdrawal code when it comes at join. None when the
        session closed meanwhile."""
        token = secrets.token_urlsafe(32)
        done: asyncio.Future[bool | None] = asyncio.get_running_loop().create_future()
        participant_id = new_id()
        self._put(
            _Join(session_id, participant_id, hash_participant_token(token), withdrawal_code_hash, done)
        )
        round_open = await done
        return None if round_open is None else Joined(participant_id, token, round_open)

    async def _write(self, batch: list[_Join]) -> None:
        now = utcnow()
        async with self._database.session() as db:
            connection = await db.connection()
            # Checked inside the write transaction: a session closed a moment ago takes no one.
            session_ids = sorted({j.session_id for j in batch})
            open_ids = set((await connection.execute(_OPEN_SESSIONS, {"ids": session_ids})).scalars())
            rows = [
                {
                    "id": j.participant_id,
                    "session_id": j.session_id,
                    "token_hash": j.token_hash,
                    "withdrawal_code_hash": j.withdrawal_code_hash,
                    "created_at": now,
                }
                for j in batch
                if j.session_id in open_ids
            ]
            in_rounds: set[str] = set()
            if rows:
                await connection.execute(_NEW_PARTICIPANTS, rows)
                # Read after the insert, in its transaction: a round opened before this commit is seen
                # here; one opened after it places these participants itself. (The socket looks again.)
                in_rounds.update(
                    (await connection.execute(_OPEN_ROUNDS, {"ids": sorted(open_ids)})).scalars()
                )
            await db.commit()
        for j in batch:
            if not j.done.done():
                j.done.set_result(j.session_id in in_rounds if j.session_id in open_ids else None)

    def _refuse(self, item: _Join, why: Refusal) -> None:
        item.done.set_exception(
            AppError(503, why.code, why.message, headers={"Retry-After": str(why.retry_after)})
        )

    def _fail(self, batch: list[_Join]) -> None:
        for j in batch:
            if not j.done.done():
                j.done.set_exception(RuntimeError("the join could not be saved"))
