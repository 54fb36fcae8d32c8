"""The one writer of what phones send (answers, upvotes, comments) per process: commits what arrived
in one transaction (group commit), then resolves each message's outcome. Nothing is acknowledged
before it is committed.

A batch is whatever queued while the previous batch committed, up to WRITER_BATCH_MAX. Each batch
costs a fixed handful of statements, whatever its size: read the questions, participants and sessions
it names (and, when it holds upvotes, their entries and the votes already cast), claim receipts, then
store what changed (app.polls.storing). A resend of the same value under a new id is acked and
changes nothing: the k step must not count it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import metrics
from app.batching import QUEUE_MAX, GroupCommit, Refusal
from app.db import Database, insert_for, table_of, utcnow
from app.polls import storing
from app.polls.entries import APPROVED, PENDING
from app.polls.kinds import Accepted, AnswerRejected, kind_of
from app.polls.models import AnswerReceipt, Entry, EntryVote, Question
from app.polls.results import dirty_message
from app.polls.text import words
from app.polls.text.free import clean_text, flagged
from app.realtime import channels
from app.realtime.hub import BrokerUnavailable, Hub
from app.sessions.models import LiveSession, Participant

log = logging.getLogger(__name__)

MessageType = Literal["answer", "upvote", "comment"]
# Comments are free text like open entries.
COMMENT_MAX = 500


@dataclass(frozen=True, slots=True)
class Outcome:
    """Acked (committed now, or committed before under the same id), or refused with a code. An ack of
    an answer that made a new `open` entry or `qa` question names it (`entry_id`), so that the phone
    knows its own (it shows no upvote button on them)."""

    ok: bool
    code: str = ""
    message: str = ""
    entry_id: str = ""


ACK = Outcome(ok=True)


def refused(code: str, message: str) -> Outcome:
    return Outcome(ok=False, code=code, message=message)


Reply = Callable[[Outcome], None]


@dataclass(slots=True)
class _Pending:
    type: MessageType
    session_id: str
    participant_id: str
    client_id: str
    question_id: str
    # An answer's value, an upvote's entry id, or a comment's text.
    value: Any
    reply: Reply = field(repr=False)
    replied: bool = False

    def resolve(self, outcome: Outcome) -> None:
        if self.replied:
            return
        self.replied = True
        metrics.ANSWERS.labels("acked" if outcome.ok else "refused").inc()
        try:
            self.reply(outcome)
        except Exception:
            # A reply to a socket or waiter that has gone; the message's fate is already settled.
            log.debug("a reply could not be delivered", exc_info=True)


@dataclass(frozen=True, slots=True)
class _Batch:
    """What a batch's messages are judged against, read once per batch."""

    questions: dict[str, Question]
    participants: dict[str, Any]
    sessions: dict[str, Any]
    # Upvotes only: the entries they name (with their authors), and the (entry, participant) votes
    # already cast.
    entries: dict[str, Any]
    votes: set[tuple[str, str]]


