"""The one writer of answers per process: commits what arrived in one transaction (group commit),
then resolves each answer's outcome. Nothing is acknowledged before it is committed.

A batch is whatever queued while the previous batch committed, up to WRITER_BATCH_MAX. Each batch
costs a fixed handful of statements: read the questions, participants and sessions it names, claim
receipts, read the stored answers it may replace, then upsert the answers that changed, replace their
items, and log one `result_change` per participant whose stored value changed (a resend of the same
value under a new id is no change: the k step must not count it)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.batching import GroupCommit
from app.db import Database, insert_for, table_of, utcnow
from app.polls.kinds import Accepted, AnswerRejected, kind_of
from app.polls.models import Answer, AnswerItem, AnswerReceipt, Question, ResultChange
from app.polls.results import dirty_message
from app.realtime import channels
from app.realtime.hub import Hub
from app.sessions.models import LiveSession, Participant

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    """Acked (committed now, or committed before under the same id), or refused with a code."""

    ok: bool
    code: str = ""
    message: str = ""


ACK = Outcome(ok=True)


def refused(code: str, message: str) -> Outcome:
    return Outcome(ok=False, code=code, message=message)


Reply = Callable[[Outcome], None]


@dataclass(slots=True)
class _Pending:
    session_id: str
    participant_id: str
    client_id: str
    question_id: str
    value: Any
    reply: Reply = field(repr=False)
    replied: bool = False

    def resolve(self, outcome: Outcome) -> None:
        if self.replied:
            return
        self.replied = True
        try:
            self.reply(outcome)
        except Exception:
            # A reply to a socket or waiter that has gone; the answer's fate is already settled.
            log.debug("an answer's reply could not be delivered", exc_info=True)


@dataclass(slots=True)
class _Accepted:
    pending: _Pending
    # None: "prefer not to answer".
    answer: Accepted | None

    @property
    def declined(self) -> bool:
        return self.answer is None

    @property
    def value(self) -> dict[str, Any] | None:
        return None if self.answer is None else self.answer.value


class AnswerWriter(GroupCommit[_Pending]):
    name = "answer-writer"

    def __init__(self, database: Database, hub: Hub, *, batch_max: int) -> None:
        super().__init__(batch_max=batch_max)
        self._database = database
        self._hub = hub

    def submit_nowait(
        self,
        *,
        session_id: str,
        participant_id: str,
        client_id: str,
        question_id: str,
        value: Any,
        reply: Reply,
    ) -> None:
        """Queue an answer; `reply` is called with its outcome once it is committed or refused. No task
        or future per answer: at thousands of answers a second, those are what the collector chases."""
        self._put(_Pending(session_id, participant_id, client_id, question_id, value, reply))

    async def submit(
        self, *, session_id: str, participant_id: str, client_id: str, question_id: str, value: Any
    ) -> Outcome:
        """Queue an answer and wait until it is committed or refused."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self.submit_nowait(
            session_id=session_id,
            participant_id=participant_id,
            client_id=client_id,
            question_id=question_id,
            value=value,
            reply=future.set_result,
        )
        return await future

    def _fail(self, batch: list[_Pending]) -> None:
        failed = refused("server_error", "The answer could not be saved; please send it again.")
        for pending in batch:
            pending.resolve(failed)

    async def _write(self, batch: list[_Pending]) -> None:
        questions = await self._commit(batch)
        try:
            for question_id in questions:
                await self._hub.publish(channels.RESULTS_DIRTY, "results.dirty", dirty_message(question_id))
        except Exception:
            # The answers are committed and acked; screens catch up on the next change or snapshot.
            log.exception("could not announce changed results")

    async def _commit(self, batch: list[_Pending]) -> set[str]:
        """Commit one batch; reply to every answer; return the questions whose answers changed."""
        outcomes: dict[int, Outcome] = {}
        async with self._database.session() as db:
            accepted = await self._judge(db, batch, outcomes)
            changed = await self._store(db, accepted) if accepted else set()
            await db.commit()
        for i, pending in enumerate(batch):
            pending.resolve(outcomes.get(i, ACK))
        return changed

    async def _judge(
        self, db: AsyncSession, batch: list[_Pending], outcomes: dict[int, Outcome]
    ) -> list[_Accepted]:
        question_ids = {p.question_id for p in batch}
        participant_ids = {p.participant_id for p in batch}
        session_ids = {p.session_id for p in batch}
        questions = {
            q.id: q
            for q in (await db.execute(select(Question).where(col(Question.id).in_(question_ids)))).scalars()
        }
        participants = {
            row.id: row
            for row in await db.execute(
                select(
                    col(Participant.id), col(Participant.session_id), col(Participant.consent_version)
                ).where(col(Participant.id).in_(participant_ids))
            )
        }
        sessions = {
            row.id: row
            for row in await db.execute(
                select(
                    col(LiveSession.id), col(LiveSession.closed_at), col(LiveSession.consent_version)
                ).where(col(LiveSession.id).in_(session_ids))
            )
        }
        candidates: list[_Accepted] = []
        refusals: dict[int, Outcome] = {}
        for i, pending in enumerate(batch):
            try:
                answer = self._check(pending, questions, participants, sessions)
            except AnswerRejected as rejection:
                refusals[i] = refused(rejection.code, rejection.message)
                continue
            candidates.append(_Accepted(pending, answer))
        new = await self._claim_receipts(db, candidates)
        # A refused answer whose id was committed before is a replay: its first reply (an ack) again.
        committed_before = await self._receipts_of(db, [batch[i] for i in refusals])
        for i, outcome in refusals.items():
            key = (batch[i].participant_id, batch[i].client_id)
            outcomes[i] = ACK if key in committed_before else outcome
        # Candidates whose id was not new are replays (or repeats within this batch): acked, not stored.
        return [a for a in candidates if id(a) in new]

    @staticmethod
    async def _claim_receipts(db: AsyncSession, candidates: list[_Accepted]) -> set[int]:
        """Insert a receipt per answer id not seen before and return which candidates those were: one
        INSERT … ON CONFLICT DO NOTHING RETURNING, where a lookup of the ids first would cost an index
        probe per (participant, id) pair in every batch."""
        first: dict[tuple[str, str], _Accepted] = {}
        for a in candidates:
            first.setdefault((a.pending.participant_id, a.pending.client_id), a)
        if not first:
            return set()
        now = utcnow()
        stmt = (
            insert_for(db, table_of(AnswerReceipt))
            .on_conflict_do_nothing(index_elements=["participant_id", "client_id"])
            .returning(col(AnswerReceipt.participant_id), col(AnswerReceipt.client_id))
        )
        rows = [
            {"participant_id": p, "client_id": c, "question_id": a.pending.question_id, "created_at": now}
            for (p, c), a in first.items()
        ]
        # executemany with RETURNING: SQLAlchemy's insertmanyvalues, whose compiled form is cached.
        inserted = {(row.participant_id, row.client_id) for row in await db.execute(stmt, rows)}
        return {id(first[key]) for key in inserted}

    @staticmethod
    async def _receipts_of(db: AsyncSession, pendings: list[_Pending]) -> set[tuple[str, str]]:
        """Which of these (participant, answer id) pairs were committed before."""
        if not pendings:
            return set()
        wanted = {(p.participant_id, p.client_id) for p in pendings}
        rows = await db.execute(
            select(col(AnswerReceipt.participant_id), col(AnswerReceipt.client_id)).where(
                col(AnswerReceipt.participant_id).in_({p for p, _ in wanted}),
                col(AnswerReceipt.client_id).in_({c for _, c in wanted}),
            )
        )
        return {(row.participant_id, row.client_id) for row in rows} & wanted

    @staticmethod
    def _check(
        pending: _Pending,
        questions: dict[str, Question],
        participants: dict[str, Any],
        sessions: dict[str, Any],
    ) -> Accepted | None:
        live = sessions.get(pending.session_id)
        if live is None or live.closed_at is not None:
            raise AnswerRejected("This session is closed; answers are no longer taken.", "session_closed")
        participant = participants.get(pending.participant_id)
        if participant is None or participant.session_id != pending.session_id:
            raise AnswerRejected(
                "You are no longer in this session; join again with the code.", "not_participant"
            )
        if live.consent_version is not None and participant.consent_version != live.consent_version:
            raise AnswerRejected(
                "Read the information sheet and agree to it before answering.", "consent_required"
            )
        question = questions.get(pending.question_id)
        if question is None or question.session_id != pending.session_id:
            raise AnswerRejected("That question is not part of this session.", "unknown_question")
        if question.is_closed:
            raise AnswerRejected("This question is closed; answers are no longer taken.", "question_closed")
        if not question.is_open:
            raise AnswerRejected("This question is not open yet.", "question_not_open")
        if pending.value is None:
            return None
        return kind_of(question.kind).accept(question.config, pending.value, language="en")

    @staticmethod
    async def _store(db: AsyncSession, accepted: list[_Accepted]) -> set[str]:
        """Store the answers whose value changed; return the questions that changed."""
        now = utcnow()
        # A later answer from the same phone to the same question in this batch replaces the earlier.
        latest: dict[tuple[str, str], _Accepted] = {}
        for a in accepted:
            latest[(a.pending.question_id, a.pending.participant_id)] = a
        stored = await _stored_answers(db, latest)
        changed = {
            key: a for key, a in latest.items() if key not in stored or stored[key] != (a.declined, a.value)
        }
        if not changed:
            return set()
        rows = [
            {
                "question_id": q,
                "participant_id": p,
                "value": a.value,
                "declined": a.declined,
                "created_at": now,
                "updated_at": now,
            }
            for (q, p), a in changed.items()
        ]
        upsert = insert_for(db, table_of(Answer))
        await db.execute(
            upsert.on_conflict_do_update(
                index_elements=["question_id", "participant_id"],
                set_={
                    "value": upsert.excluded.value,
                    "declined": upsert.excluded.declined,
                    "updated_at": upsert.excluded.updated_at,
                },
            ),
            rows,
        )
        by_question: dict[str, list[str]] = {}
        for q, p in changed:
            by_question.setdefault(q, []).append(p)
        for question_id, participants in by_question.items():
            # One question at a time, so the delete searches the primary key instead of scanning.
            await db.execute(
                delete(AnswerItem).where(
                    col(AnswerItem.question_id) == question_id,
                    col(AnswerItem.participant_id).in_(participants),
                )
            )
        items = [
            {"question_id": q, "participant_id": p, "item": item, "value": value}
            for (q, p), a in changed.items()
            if a.answer is not None
            for item, value in a.answer.items
        ]
        if items:
            await db.execute(insert(AnswerItem), items)
        await db.execute(insert(ResultChange), [{"question_id": q, "participant_id": p} for q, p in changed])
        return set(by_question)


async def _stored_answers(
    db: AsyncSession, wanted: dict[tuple[str, str], Any]
) -> dict[tuple[str, str], tuple[bool, Any]]:
    """(declined, value) of the answers stored now for these (question, participant) pairs: one query
    on the primary key's prefix and the participant index (a row-value IN would scan the table)."""
    rows = await db.execute(
        select(
            col(Answer.question_id), col(Answer.participant_id), col(Answer.declined), col(Answer.value)
        ).where(
            col(Answer.question_id).in_({q for q, _ in wanted}),
            col(Answer.participant_id).in_({p for _, p in wanted}),
        )
    )
    return {(row[0], row[1]): (bool(row[2]), row[3]) for row in rows if (row[0], row[1]) in wanted}
