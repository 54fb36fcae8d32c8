"""The research bundle (ETHICS 11-14), streamed: rows come from the database a batch at a time and
the zip is written as it goes, so a session of any size never sits in memory whole.

responses.csv is row-level pseudonymous data for the named research team: pseudonyms are an HMAC of
the participant id under a key made for this export alone (re-keyed every export, never stored),
rows come in random order (`ORDER BY random()` in the database), free text is redacted, and no time
is written unless the session asked for minutes since the start before its first answer. The
summaries apply k with secondary suppression (app/research/suppression.py)."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import secrets
import zipfile
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, false, func, literal, null, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.breakouts.models import (
    BreakoutAttribution,
    BreakoutGroup,
    BreakoutNote,
    BreakoutRound,
    NotePlus,
    PrivateMessage,
)
from app.db import Database, utcnow
from app.polls import results as polls_results
from app.polls import sections as sections_service
from app.polls import service as polls_service
from app.polls.models import Answer, AnswerItem, AnswerWord, Entry, EntryVote, Question
from app.research import bundle_text
from app.research.redaction import escape_cell, redact
from app.research.suppression import SUPPRESSED, figures, primary, scale_row, suppress
from app.sessions.models import LiveSession

# Rows fetched from the database at a time, and bytes gathered before a chunk goes to the client.
BATCH_ROWS = 2000
CHUNK_BYTES = 64 * 1024
# The most places a summary row counts (a ranking of 10 options; a scale has at most 7 points).
MAX_LEVELS = 10

RESPONSES_FIELDS = [
    "respondent",
    "section",
    "question_id",
    "question_kind",
    "item",
    "value",
    "value_label",
    "text",
    "group",
    "declined",
]
QUESTIONS_FIELDS = [
    "question_id",
    "question_order",
    "section",
    "section_order",
    "kind",
    "prompt",
    "multiple",
    "points",
    "k",
    "item",
    "item_label",
    "item_order",
    "value_labels",
]
SUMMARY_FIELDS = [
    "question_id",
    "kind",
    "item",
    "item_label",
    "n",
    "declined",
    "count",
    "mean",
    "sd",
    "median",
    "top_two_pct",
    *[f"count_{level}" for level in range(1, MAX_LEVELS + 1)],
]
COMMENTS_FIELDS = ["respondent", "question_id", "source", "entry_id", "status", "votes", "text", "group"]
PRIVATE_MESSAGES_FIELDS = ["respondent", "text"]


@dataclass(frozen=True, slots=True)
class Bundle:
    """What every file of one export shares."""

    live: LiveSession
    questions: list[Question]
    key: bytes
    made_on: date
    started_at: datetime | None
    # (question id, participant id) -> the breakout group ("round 1: Group 2") the participant answered
    # that round's question in, for responses.csv's `group`.
    groups: dict[tuple[str, str], str] = field(default_factory=dict)
    # Section id -> (its place among the session's sections, 1, 2, ...; its title).
    sections: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def k(self) -> int:
        return self.live.min_group

    def pseudonym(self, participant_id: str) -> str:
        """The participant's pseudonym in this export only: 48 bits of an HMAC under the export's key."""
        return "R" + hmac.new(self.key, participant_id.encode(), hashlib.sha256).hexdigest()[:12]

    def section(self, question: Question) -> tuple[int, str] | None:
        """The question's section: its place and title; None for a question in no section."""
        return self.sections.get(question.section_id) if question.section_id is not None else None

    def minutes(self, at: datetime | None) -> str:
        if at is None or self.started_at is None:
            return ""
        return str(max(0, int((at - self.started_at).total_seconds() // 60)))


async def prepare(db: AsyncSession, *, live: LiveSession) -> Bundle:
    """The session's questions and a fresh pseudonym key for one export."""
    questions = await polls_service.list_questions(db, session_id=live.id)
    opened = [q.opened_at for q in questions if q.opened_at is not None]
    return Bundle(
        live=live,
        questions=questions,
        key=secrets.token_bytes(32),
        made_on=utcnow().date(),
        started_at=min(opened) if opened else None,
        groups=await _groups(db, live),
        sections={
            s.id: (order, s.title)
            for order, s in enumerate(await sections_service.list_sections(db, session_id=live.id), start=1)
        },
    )


def group_label(number: int, name: str) -> str:
    return f"round {number}: {name}"


async def _groups(db: AsyncSession, live: LiveSession) -> dict[tuple[str, str], str]:
    """Each (round question, respondent) with the group they answered it in: where they were when they
    gave the answer (breakout_attribution, app/breakouts/attribution.py), never where they are now. An
    answer from the main room has none."""
    rows = await db.execute(
        select(
            col(BreakoutAttribution.question_id),
            col(BreakoutAttribution.participant_id),
            col(BreakoutRound.number),
            col(BreakoutGroup.name),
        )
        .join(BreakoutGroup, col(BreakoutGroup.id) == col(BreakoutAttribution.group_id))
        .join(BreakoutRound, col(BreakoutRound.id) == col(BreakoutAttribution.round_id))
        .where(col(BreakoutRound.session_id) == live.id)
    )
    return {(r.question_id, r.participant_id): group_label(r.number, r.name) for r in rows}


def responses_fields(bundle: Bundle) -> list[str]:
    return RESPONSES_FIELDS + (["minutes"] if bundle.live.export_minutes else [])


def _csv_text(rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([escape_cell(v) if isinstance(v, str) else v for v in row])
    return out.getvalue()


# responses.csv ------------------------------------------------------------------------------------


def _responses_query(question_ids: list[str]) -> Select[Any]:
    """Every answered item of the session's questions, one row each, in random order."""
    items: Any = (
        select(
            col(AnswerItem.participant_id).label("participant_id"),
            col(AnswerItem.question_id).label("question_id"),
            col(AnswerItem.item).label("item"),
            col(AnswerItem.value).label("value"),
            null().label("text"),
            false().label("declined"),
            col(Answer.updated_at).label("at"),
        )
        .join(
            Answer,
            (col(Answer.question_id) == col(AnswerItem.question_id))
            & (col(Answer.participant_id) == col(AnswerItem.participant_id)),
        )
        .where(col(AnswerItem.question_id).in_(question_ids))
    )
    words = (
        select(
            col(AnswerWord.participant_id),
            col(AnswerWord.question_id),
            col(AnswerWord.word),
            null(),
            col(AnswerWord.text),
            false(),
            col(Answer.updated_at),
        )
        .join(
            Answer,
            (col(Answer.question_id) == col(AnswerWord.question_id))
            & (col(Answer.participant_id) == col(AnswerWord.participant_id)),
        )
        .where(col(AnswerWord.question_id).in_(question_ids))
    )
    entries = select(
        col(Entry.participant_id),
        col(Entry.question_id),
        col(Entry.id),
        null(),
        col(Entry.text),
        false(),
        col(Entry.created_at),
    ).where(col(Entry.question_id).in_(question_ids), col(Entry.comment).is_(False))
    declines = select(
        col(Answer.participant_id),
        col(Answer.question_id),
        null(),
        null(),
        null(),
        true(),
        col(Answer.updated_at),
    ).where(col(Answer.question_id).in_(question_ids), col(Answer.declined).is_(True))
    votes = select(
        col(EntryVote.participant_id),
        col(EntryVote.question_id),
        col(EntryVote.entry_id),
        literal(1),
        null(),
        false(),
        null(),
    ).where(col(EntryVote.question_id).in_(question_ids))
    every = union_all(items, words, entries, declines, votes).subquery()
    return select(every).order_by(func.random())


def _labels(question: Question) -> dict[str, str]:
    config = question.config
    if question.kind in ("choice", "ranking"):
        return {o["id"]: o["label"] for o in config["options"]}
    if question.kind == "scale":
        return {s["id"]: s["text"] for s in config["statements"]}
    return {}


def _point_label(config: dict[str, Any], value: int) -> str:
    labels = config.get("labels")
    points = config["points"]
    if not labels:
        return ""
    if len(labels) == points:
        return str(labels[value - 1])
    return str(labels[0]) if value == 1 else str(labels[-1]) if value == points else ""


def _response_row(bundle: Bundle, question: Question, row: Any, labels: dict[str, str]) -> list[Any]:
    item, value, text, declined = row.item or "", row.value, row.text, bool(row.declined)
    label = ""
    if question.kind == "wordcloud" and item:
        # A word's item is its normalised key: the participant's own words, folded, so redacted too.
        item = redact(item)
    elif question.kind == "choice" and item:
        order = [o["id"] for o in question.config["options"]]
        value, label = order.index(item) + 1, labels.get(item, "")
    elif question.kind == "ranking" and item:
        label = labels.get(item, "")
    elif question.kind == "scale" and item:
        if value is None:
            declined = True
        else:
            label = _point_label(question.config, int(value))
    elif question.kind == "qa" and value == 1:
        label = "upvote"
    _, section = bundle.section(question) or (0, "")
    out = [
        bundle.pseudonym(row.participant_id),
        section,
        question.id,
        question.kind,
        item,
        "" if value is None else int(value),
        label,
        redact(text) if text else "",
        bundle.groups.get((question.id, row.participant_id), ""),
        "true" if declined else "false",
    ]
    if bundle.live.export_minutes:
        out.append(bundle.minutes(row.at))
    return out


async def responses_csv(db: AsyncSession, bundle: Bundle) -> AsyncIterator[str]:
    """responses.csv in chunks, straight from a streamed query."""
    yield _csv_text([responses_fields(bundle)])
    by_id = {q.id: q for q in bundle.questions}
    if not by_id:
        return
    labels = {q.id: _labels(q) for q in bundle.questions}
    stream = await db.stream(_responses_query(list(by_id)).execution_options(yield_per=BATCH_ROWS))
    async for batch in stream.partitions(BATCH_ROWS):
        yield _csv_text(
            _response_row(bundle, by_id[row.question_id], row, labels[row.question_id]) for row in batch
        )


# questions.csv (the codebook) ---------------------------------------------------------------------


def codebook_rows(bundle: Bundle) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for order, q in enumerate(bundle.questions, start=1):
        config = q.config
        place, title = bundle.section(q) or ("", "")
        base = [
            q.id,
            order,
            title,
            place,
            q.kind,
            q.prompt,
            "true" if config.get("multiple") else "false",
            config.get("points", ""),
            bundle.k,
        ]
        if q.kind == "scale":
            levels = "; ".join(
                f"{p}={_point_label(config, p)}" if _point_label(config, p) else str(p)
                for p in range(1, config["points"] + 1)
            )
            for i, s in enumerate(config["statements"], start=1):
                rows.append([*base, s["id"], s["text"], i, levels])
        elif q.kind in ("choice", "ranking"):
            levels = (
                "; ".join(f"{i}={o['label']}" for i, o in enumerate(config["options"], start=1))
                if q.kind == "choice"
                else f"1..{len(config['options'])} (rank; 1 = first)"
            )
            for i, o in enumerate(config["options"], start=1):
                rows.append([*base, o["id"], o["label"], i, levels])
        else:
            rows.append([*base, "", "", "", ""])
    return rows


# summary.csv ---------------------------------------------------------------------------------------


def _shown(value: int, k: int) -> Any:
    return SUPPRESSED if primary(value, k) else value


def _summary_rows(bundle: Bundle, question: Question, counted: polls_results.Stored) -> list[list[Any]]:
    k = bundle.k
    summary = counted.summary or {}
    n = counted.n
    declined = int(summary.get("declined", 0))
    blank = [""] * MAX_LEVELS
    total = [question.id, question.kind, "", "", _shown(n, k), _shown(declined, k), "", "", "", "", ""]
    rows: list[list[Any]] = [[*total, *blank]]
    if n < k:
        return rows  # below k: the question's total says so, and nothing inside it is shown
    labels = _labels(question)
    if question.kind == "choice":
        options = [o["id"] for o in question.config["options"]]
        values = [int(summary["counts"].get(o, 0)) for o in options]
        groups = [] if question.config.get("multiple") else [list(range(len(values)))]
        hidden = suppress(values, groups, k)
        for i, o in enumerate(options):
            count = SUPPRESSED if i in hidden else values[i]
            rows.append([question.id, "choice", o, labels[o], "", "", count, "", "", "", "", *blank])
    elif question.kind == "scale":
        points = question.config["points"]
        for s in question.config["statements"]:
            rows.append(_scale_row(question, s["id"], labels[s["id"]], summary, points, k))
    elif question.kind == "ranking":
        rows.extend(_ranking_rows(question, summary, labels, k))
    elif question.kind == "wordcloud":
        hidden_words = set(question.config.get("hidden_keys", ()))
        for w in summary.get("words", []):
            if w["count"] >= k and w["key"] not in hidden_words:
                word = [question.id, "wordcloud", redact(w["key"]), redact(w["text"]), "", "", w["count"]]
                rows.append([*word, "", "", "", "", *blank])
    return rows


def _scale_row(
    question: Question, sid: str, label: str, summary: dict[str, Any], points: int, k: int
) -> list[Any]:
    figures_in = summary["statements"].get(sid) or {}
    counts = [int((figures_in.get("counts") or {}).get(str(p), 0)) for p in range(1, points + 1)]
    n = sum(counts)
    declined = int(figures_in.get("declined") or 0)
    levels: list[Any] = [""] * MAX_LEVELS
    if n < k:
        for p in range(points):
            levels[p] = SUPPRESSED
        head = [question.id, "scale", sid, label, _shown(n, k), _shown(declined, k), ""]
        return [*head, SUPPRESSED, SUPPRESSED, SUPPRESSED, SUPPRESSED, *levels]
    hidden, show_figures = scale_row(counts, k)
    for p in range(points):
        levels[p] = SUPPRESSED if p in hidden else counts[p]
    shown = figures(counts) if show_figures else None
    stats = [shown.mean, shown.sd, shown.median, shown.top_two_pct] if shown is not None else [SUPPRESSED] * 4
    return [question.id, "scale", sid, label, n, _shown(declined, k), "", *stats, *levels]


def _ranking_rows(
    question: Question, summary: dict[str, Any], labels: dict[str, str], k: int
) -> list[list[Any]]:
    options = [o["id"] for o in question.config["options"]]
    places = len(options)
    table = [
        [int(summary["options"][o]["ranks"].get(str(p), 0)) for p in range(1, places + 1)] for o in options
    ]
    flat = [v for row in table for v in row]
    groups = [list(range(r * places, (r + 1) * places)) for r in range(len(options))]
    groups += [[r * places + p for r in range(len(options))] for p in range(places)]
    hidden = suppress(flat, groups, k)
    rows = []
    for r, o in enumerate(options):
        counts = table[r]
        row_hidden = {p for p in range(places) if r * places + p in hidden}
        levels: list[Any] = [""] * MAX_LEVELS
        for p in range(places):
            levels[p] = SUPPRESSED if p in row_hidden else counts[p]
        shown = figures(counts[::-1]) if not row_hidden else None
        # figures() reads points 1..P as ratings; ranks read the other way round (1 is best).
        if shown is not None:
            n = sum(counts)
            mean = sum((p + 1) * c for p, c in enumerate(counts)) / n
            top = (counts[0] + (counts[1] if places > 1 else 0)) / n * 100
            median = places + 1 - float(shown.median)
            stats: list[Any] = [f"{mean:.2f}", shown.sd, _num(median), f"{top:.1f}"]
        else:
            stats = [SUPPRESSED] * 4
        rows.append([question.id, "ranking", o, labels[o], sum(counts), "", "", *stats, *levels])
    return rows


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


async def summary_csv(db: AsyncSession, bundle: Bundle) -> AsyncIterator[str]:
    yield _csv_text([SUMMARY_FIELDS])
    for question in bundle.questions:
        # After purge the raw answers are gone: the final result stored at close is the summary.
        if bundle.live.purged_at is not None:
            counted = await polls_results.stored(db, question=question)
        else:
            counted = await polls_results.count(db, question)
        yield _csv_text(_summary_rows(bundle, question, counted))


# comments.csv and private_messages.csv -------------------------------------------------------------


async def comments_csv(db: AsyncSession, bundle: Bundle) -> AsyncIterator[str]:
    """Open entries, Q&A questions and comments (breakout notes join when they exist), redacted, in
    random order."""
    yield _csv_text([COMMENTS_FIELDS])
    kinds = {q.id: q.kind for q in bundle.questions}
    if not kinds:
        return
    votes = (
        select(func.count())
        .select_from(EntryVote)
        .where(col(EntryVote.entry_id) == col(Entry.id))
        .scalar_subquery()
    )
    stmt = (
        select(
            col(Entry.participant_id),
            col(Entry.question_id),
            col(Entry.id),
            col(Entry.comment),
            col(Entry.status),
            votes.label("votes"),
            col(Entry.text),
        )
        .where(col(Entry.question_id).in_(list(kinds)))
        .order_by(func.random())
        .execution_options(yield_per=BATCH_ROWS)
    )
    stream = await db.stream(stmt)
    async for batch in stream.partitions(BATCH_ROWS):
        yield _csv_text(
            [
                bundle.pseudonym(r.participant_id),
                r.question_id,
                "comment" if r.comment else kinds[r.question_id],
                r.id,
                r.status,
                r.votes if kinds[r.question_id] == "qa" and not r.comment else "",
                redact(r.text),
                "",
            ]
            for r in batch
        )
    # Breakout notes: their group, and their +1s as votes.
    plus = (
        select(func.count())
        .select_from(NotePlus)
        .where(col(NotePlus.note_id) == col(BreakoutNote.id))
        .scalar_subquery()
    )
    notes = (
        select(
            col(BreakoutNote.participant_id),
            col(BreakoutNote.id),
            col(BreakoutNote.text),
            col(BreakoutRound.question_id),
            col(BreakoutRound.number),
            col(BreakoutGroup.name),
            plus.label("plus"),
        )
        .join(BreakoutRound, col(BreakoutRound.id) == col(BreakoutNote.round_id))
        .join(BreakoutGroup, col(BreakoutGroup.id) == col(BreakoutNote.group_id))
        .where(col(BreakoutRound.session_id) == bundle.live.id)
        .order_by(func.random())
        .execution_options(yield_per=BATCH_ROWS)
    )
    stream = await db.stream(notes)
    async for batch in stream.partitions(BATCH_ROWS):
        yield _csv_text(
            [
                bundle.pseudonym(r.participant_id),
                r.question_id or "",
                "note",
                r.id,
                "",
                r.plus,
                redact(r.text),
                group_label(r.number, r.name),
            ]
            for r in batch
        )


async def private_messages_csv(db: AsyncSession, bundle: Bundle) -> AsyncIterator[str]:
    """Private messages to the research team (ETHICS 7), redacted, in random order, under the same
    pseudonyms as the other files of this bundle."""
    yield _csv_text([PRIVATE_MESSAGES_FIELDS])
    stmt = (
        select(col(PrivateMessage.participant_id), col(PrivateMessage.text))
        .where(col(PrivateMessage.session_id) == bundle.live.id)
        .order_by(func.random())
        .execution_options(yield_per=BATCH_ROWS)
    )
    stream = await db.stream(stmt)
    async for batch in stream.partitions(BATCH_ROWS):
        yield _csv_text([bundle.pseudonym(r.participant_id), redact(r.text)] for r in batch)


# The bundle ----------------------------------------------------------------------------------------


async def _one(text: str) -> AsyncIterator[str]:
    yield text


class _Sink(io.RawIOBase):
    """Where the zip is written: bytes gather here until the response takes them (not seekable, so
    zipfile writes each member's sizes after its data)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self.size = 0
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self.size += len(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        self.size = 0
        return out


def _member(name: str, made_on: date) -> zipfile.ZipInfo:
    # The bundle's date and no time of day, on every member as in the README.
    info = zipfile.ZipInfo(name, date_time=(made_on.year, made_on.month, made_on.day, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


async def stream_zip(database: Database, *, session_id: str) -> AsyncIterator[bytes]:
    """The whole bundle as a zip, in chunks, read in one read transaction (a consistent picture)."""
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED)
    async with database.read_session() as db:
        live = await db.get(LiveSession, session_id)
        if live is None:
            return
        bundle = await prepare(db, live=live)
        files = [
            ("README.txt", _one(bundle_text.readme(bundle.live, bundle.made_on))),
            ("questions.csv", _one(_csv_text([QUESTIONS_FIELDS, *codebook_rows(bundle)]))),
            ("responses.csv", responses_csv(db, bundle)),
            ("summary.csv", summary_csv(db, bundle)),
            ("comments.csv", comments_csv(db, bundle)),
            ("private_messages.csv", private_messages_csv(db, bundle)),
            (
                "datapackage.json",
                _one(json.dumps(bundle_text.datapackage(bundle), indent=2, ensure_ascii=False) + "\n"),
            ),
        ]
        for name, chunks in files:
            with archive.open(_member(name, bundle.made_on), "w", force_zip64=True) as member:
                async for text in chunks:
                    member.write(text.encode())
                    if sink.size >= CHUNK_BYTES:
                        yield sink.take()
    archive.close()
    yield sink.take()


async def stream_responses(database: Database, *, session_id: str) -> AsyncIterator[bytes]:
    """responses.csv alone (export.csv), in chunks."""
    async with database.read_session() as db:
        live = await db.get(LiveSession, session_id)
        if live is None:
            return
        bundle = await prepare(db, live=live)
        pending: list[str] = []
        size = 0
        async for text in responses_csv(db, bundle):
            pending.append(text)
            size += len(text)
            if size >= CHUNK_BYTES:
                yield "".join(pending).encode()
                pending, size = [], 0
        yield "".join(pending).encode()