class AnswerWriter(GroupCommit[_Pending]):
    name = "answer-writer"

    def __init__(self, database: Database, hub: Hub, *, batch_max: int, queue_max: int = QUEUE_MAX) -> None:
        super().__init__(batch_max=batch_max, queue_max=queue_max)
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
        type_: MessageType = "answer",
    ) -> None:
        """Queue a message; `reply` is called with its outcome once it is committed or refused. No task
        or future per message: at thousands a second, those are what the collector chases."""
        self._put(_Pending(type_, session_id, participant_id, client_id, question_id, value, reply))

    async def submit(
        self,
        *,
        session_id: str,
        participant_id: str,
        client_id: str,
        question_id: str,
        value: Any,
        type_: MessageType = "answer",
    ) -> Outcome:
        """Queue a message and wait until it is committed or refused."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self.submit_nowait(
            session_id=session_id,
            participant_id=participant_id,
            client_id=client_id,
            question_id=question_id,
            value=value,
            reply=future.set_result,
            type_=type_,
        )
        return await future

    def _refuse(self, item: _Pending, why: Refusal) -> None:
        # Nothing recorded; the phone keeps the message and sends it again (same id).
        item.resolve(refused(why.code, why.message))

    def _fail(self, batch: list[_Pending]) -> None:
        failed = refused("server_error", "This could not be saved; please send it again.")
        for pending in batch:
            pending.resolve(failed)

    async def _write(self, batch: list[_Pending]) -> None:
        written = await self._commit(batch)
        try:
            for question_id in written.questions:
                await self._hub.publish(channels.RESULTS_DIRTY, "results.dirty", dirty_message(question_id))
            for new in written.entries:
                await self._hub.publish(
                    (channels.console(new.session_id),),
                    "entry.new",
                    {"question_id": new.question_id, "entry": new.entry.model_dump()},
                    seq_key=new.session_id,
                )
        except BrokerUnavailable:
            # Committed and acked; when the broker is back the ticker recomputes every open question.
            log.warning("broker unavailable: changed results will be announced when it is back")
        except Exception:
            # The messages are committed and acked; screens catch up on the next change or snapshot.
            log.exception("could not announce changed results")

    async def _commit(self, batch: list[_Pending]) -> storing.Written:
        """Commit one batch; reply to every message; return what changed."""
        outcomes: dict[int, Outcome] = {}
        async with self._database.session() as db:
            context = await self._read(db, batch)
            accepted = await self._judge(db, batch, context, outcomes)
            written = (
                await storing.store(db, accepted, questions=context.questions)
                if accepted
                else storing.NOTHING
            )
            await db.commit()
        for i, pending in enumerate(batch):
            pending.resolve(outcomes.get(i, ACK))
        return written

    @staticmethod
    async def _read(db: AsyncSession, batch: list[_Pending]) -> _Batch:
        question_ids = {p.question_id for p in batch}
        questions = {
            q.id: q
            for q in (await db.execute(select(Question).where(col(Question.id).in_(question_ids)))).scalars()
        }
        participants = {
            row.id: row
            for row in await db.execute(
                select(
                    col(Participant.id), col(Participant.session_id), col(Participant.consent_version)
                ).where(col(Participant.id).in_({p.participant_id for p in batch}))
            )
        }
        sessions = {
            row.id: row
            for row in await db.execute(
                select(
                    col(LiveSession.id),
                    col(LiveSession.closed_at),
                    col(LiveSession.consent_version),
                    col(LiveSession.language),
                ).where(col(LiveSession.id).in_({p.session_id for p in batch}))
            )
        }
        upvotes = [p for p in batch if p.type == "upvote"]
        entries: dict[str, Any] = {}
        votes: set[tuple[str, str]] = set()
        if upvotes:
            entry_ids = {p.value for p in upvotes}
            entries = {
                row.id: row
                for row in await db.execute(
                    select(
                        col(Entry.id),
                        col(Entry.question_id),
                        col(Entry.participant_id),
                        col(Entry.comment),
                        col(Entry.status),
                    ).where(col(Entry.id).in_(entry_ids))
                )
            }
            votes = {
                (row.entry_id, row.participant_id)
                for row in await db.execute(
                    select(col(EntryVote.entry_id), col(EntryVote.participant_id)).where(
                        col(EntryVote.entry_id).in_(entry_ids),
                        col(EntryVote.participant_id).in_({p.participant_id for p in upvotes}),
                    )
                )
            }
        # A word cloud's language must be loaded before its words are read (once per process; the
        # first load takes up to 1.6 s, in a thread, so opening the question loads it beforehand).
        for language in {
            sessions[p.session_id].language
            for p in batch
            if p.type == "answer"
            and p.session_id in sessions
            and p.question_id in questions
            and questions[p.question_id].kind == "wordcloud"
        }:
            await words.ensure_loaded(language)
        return _Batch(questions, participants, sessions, entries, votes)

    async def _judge(
        self, db: AsyncSession, batch: list[_Pending], context: _Batch, outcomes: dict[int, Outcome]
    ) -> list[storing.Contribution]:
        refusals: dict[int, Outcome] = {}
        # (entry, participant) -> the id of the first upvote of it in this batch: the same id again is
        # a repeat (acked), another id is a second vote (refused).
        voting: dict[tuple[str, str], str] = {}
        checked: dict[int, storing.Contribution] = {}
        for i, pending in enumerate(batch):
            try:
                checked[i] = self._check(pending, context, voting)
            except AnswerRejected as rejection:
                refusals[i] = refused(rejection.code, rejection.message)
        candidates = list(checked.values())
        new = await self._claim_receipts(db, candidates)
        # A new open entry or Q&A question: its ack names it.
        for i, c in checked.items():
            if id(c) in new and c.entry is not None and not c.entry.comment:
                outcomes[i] = Outcome(ok=True, entry_id=c.entry.id)
        # A refused message whose id was committed before is a replay: its first reply (an ack) again.
        committed_before = await self._receipts_of(db, [batch[i] for i in refusals])
        for i, outcome in refusals.items():
            key = (batch[i].participant_id, batch[i].client_id)
            outcomes[i] = ACK if key in committed_before else outcome
        # Candidates whose id was not new are replays (or repeats within this batch): acked, not stored.
        return [c for c in candidates if id(c) in new]

    @staticmethod
    async def _claim_receipts(db: AsyncSession, candidates: list[storing.Contribution]) -> set[int]:
        """Insert a receipt per message id not seen before and return which candidates those were: one
        INSERT … ON CONFLICT DO NOTHING RETURNING, where a lookup of the ids first would cost an index
        probe per (participant, id) pair in every batch."""
        first: dict[tuple[str, str], storing.Contribution] = {}
        for c in candidates:
            first.setdefault((c.participant_id, c.client_id), c)
        if not first:
            return set()
        now = utcnow()
        stmt = (
            insert_for(db, table_of(AnswerReceipt))
            .on_conflict_do_nothing(index_elements=["participant_id", "client_id"])
            .returning(col(AnswerReceipt.participant_id), col(AnswerReceipt.client_id))
        )
        rows = [
            {"participant_id": p, "client_id": c, "question_id": contribution.question_id, "created_at": now}
            for (p, c), contribution in first.items()
        ]
        # executemany with RETURNING: SQLAlchemy's insertmanyvalues, whose compiled form is cached.
        inserted = {(row.participant_id, row.client_id) for row in await db.execute(stmt, rows)}
        return {id(first[key]) for key in inserted}

    @staticmethod
    async def _receipts_of(db: AsyncSession, pendings: list[_Pending]) -> set[tuple[str, str]]:
        """Which of these (participant, message id) pairs were committed before."""
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
        pending: _Pending, context: _Batch, voting: dict[tuple[str, str], str]
    ) -> storing.Contribution:
        """The message as a contribution to store, or AnswerRejected: the checks every message shares,
        in the documented order, then its type's own."""
        live = context.sessions.get(pending.session_id)
        if live is None or live.closed_at is not None:
            raise AnswerRejected("This session is closed; answers are no longer taken.", "session_closed")
        participant = context.participants.get(pending.participant_id)
        if participant is None or participant.session_id != pending.session_id:
            raise AnswerRejected(
                "You are no longer in this session; join again with the code.", "not_participant"
            )
        if live.consent_version is not None and participant.consent_version is None:
            raise AnswerRejected(
                "Read the information sheet and agree to it before answering.", "consent_required"
            )
        question = context.questions.get(pending.question_id)
        if question is None or question.session_id != pending.session_id:
            raise AnswerRejected("That question is not part of this session.", "unknown_question")
        if question.is_closed:
            raise AnswerRejected("This question is closed; answers are no longer taken.", "question_closed")
        if not question.is_open:
            raise AnswerRejected("This question is not open yet.", "question_not_open")
        contribution = storing.Contribution(
            pending.participant_id, pending.client_id, pending.question_id, pending.session_id
        )
        if pending.type == "upvote":
            contribution.vote = _check_upvote(pending, question, context, voting)
        elif pending.type == "comment":
            if not question.comments:
                raise AnswerRejected("This question does not take comments.", "comments_off")
            text = clean_text(pending.value, limit=COMMENT_MAX)
            contribution.entry = storing.NewEntry(text=text, comment=True, status=_status_of(question, text))
        elif pending.value is None:
            contribution.answer = storing.DECLINED
        else:
            accepted: Accepted = kind_of(question.kind).accept(
                question.config, pending.value, language=live.language
            )
            if accepted.entry is not None:
                contribution.entry = storing.NewEntry(
                    text=accepted.entry, comment=False, status=_status_of(question, accepted.entry)
                )
            else:
                contribution.answer = accepted
        return contribution


