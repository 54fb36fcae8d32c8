"""Shown results under the k rule (ETHICS 8 and 9), and the ticker that keeps screens up to date.

While a question is open its stored result moves only once at least k different participants have
changed their contribution since the last move (`result_change`: a resend of the same value is no
change; a participant who leaves is one); at close it is exact. The stored result (`result_state`)
keeps the kind's summary before k, so every read applies the session's k as it is at that moment:
below k answers the result is hidden, and inside it each statement and word has its own k."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import metrics
from app.db import Database, insert_for, rowcount, table_of, utcnow
from app.polls import aggregation, entries
from app.polls.kinds import kind_of
from app.polls.models import Question, ResultState
from app.polls.schemas import CommentsPublic, ResultsPublic
from app.realtime import channels
from app.realtime.hub import Closed, Hub, Subscription
from app.sessions.models import LiveSession

log = logging.getLogger(__name__)

# A question whose result cannot be computed (the database is failing) is tried again after one tick,
# then after twice as long each time, up to 10 s: a broken database costs a log line a retry, not a
# traceback and a query every 100 ms; once it recovers, screens catch up within 10 s.
RETRY_MAX_SECONDS = 10.0
# With several processes, the one holding a question's lease recomputes it; it renews the lease each
# time, and another process takes over once it has gone quiet this long.
LEASE_MS = 2000
# Questions whose last published response count is kept; past it, start afresh (a repeat is harmless).
RESPONSES_KEPT = 10_000


@dataclass(frozen=True, slots=True)
class Stored:
    """What `result_state` holds for a question: `n` and the summary before k."""

    n: int
    summary: dict[str, Any] | None
    change_id: int = 0
    final: bool = False


NOTHING_STORED = Stored(n=0, summary=None)


NO_ENTRIES = entries.Live(by_id={})


def present(question: Question, stored: Stored, *, k: int, now: entries.Live | None = None) -> ResultsPublic:
    """The result as screens and the API show it under this k: hidden while fewer than k answers count,
    k applied inside the summary by the kind, entries and comments under the moderation of `now`."""
    now = now or NO_ENTRIES
    extra: dict[str, Any] = {}
    if question.comments:
        extra["comments"] = _comments(stored, k=k, now=now)
    if stored.summary is None or stored.n < k:
        return ResultsPublic(question_id=question.id, n=stored.n, hidden=True, summary=None, **extra)
    kind = kind_of(question.kind)
    summary = stored.summary
    if kind.ENTRIES:
        summary = {**summary, "entries": entries.visible(summary["entries"], now, comment=False)}
    return ResultsPublic(
        question_id=question.id,
        n=stored.n,
        hidden=False,
        summary=kind.summarise(question.config, summary, k=k),
        **extra,
    )


def _comments(stored: Stored, *, k: int, now: entries.Live) -> CommentsPublic:
    """Approved comments, newest first, once k participants have commented (free text is one person's
    words: the list shows only when enough people wrote) and unless withheld (`withhold`)."""
    counted = (stored.summary or {}).get("comments") or {"n": 0, "entries": []}
    if counted["n"] < k or counted.get("withheld"):
        return CommentsPublic(n=counted["n"], hidden=True, entries=[])
    shown = entries.visible(counted["entries"], now, comment=True)
    return CommentsPublic(
        n=counted["n"], hidden=False, entries=[{"id": e["id"], "text": e["text"]} for e in shown]
    )


# A part of a result shown under its own k inside the question's: ("item", key) for the kind's items (a
# statement, a word: Kind.own_k), COMMENTS for the comments of a question that takes them.
Part = tuple[str, str]
COMMENTS: Part = ("comments", "")


def own_k(question: Question, stored: Stored) -> dict[Part, int]:
    """Each part of a stored result with a k of its own, and how many participants it counts (a part
    the summary leaves out, a word used by fewer than 3, counts fewer than any k)."""
    if stored.summary is None:
        return {}
    counts = {("item", key): n for key, n in kind_of(question.kind).own_k(stored.summary).items()}
    if question.comments:
        counts[COMMENTS] = (stored.summary.get("comments") or {"n": 0})["n"]
    return counts


def withhold(question: Question, stored: Stored, parts: set[Part]) -> Stored:
    """The stored result with these parts hidden by `present` whatever their count (per-group results,
    app/breakouts/service.py:group_results)."""
    if not parts or stored.summary is None:
        return stored
    summary = kind_of(question.kind).withhold(stored.summary, {key for part, key in parts if part == "item"})
    if COMMENTS in parts and summary.get("comments") is not None:
        summary = {**summary, "comments": {**summary["comments"], "withheld": True}}
    return replace(stored, summary=summary)


def needs_entries(question: Question) -> bool:
    """Whether reading the question's result needs its entries as they are now."""
    return kind_of(question.kind).ENTRIES or question.comments