def _check_upvote(
    pending: _Pending, question: Question, context: _Batch, voting: dict[tuple[str, str], str]
) -> str:
    if question.kind != "qa":
        raise AnswerRejected("Only questions of a Q&A take upvotes.", "not_qa")
    entry = context.entries.get(pending.value)
    if entry is None or entry.question_id != question.id or entry.comment or entry.status == PENDING:
        raise AnswerRejected("There is no such question to upvote here.", "unknown_entry")
    if entry.status != APPROVED:
        raise AnswerRejected("That question was taken down; it takes no more votes.", "entry_not_visible")
    if entry.participant_id == pending.participant_id:
        raise AnswerRejected("That question is yours; upvote other people's questions.", "own_entry")
    key = (entry.id, pending.participant_id)
    first = voting.setdefault(key, pending.client_id)
    if key in context.votes or first != pending.client_id:
        raise AnswerRejected("You have already upvoted that question.", "already_voted")
    return str(entry.id)


def _status_of(question: Question, text: str) -> storing.Status:
    """A new entry waits for the facilitator when its question is moderated or the abuse list flags
    it; otherwise it is approved."""
    if flagged(text):
        return storing.Status(PENDING, flagged=True)
    return storing.Status(PENDING if question.moderated else APPROVED, flagged=False)