async def count(db: AsyncSession, question: Question) -> Stored:
    """The question's answers counted now (exact), as the state would store them."""
    counted = await kind_of(question.kind).count(db, question_id=question.id, config=question.config)
    summary = dict(counted.summary)
    if question.comments:
        summary["comments"] = {
            "n": await aggregation.entry_authors(db, question_id=question.id, comment=True),
            "entries": await aggregation.entries_of(db, question_id=question.id, comment=True),
        }
    return Stored(n=counted.n, summary=summary)


def _stored_from(state: ResultState | None) -> Stored:
    if state is None:
        return NOTHING_STORED
    return Stored(n=state.n, summary=state.summary, change_id=state.change_id, final=state.final)


async def stored(db: AsyncSession, *, question: Question) -> Stored:
    return _stored_from(await db.get(ResultState, question.id))


async def entries_now(db: AsyncSession, question: Question) -> entries.Live | None:
    return await entries.live(db, question_id=question.id) if needs_entries(question) else None


async def shown(db: AsyncSession, *, question: Question, k: int) -> ResultsPublic:
    """The result last stored for a question under the session's k now (what screens and the API show)."""
    return present(question, await stored(db, question=question), k=k, now=await entries_now(db, question))


async def finalise(db: AsyncSession, *, question: Question) -> None:
    """Store the exact result of a question that is closing (or of a closed one whose answers were
    removed); call inside that transaction."""
    exact = await count(db, question)
    change_id = await aggregation.last_change_id(db, question_id=question.id)
    await _store(db, question.id, exact, change_id=change_id, final=True)


async def store_reset(
    db: AsyncSession, *, question_id: str, result: Stored, change_id: int, final: bool
) -> None:
    """Store a question's result after its answers were reset (app/polls/reset.py)."""
    await _store(db, question_id, result, change_id=change_id, final=final)


async def _store(db: AsyncSession, question_id: str, result: Stored, *, change_id: int, final: bool) -> None:
    values = {
        "question_id": question_id,
        "change_id": change_id,
        "n": result.n,
        "summary": result.summary,
        "final": final,
        "updated_at": utcnow(),
    }
    stmt = insert_for(db, table_of(ResultState)).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["question_id"], set_={k: v for k, v in values.items() if k != "question_id"}
    )
    await db.execute(stmt)


@dataclass(frozen=True, slots=True)
class Step:
    question: Question
    shown: ResultsPublic
    changed: bool
    # Another writer of the state (a close, another process) got there first: look again next tick.
    raced: bool = False


async def _step(database: Database, question_id: str) -> Step | None:
    """Recompute one question and move its stored result if the k rule allows; None if it is gone."""
    async with database.read_session() as db:
        question = await db.get(Question, question_id)
        if question is None:
            return None
        live = await db.get(LiveSession, question.session_id)
        if live is None:
            return None
        k = live.min_group
        state = await db.get(ResultState, question_id)
        now = await entries_now(db, question)
        before = present(question, _stored_from(state), k=k, now=now)
        if state is not None and state.final:
            return Step(question, before, changed=False)
        since = state.change_id if state is not None else 0
        changes = await aggregation.changes_since(db, question_id=question_id, since=since)
        if changes.participants < k:
            return Step(question, before, changed=False)
        after = await count(db, question)
    async with database.session() as db:
        if state is None:
            stmt = insert_for(db, table_of(ResultState)).values(
                question_id=question_id,
                change_id=changes.last_change_id,
                n=after.n,
                summary=after.summary,
                final=False,
                updated_at=utcnow(),
            )
            moved = rowcount(await db.execute(stmt.on_conflict_do_nothing(index_elements=["question_id"])))
        else:
            # Only from the state we read: a close (final) or another process's step wins the race.
            moved = rowcount(
                await db.execute(
                    update(ResultState)
                    .where(
                        col(ResultState.question_id) == question_id,
                        col(ResultState.change_id) == since,
                        col(ResultState.final).is_(False),
                    )
                    .values(
                        change_id=changes.last_change_id,
                        n=after.n,
                        summary=after.summary,
                        updated_at=utcnow(),
                    )
                )
            )
        await db.commit()
    if not moved:
        return Step(question, before, changed=False, raced=True)
    shown_after = present(question, after, k=k, now=now)
    return Step(question, shown_after, changed=shown_after != before)


@dataclass(slots=True)
class _Retry:
    failures: int
    at: float  # time.monotonic() of the next try


def dirty_message(question_id: str, *, force: bool = False) -> dict[str, Any]:
    """The RESULTS_DIRTY payload: recompute this question; with force, publish even if unchanged."""
    return {"question_id": question_id, "force": force}


class ResultsTicker:
    """Listens for "these answers changed", recomputes each changed question at most once a tick, and
    publishes `poll.results` when the shown result moves (or when asked to, with force)."""

    def __init__(self, database: Database, hub: Hub, *, tick_seconds: float) -> None:
        self._database = database
        self._hub = hub
        self._tick = tick_seconds
        self._task: asyncio.Task[None] | None = None
        self._dirty: dict[str, bool] = {}
        self._retries: dict[str, _Retry] = {}
        # Questions another process held the lease of: looked at once more when it lapses, in case
        # that process died holding it (question id -> (monotonic time, force)).
        self._waiting: dict[str, tuple[float, bool]] = {}
        # The live count of responses last published per question (see publish_responses).
        self._responses: dict[str, int] = {}

    async def start(self) -> None:
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._run(ready), name="results-ticker")
        await ready.wait()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, ready: asyncio.Event) -> None:
        resubscribed = False
        while True:
            # Unbounded in practice: the ticker drains everything each tick, and coalesces by question.
            async with self._hub.subscribe(channels.RESULTS_DIRTY, maxsize=1_000_000) as sub:
                ready.set()
                if resubscribed:
                    # Messages may have been lost while the broker was away: look at every open question.
                    await self._mark_open_questions()
                while await self._tick_once(sub):
                    pass
            resubscribed = True
            await asyncio.sleep(self._tick)

    async def _tick_once(self, sub: Subscription) -> bool:
        """Wait for changes, recompute each changed question once, pace to the tick. False when the
        subscription was closed (the broker went away) and must be made again."""
        # With questions left to retry (a failed step), do not wait for a new change to look again.
        message: str | Closed | None
        if self._dirty:
            message = sub.get_nowait()
        elif self._waiting:
            due = min(at for at, _ in self._waiting.values())
            try:
                message = await asyncio.wait_for(sub.get(), max(0.0, due - time.monotonic()))
            except TimeoutError:
                message = None
        else:
            message = await sub.get()
        while message is not None:
            if isinstance(message, Closed):
                return False
            self._take(message)
            message = sub.get_nowait()
        started = time.monotonic()
        rechecks = {q for q, (at, _) in self._waiting.items() if at <= started and q not in self._dirty}
        for question_id in rechecks:
            self._dirty[question_id] = self._waiting.pop(question_id)[1]
        dirty, self._dirty = self._dirty, {}
        for question_id, force in dirty.items():
            retry = self._retries.get(question_id)
            if retry is not None and retry.at > started:
                self._dirty[question_id] = self._dirty.get(question_id, False) or force
                continue
            try:
                wait = await self._hub.lease(f"results:{question_id}", LEASE_MS)
                if wait > 0:
                    # Another process recomputes it (it heard the same change). Look once more when
                    # its lease lapses; if it is held again then, its holder is alive and did it.
                    if question_id not in rechecks:
                        held = self._waiting.get(question_id, (0.0, False))[1]
                        self._waiting[question_id] = (started + wait + self._tick, held or force)
                    continue
                self._waiting.pop(question_id, None)
                await self._publish(question_id, force)
            except Exception as error:
                self._failed(question_id, force, error)
            else:
                if self._retries.pop(question_id, None) is not None:
                    log.info("results for a question are computed again")
        await asyncio.sleep(max(0.0, self._tick - (time.monotonic() - started)))
        return True

    def _failed(self, question_id: str, force: bool, error: Exception) -> None:
        """Try the question again later, backing off; the traceback once, then a line a retry."""
        retry = self._retries.get(question_id)
        failures = retry.failures + 1 if retry is not None else 1
        delay = min(RETRY_MAX_SECONDS, self._tick * 2 ** (failures - 1))
        self._retries[question_id] = _Retry(failures, time.monotonic() + delay)
        self._dirty[question_id] = self._dirty.get(question_id, False) or force
        if failures == 1:
            log.exception("results for a question could not be computed; trying again in %.1f s", delay)
        else:
            # The first line only: the SQL and its context were in the traceback already.
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            log.warning(
                "results for a question still cannot be computed (%d failures in a row: %s); "
                "trying again in %.1f s",
                failures,
                first_line,
                delay,
            )

    async def _mark_open_questions(self) -> None:
        async with self._database.read_session() as db:
            rows = await db.execute(
                select(col(Question.id)).where(
                    col(Question.opened_at).is_not(None), col(Question.closed_at).is_(None)
                )
            )
            for (question_id,) in rows:
                self._dirty.setdefault(question_id, False)

    def _take(self, message: str) -> None:
        data = json.loads(message)["data"]
        question_id = data["question_id"]
        self._dirty[question_id] = self._dirty.get(question_id, False) or bool(data.get("force"))

    async def _publish(self, question_id: str, force: bool) -> None:
        step = await _step(self._database, question_id)
        if step is None:
            return
        if step.raced:
            self._dirty[question_id] = self._dirty.get(question_id, False) or force
            return
        if step.changed or force:
            await publish_results(self._hub, question=step.question, result=step.shown)
        async with self._database.read_session() as db:
            count = await aggregation.responses(db, question_id=question_id)
        if force or self._responses.get(question_id) != count:
            if len(self._responses) >= RESPONSES_KEPT:
                self._responses.clear()
            self._responses[question_id] = count
            await publish_responses(self._hub, question=step.question, responses=count)


class PhoneResultsGate:
    """The hub's gate for phones: `poll.results` reaches a session's phones only for the current
    question while its results are visible, as the last `session.state` on the phones' channel said.

    The ticker reads a question (results visible), computes, and publishes; a facilitator who hides
    the results in between has already sent phones `session.state` with `results_visible: false`, and
    the ticker's stale publish would follow it. Deciding here, in delivery order on the channel, closes
    that race on every backend (a Redis channel keeps its order too). Before this process has seen a
    session's `session.state`, nothing is dropped: the race needs a hide, and a hide sends one."""

    # Sessions whose last state is kept; past it, start afresh (unknown only ever lets results through
    # that the publisher itself judged visible).
    MAX_SESSIONS = 10_000

    def __init__(self) -> None:
        # session id -> (current question id, its results_visible)
        self._shown: dict[str, tuple[str | None, bool]] = {}

    def __call__(self, channel: str, text: str) -> bool:
        if not channel.endswith(channels.PARTICIPANTS_SUFFIX):
            return True
        if text.startswith('{"type":"session.state"'):
            data = json.loads(text)["data"]
            current = data.get("current")
            session_id = channel.removeprefix(channels.SESSION_PREFIX).removesuffix(
                channels.PARTICIPANTS_SUFFIX
            )
            if len(self._shown) >= self.MAX_SESSIONS:
                self._shown.clear()
            self._shown[session_id] = (
                (current["id"], bool(current.get("results_visible"))) if current else (None, False)
            )
            return True
        if text.startswith('{"type":"poll.results"'):
            session_id = channel.removeprefix(channels.SESSION_PREFIX).removesuffix(
                channels.PARTICIPANTS_SUFFIX
            )
            shown = self._shown.get(session_id)
            if shown is None:
                return True
            question_id = json.loads(text)["data"]["question_id"]
            return shown == (question_id, True)
        return True


def responses_message(question_id: str, responses: int) -> dict[str, Any]:
    """The `poll.responses` data: how many participants responded (answers and declines together)."""
    return {"question_id": question_id, "responses": responses}


async def publish_responses(hub: Hub, *, question: Question, responses: int) -> None:
    """poll.responses to presenter screens and consoles only: the live count moves one by one, which the
    contract allows for a count of who took part; phones have no use for it."""
    await hub.publish(
        (channels.presenters(question.session_id),),
        "poll.responses",
        responses_message(question.id, responses),
        seq_key=question.session_id,
    )


async def publish_results(hub: Hub, *, question: Question, result: ResultsPublic) -> None:
    """poll.results to presenter screens always, and to phones while the results are visible."""
    targets: tuple[str, ...] = (channels.presenters(question.session_id),)
    if question.results_visible:
        targets += (channels.participants(question.session_id),)
    started = time.perf_counter()
    await hub.publish(targets, "poll.results", result.data(), seq_key=question.session_id)
    metrics.FANOUT_SECONDS.observe(time.perf_counter() - started)
