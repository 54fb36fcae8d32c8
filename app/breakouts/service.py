"""Breakout rounds: dealing groups, moving members, closing; notes, +1s and private messages; and the
k rule for per-group results (ETHICS 10).

Functions that change a round queue `breakouts.changed` (every process re-sends `round.state` to its
phones of the session, app/breakouts/live.py) and the console's `round.state` through the outbox, so
nothing is announced before it is committed."""

from __future__ import annotations

import math
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.breakouts.models import (
    BreakoutAttribution,
    BreakoutGroup,
    BreakoutMember,
    BreakoutNote,
    BreakoutRound,
    NotePlus,
    PrivateMessage,
    ReportBack,
)
from app.breakouts.schemas import (
    NOTE_MAX,
    PRIVATE_MAX,
    GroupPublic,
    MoveCreate,
    NotePublic,
    PrivateMessagePublic,
    ReportShow,
    RoundCreate,
    RoundPublic,
    RoundUpdate,
)
from app.db import new_id, rowcount, utcnow
from app.errors import AppError
from app.polls import aggregation
from app.polls import results as polls_results
from app.polls import service as polls_service
from app.polls.kinds import AnswerRejected
from app.polls.models import Question
from app.polls.schemas import ResultsPublic
from app.polls.text.free import clean_text
from app.realtime import channels, outbox
from app.sessions import sheet
from app.sessions.models import LiveSession, Participant
from app.withdrawal import joins_removal

_RANDOM = secrets.SystemRandom()
# Tiles: four characters that cannot be mistaken for one another (no 0/O, 1/I/L).
_TILE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def group_channel(session_id: str, group_id: str) -> str:
    return channels.breakout_group(session_id, group_id)


# Reading ------------------------------------------------------------------------------------------


async def eligible(db: AsyncSession, *, live: LiveSession) -> list[str]:
    """The session's participants who may answer: every one, or those who consented to the sheet."""
    query = select(col(Participant.id)).where(col(Participant.session_id) == live.id)
    if live.consent_version is not None:
        query = query.where(col(Participant.consent_version).is_not(None))
    return list(await db.scalars(query.order_by(col(Participant.created_at), col(Participant.id))))


async def open_round(db: AsyncSession, *, session_id: str) -> BreakoutRound | None:
    return (
        await db.scalars(
            select(BreakoutRound).where(
                col(BreakoutRound.session_id) == session_id, col(BreakoutRound.closed_at).is_(None)
            )
        )
    ).first()


async def latest_round(db: AsyncSession, *, session_id: str) -> BreakoutRound | None:
    return (
        await db.scalars(
            select(BreakoutRound)
            .where(col(BreakoutRound.session_id) == session_id)
            .order_by(col(BreakoutRound.number).desc())
            .limit(1)
        )
    ).first()


async def get_round(db: AsyncSession, *, live: LiveSession, round_id: str) -> BreakoutRound:
    found = await db.get(BreakoutRound, round_id)
    if found is None or found.session_id != live.id:
        raise AppError(404, "not_found", "This session has no such breakout round.")
    return found


async def groups_of(db: AsyncSession, round_id: str) -> list[BreakoutGroup]:
    return list(
        await db.scalars(
            select(BreakoutGroup)
            .where(col(BreakoutGroup.round_id) == round_id)
            .order_by(col(BreakoutGroup.position))
        )
    )


async def members_of(db: AsyncSession, round_id: str) -> list[BreakoutMember]:
    return list(
        await db.scalars(
            select(BreakoutMember)
            .where(col(BreakoutMember.round_id) == round_id)
            .order_by(col(BreakoutMember.tile))
        )
    )


async def notes_of(db: AsyncSession, group_ids: list[str]) -> dict[str, list[NotePublic]]:
    """Each group's board: its notes, oldest first, with their +1s."""
    if not group_ids:
        return {}
    plus = select(col(NotePlus.note_id), func.count().label("n")).group_by(col(NotePlus.note_id)).subquery()
    rows = await db.execute(
        select(col(BreakoutNote.id), col(BreakoutNote.group_id), col(BreakoutNote.text), plus.c.n)
        .outerjoin(plus, plus.c.note_id == col(BreakoutNote.id))
        .where(col(BreakoutNote.group_id).in_(group_ids))
        .order_by(col(BreakoutNote.created_at), col(BreakoutNote.id))
    )
    boards: dict[str, list[NotePublic]] = {g: [] for g in group_ids}
    for row in rows:
        boards[row.group_id].append(NotePublic(id=row.id, text=row.text, plus=row.n or 0))
    return boards


async def round_public(db: AsyncSession, found: BreakoutRound, *, detail: bool = False) -> RoundPublic:
    """The round as the API and the console show it: each group's size (and, with detail, its board
    and its members' anonymous tiles)."""
    groups = await groups_of(db, found.id)
    members = await members_of(db, found.id)
    by_group: dict[str | None, list[str]] = defaultdict(list)
    for member in members:
        by_group[member.group_id].append(member.tile)
    boards = await notes_of(db, [g.id for g in groups]) if detail else {}
    answered: dict[str | None, int] = {}
    if detail and found.question_id is not None:
        answered = await responded_by_group(db, found, found.question_id)
    return RoundPublic(
        id=found.id,
        number=found.number,
        mode=found.mode,
        open=found.open,
        ends_at=found.ends_at,
        auto_close=found.auto_close,
        prompt=found.prompt,
        prompt_html=sheet.render(found.prompt),
        question_id=found.question_id,
        cap=found.cap,
        groups=[
            GroupPublic(
                id=g.id,
                name=g.name,
                size=len(by_group[g.id]),
                link=g.link,
                notes=boards.get(g.id) if detail else None,
                members=by_group[g.id] if detail else None,
                answered=answered.get(g.id, 0) if detail and found.question_id is not None else None,
            )
            for g in groups
        ],
        plenary=len(by_group[None]),
        unplaced=by_group[None] if detail else None,
        plenary_answered=answered.get(None, 0) if detail and found.question_id is not None else None,
    )


def _respondents_placed(found: BreakoutRound, question_id: str) -> Any:
    """Each participant who gave the question anything (an answer, "prefer not to answer", an entry, a
    vote, a comment) with the group of this round they gave it in (null: the main room, including those
    with no attribution, who answered before the round)."""
    anyone = aggregation.respondents(question_id, comments=True)
    return (
        select(anyone.c.participant_id, col(BreakoutAttribution.group_id))
        .select_from(anyone)
        .outerjoin(
            BreakoutAttribution,
            (col(BreakoutAttribution.question_id) == question_id)
            & (col(BreakoutAttribution.participant_id) == anyone.c.participant_id)
            & (col(BreakoutAttribution.round_id) == found.id),
        )
    )


async def responded_by_group(
    db: AsyncSession, found: BreakoutRound, question_id: str
) -> dict[str | None, int]:
    """How many responded to the question in each group of the round (None: from the main room), where
    they were when they responded (app/breakouts/attribution.py): one GROUP BY."""
    placed = _respondents_placed(found, question_id).subquery()
    rows = await db.execute(select(placed.c.group_id, func.count()).group_by(placed.c.group_id))
    return {group_id: n for group_id, n in rows.all()}


async def list_rounds(db: AsyncSession, *, live: LiveSession) -> list[RoundPublic]:
    rounds = await db.scalars(
        select(BreakoutRound)
        .where(col(BreakoutRound.session_id) == live.id)
        .order_by(col(BreakoutRound.number))
    )
    return [await round_public(db, r) for r in rounds]


# Announcing ---------------------------------------------------------------------------------------


def queue_changed(db: AsyncSession, session_id: str) -> None:
    """After commit: every process re-sends `round.state` to its phones of the session whose round or
    group changed (app/breakouts/live.py)."""
    outbox.add(db, (channels.BREAKOUTS_CHANGED,), "breakouts.changed", {"session_id": session_id})


async def queue_console_state(db: AsyncSession, found: BreakoutRound) -> None:
    """After commit: the console's `round.state`, with every group's size."""
    shown = await round_public(db, found)
    outbox.add(
        db,
        (channels.console(found.session_id),),
        "round.state",
        {"round": shown.model_dump(mode="json")},
        seq_key=found.session_id,
    )


# Starting a round ---------------------------------------------------------------------------------


def _fields(**fields: str) -> AppError:
    return AppError(
        422, "invalid", "Some fields do not fit this kind of round; see error.fields.", fields=fields
    )


def deal(participant_ids: list[str], groups: int) -> list[list[str]]:
    """Shuffle and deal round-robin: sizes differ by at most one."""
    shuffled = list(participant_ids)
    _RANDOM.shuffle(shuffled)
    return [shuffled[i::groups] for i in range(groups)]


def _tiles(count: int) -> list[str]:
    tiles: set[str] = set()
    while len(tiles) < count:
        tiles.add("".join(_RANDOM.choice(_TILE_ALPHABET) for _ in range(4)))
    out = list(tiles)
    _RANDOM.shuffle(out)
    return out


async def _check_question(db: AsyncSession, live: LiveSession, question_id: str | None) -> None:
    if question_id is None:
        return
    question = await db.get(Question, question_id)
    if question is None or question.session_id != live.id:
        raise _fields(question_id="not a question of this session")


async def _refuse_asked_before(db: AsyncSession, question_id: str) -> None:
    """A question is the group question of one round only: each answer counts in the group it was given
    in (ETHICS 10), and the same answers cannot count again in another round's groups."""
    earlier = await db.scalar(
        select(func.min(col(BreakoutRound.number))).where(col(BreakoutRound.question_id) == question_id)
    )
    if earlier is not None:
        raise AppError(
            409,
            "question_in_round",
            f"This question was the group question of round {earlier}. To give it to this round, close "
            'it, press "Ask again as a new question" and choose the copy: each answer counts in the group '
            "it was given in, so the same answers cannot be counted again in new groups.",
            fields={"question_id": f"already the group question of round {earlier}; ask it again as new"},
        )


async def start_round(db: AsyncSession, *, live: LiveSession, body: RoundCreate) -> BreakoutRound:
    """Deal the session's participants who may answer into groups (or, self-select, let them choose)."""
    if live.closed:
        raise AppError(409, "session_closed", "The session is closed; it takes no breakout rounds.")
    if await open_round(db, session_id=live.id) is not None:
        raise AppError(
            409, "round_open", "A breakout round is already running; close it before starting another."
        )
    await _check_question(db, live, body.question_id)
    if body.question_id is not None:
        await _refuse_asked_before(db, body.question_id)
    people = await eligible(db, live=live)
    kept: BreakoutRound | None = None
    kept_groups: list[BreakoutGroup] = []
    kept_members: dict[str, str] = {}
    if body.keep_groups_of is not None:
        kept = await db.get(BreakoutRound, body.keep_groups_of)
        if kept is None or kept.session_id != live.id:
            raise _fields(keep_groups_of="not a round of this session")
        if body.groups is not None or body.group_size is not None:
            raise _fields(keep_groups_of="keeping the groups takes neither `groups` nor `group_size`")
        kept_groups = await groups_of(db, kept.id)
        kept_members = {m.participant_id: m.group_id for m in await members_of(db, kept.id) if m.group_id}
        names = body.names or [g.name for g in kept_groups]
        if len(names) != len(kept_groups):
            raise _fields(names=f"keeping {len(kept_groups)} groups needs as many names")
        count = len(kept_groups)
    elif body.mode == "self":
        if not body.names:
            raise _fields(names="a self-select round needs the groups' names")
        if body.groups is not None or body.group_size is not None:
            raise _fields(mode="a self-select round takes `names`, not `groups` or `group_size`")
        names = body.names
        count = len(names)
    else:
        if (body.groups is None) == (body.group_size is None):
            raise _fields(groups="give either `groups` (how many) or `group_size` (people a group)")
        if body.cap is not None:
            raise _fields(cap="a cap is for self-select rounds")
        count = body.groups if body.groups is not None else math.ceil(len(people) / (body.group_size or 1))
        names = body.names or [f"Group {i + 1}" for i in range(count)]
        if len(names) != count:
            raise _fields(names=f"give {count} names, one a group, or none")
    if len(set(n.casefold() for n in names)) != len(names):
        raise _fields(names="two groups have the same name")
    links = body.links or []
    if len(links) > count:
        raise _fields(links=f"at most one link a group ({count})")
    if body.mode != "self" and count > len(people):
        raise AppError(
            409,
            "too_many_groups",
            f"There are {len(people)} participants who may answer, too few for {count} groups; "
            "ask for fewer groups.",
        )
    if not people:
        raise AppError(409, "too_many_groups", "No participant has joined yet; there is no one to split.")
    number = await latest_round(db, session_id=live.id)
    started = BreakoutRound(
        session_id=live.id,
        number=(number.number + 1) if number is not None else 1,
        mode=body.mode,
        prompt=body.prompt,
        question_id=body.question_id,
        cap=body.cap,
        auto_close=body.auto_close,
        ends_at=utcnow() + timedelta(seconds=body.seconds) if body.seconds else None,
    )
    db.add(started)
    # No ORM relationships: flush each level before the rows that point at it.
    await db.flush()
    groups = [
        BreakoutGroup(
            round_id=started.id,
            position=i,
            name=name,
            link=(links[i] or None) if i < len(links) else (kept_groups[i].link if kept else None),
        )
        for i, name in enumerate(names)
    ]
    db.add_all(groups)
    await db.flush()
    tiles = iter(_tiles(len(people)))
    if kept is not None:
        position = {g.id: i for i, g in enumerate(kept_groups)}
        dealt: list[list[str]] = [[] for _ in groups]
        newcomers = []
        for pid in people:
            old = kept_members.get(pid)
            if old is not None:
                dealt[position[old]].append(pid)
            else:
                newcomers.append(pid)
        for pid in newcomers:
            min(dealt, key=len).append(pid)
    elif body.mode == "self":
        dealt = []
    else:
        dealt = deal(people, count)
    placed: set[str] = set()
    for group, pids in zip(groups, dealt, strict=False):
        for pid in pids:
            db.add(
                BreakoutMember(round_id=started.id, participant_id=pid, group_id=group.id, tile=next(tiles))
            )
            placed.add(pid)
    for pid in people:
        if pid not in placed:
            db.add(BreakoutMember(round_id=started.id, participant_id=pid, group_id=None, tile=next(tiles)))
    await db.flush()
    queue_changed(db, live.id)
    await queue_console_state(db, started)
    return started


# Changing a round ---------------------------------------------------------------------------------


def _refuse_closed(found: BreakoutRound) -> None:
    if not found.open:
        raise AppError(409, "round_closed", "This breakout round is closed; start a new one instead.")


async def update_round(db: AsyncSession, *, found: BreakoutRound, body: RoundUpdate) -> None:
    """Close, add time, broadcast."""
    _refuse_closed(found)
    now = utcnow()
    if body.add_seconds is not None:
        start = found.ends_at if found.ends_at is not None and found.ends_at > now else now
        found.ends_at = max(now, start + timedelta(seconds=body.add_seconds))
    if body.broadcast is not None:
        group_ids = [g.id for g in await groups_of(db, found.id)]
        message = {"round_id": found.id, "text": body.broadcast}
        outbox.add(
            db,
            (*(group_channel(found.session_id, g) for g in group_ids), channels.console(found.session_id)),
            "round.message",
            message,
            seq_key=found.session_id,
        )
    if body.open is False:
        closed = rowcount(
            await db.execute(
                update(BreakoutRound)
                .where(col(BreakoutRound.id) == found.id, col(BreakoutRound.closed_at).is_(None))
                .values(closed_at=now)
            )
        )
        if not closed:
            raise AppError(409, "round_closed", "This breakout round is closed already.")
        found.closed_at = now
    db.add(found)
    await db.flush()
    if body.add_seconds is not None or body.open is False:
        queue_changed(db, found.session_id)
        await queue_console_state(db, found)


async def close_expired(db: AsyncSession) -> list[BreakoutRound]:
    """Close the rounds whose countdown reached zero with `auto_close`; call inside a transaction."""
    now = utcnow()
    due = list(
        await db.scalars(
            select(BreakoutRound).where(
                col(BreakoutRound.closed_at).is_(None),
                col(BreakoutRound.auto_close).is_(True),
                col(BreakoutRound.ends_at) <= now,
            )
        )
    )
    closed = []
    for found in due:
        done = rowcount(
            await db.execute(
                update(BreakoutRound)
                .where(col(BreakoutRound.id) == found.id, col(BreakoutRound.closed_at).is_(None))
                .values(closed_at=now)
            )
        )
        if done:
            found.closed_at = now
            closed.append(found)
            queue_changed(db, found.session_id)
            await queue_console_state(db, found)
    return closed


async def move(db: AsyncSession, *, found: BreakoutRound, body: MoveCreate) -> None:
    """Move a member (by tile) to a group of the round, or to the plenary (group null)."""
    _refuse_closed(found)
    member = (
        await db.scalars(
            select(BreakoutMember).where(
                col(BreakoutMember.round_id) == found.id, col(BreakoutMember.tile) == body.tile
            )
        )
    ).first()
    if member is None:
        raise AppError(404, "unknown_tile", "No member of this round has that tile.")
    if body.group_id is not None:
        group = await db.get(BreakoutGroup, body.group_id)
        if group is None or group.round_id != found.id:
            raise AppError(404, "unknown_group", "This round has no such group.")
    member.group_id = body.group_id
    member.declined = False
    db.add(member)
    await db.flush()
    queue_changed(db, found.session_id)
    await queue_console_state(db, found)


async def place(db: AsyncSession, *, session_id: str, participant_id: str) -> BreakoutRound | None:
    """A participant who may now answer (joined or consented late) goes to the smallest group of the
    open round at once (self-select: to the plenary, free to choose). The round when one was changed."""
    found = await open_round(db, session_id=session_id)
    if found is None:
        return None
    existing = await db.get(BreakoutMember, (found.id, participant_id))
    if existing is not None:
        return None
    group_id = None
    if found.mode != "self":
        group_id = await _smallest_group(db, found)
    taken = set(
        await db.scalars(select(col(BreakoutMember.tile)).where(col(BreakoutMember.round_id) == found.id))
    )
    tile = _tiles(1)[0]
    while tile in taken:
        tile = _tiles(1)[0]
    db.add(BreakoutMember(round_id=found.id, participant_id=participant_id, group_id=group_id, tile=tile))
    await db.flush()
    queue_changed(db, session_id)
    await queue_console_state(db, found)
    return found


async def _smallest_group(db: AsyncSession, found: BreakoutRound) -> str | None:
    sizes = await _sizes(db, found.id)
    groups = await groups_of(db, found.id)
    if not groups:
        return None
    return min(groups, key=lambda g: (sizes.get(g.id, 0), g.position)).id


async def _sizes(db: AsyncSession, round_id: str) -> dict[str, int]:
    rows = await db.execute(
        select(col(BreakoutMember.group_id), func.count())
        .where(col(BreakoutMember.round_id) == round_id, col(BreakoutMember.group_id).is_not(None))
        .group_by(col(BreakoutMember.group_id))
    )
    return {group_id: n for group_id, n in rows.all() if group_id is not None}


# What phones do -----------------------------------------------------------------------------------


class Refused(Exception):
    """A phone's message refused, nothing recorded: a code and a sentence."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Membership:
    round: BreakoutRound
    member: BreakoutMember


async def _participant(
    db: AsyncSession, session_id: str, participant_id: str
) -> tuple[LiveSession, Participant]:
    live = await db.get(LiveSession, session_id)
    participant = await db.get(Participant, participant_id)
    if live is None or participant is None or participant.session_id != session_id:
        raise Refused("not_participant", "You are no longer in this session; join again with the code.")
    if live.consent_version is not None and participant.consent_version is None:
        raise Refused("consent_required", "Read the information sheet and agree to it first.")
    return live, participant


async def _membership(db: AsyncSession, session_id: str, participant_id: str, round_id: str) -> Membership:
    await _participant(db, session_id, participant_id)
    found = await db.get(BreakoutRound, round_id)
    if found is None or found.session_id != session_id:
        raise Refused("unknown_round", "That breakout round is not part of this session.")
    if not found.open:
        raise Refused("round_closed", "This breakout round is closed.")
    member = await db.get(BreakoutMember, (round_id, participant_id))
    if member is None:
        raise Refused("not_in_round", "You are not in this breakout round.")
    return Membership(found, member)


def _clean(text: str, limit: int) -> str:
    try:
        return clean_text(text, limit=limit)
    except AnswerRejected as rejected:
        raise Refused(rejected.code, rejected.message) from None


async def add_note(
    db: AsyncSession, *, session_id: str, participant_id: str, client_id: str, round_id: str, text: str
) -> BreakoutNote | None:
    """A note on the participant's group board; None when this id was committed before (a replay)."""
    if await _replayed(db, BreakoutNote, participant_id, client_id):
        return None
    cleaned = _clean(text, NOTE_MAX)
    membership = await _membership(db, session_id, participant_id, round_id)
    if membership.member.group_id is None:
        raise Refused("not_in_group", "You are in the plenary, not in a group of this round.")
    note = BreakoutNote(
        round_id=round_id,
        group_id=membership.member.group_id,
        participant_id=participant_id,
        client_id=client_id,
        text=cleaned,
    )
    db.add(note)
    await db.flush()
    shown = {"id": note.id, "text": note.text, "plus": 0}
    outbox.add(db, (group_channel(session_id, note.group_id),), "note.new", shown, seq_key=session_id)
    outbox.add(
        db,
        (channels.console(session_id),),
        "note.new",
        {"round_id": round_id, "group_id": note.group_id, **shown},
        seq_key=session_id,
    )
    return note


async def add_plus(
    db: AsyncSession, *, session_id: str, participant_id: str, client_id: str, note_id: str
) -> None:
    """+1 a note of one's own group, once."""
    if await _replayed(db, NotePlus, participant_id, client_id):
        return
    note = await db.get(BreakoutNote, note_id)
    if note is None:
        await _participant(db, session_id, participant_id)
        raise Refused("unknown_note", "That note is not on your group's board.")
    membership = await _membership(db, session_id, participant_id, note.round_id)
    if membership.member.group_id != note.group_id:
        raise Refused("unknown_note", "That note is not on your group's board.")
    if note.participant_id == participant_id:
        raise Refused("own_note", "That note is yours; +1 other people's notes.")
    if await db.get(NotePlus, (note_id, participant_id)) is not None:
        raise Refused("already_plussed", "You have already given this note a +1.")
    db.add(NotePlus(note_id=note_id, participant_id=participant_id, client_id=client_id))
    await db.flush()
    plus = int(await db.scalar(select(func.count()).where(col(NotePlus.note_id) == note_id)) or 0)
    outbox.add(
        db,
        (group_channel(session_id, note.group_id),),
        "note.plus",
        {"id": note_id, "plus": plus},
        seq_key=session_id,
    )
    outbox.add(
        db,
        (channels.console(session_id),),
        "note.plus",
        {"round_id": note.round_id, "group_id": note.group_id, "id": note_id, "plus": plus},
        seq_key=session_id,
    )


async def choose(
    db: AsyncSession, *, session_id: str, participant_id: str, round_id: str, group_id: str
) -> None:
    """Self-select: join a group of the round, unless it is full."""
    membership = await _membership(db, session_id, participant_id, round_id)
    found = membership.round
    if found.mode != "self":
        raise Refused("not_self_select", "In this round the facilitator makes the groups.")
    group = await db.get(BreakoutGroup, group_id)
    if group is None or group.round_id != round_id:
        raise Refused("unknown_group", "That group is not part of this round.")
    if membership.member.group_id == group_id:
        return
    if found.cap is not None and (await _sizes(db, round_id)).get(group_id, 0) >= found.cap:
        raise Refused("group_full", f"{group.name} is full ({found.cap} people); choose another group.")
    membership.member.group_id = group_id
    membership.member.declined = False
    db.add(membership.member)
    await db.flush()
    queue_changed(db, session_id)
    await queue_console_state(db, found)


async def decline(db: AsyncSession, *, session_id: str, participant_id: str, round_id: str) -> None:
    """Stay in the plenary for this round (ETHICS 6)."""
    membership = await _membership(db, session_id, participant_id, round_id)
    if membership.member.declined:
        return
    membership.member.group_id = None
    membership.member.declined = True
    db.add(membership.member)
    await db.flush()
    queue_changed(db, session_id)
    await queue_console_state(db, membership.round)


async def rejoin(db: AsyncSession, *, session_id: str, participant_id: str, round_id: str) -> None:
    """Undo a decline: a dealt round puts the participant in its smallest group; self-select lets them
    choose again."""
    membership = await _membership(db, session_id, participant_id, round_id)
    if membership.member.group_id is not None:
        return
    membership.member.declined = False
    if membership.round.mode != "self":
        membership.member.group_id = await _smallest_group(db, membership.round)
    db.add(membership.member)
    await db.flush()
    queue_changed(db, session_id)
    await queue_console_state(db, membership.round)


async def add_private(
    db: AsyncSession, *, session_id: str, participant_id: str, client_id: str, text: str
) -> PrivateMessage | None:
    """A private message to the session's facilitators and researchers (ETHICS 7): to the consoles,
    never a presenter. None when this id was committed before."""
    if await _replayed(db, PrivateMessage, participant_id, client_id):
        return None
    cleaned = _clean(text, PRIVATE_MAX)
    await _participant(db, session_id, participant_id)
    message = PrivateMessage(
        session_id=session_id, participant_id=participant_id, client_id=client_id, text=cleaned
    )
    db.add(message)
    await db.flush()
    outbox.add(
        db,
        (channels.console(session_id),),
        "private.new",
        private_public(message).model_dump(mode="json"),
        seq_key=session_id,
    )
    return message


def private_public(message: PrivateMessage) -> PrivateMessagePublic:
    return PrivateMessagePublic(id=message.id, text=message.text, at=message.created_at)


async def private_messages(db: AsyncSession, *, live: LiveSession) -> list[PrivateMessagePublic]:
    rows = await db.scalars(
        select(PrivateMessage)
        .where(col(PrivateMessage.session_id) == live.id)
        .order_by(col(PrivateMessage.created_at).desc(), col(PrivateMessage.id))
    )
    return [private_public(m) for m in rows]


async def _replayed(db: AsyncSession, model: Any, participant_id: str, client_id: str) -> bool:
    """Whether this (participant, message id) was committed before: its first reply (an ack) again."""
    found = await db.scalar(
        select(func.count()).where(
            col(model.participant_id) == participant_id, col(model.client_id) == client_id
        )
    )
    return bool(found)


# The phone's view -----------------------------------------------------------------------------------


async def phone_states(
    db: AsyncSession, *, session_id: str, participant_ids: set[str]
) -> dict[str, dict[str, Any]]:
    """`round.state` data for each of these participants (one read for them all)."""
    found = await open_round(db, session_id=session_id)
    if found is None:
        return {pid: {"round": None} for pid in participant_ids}
    groups = {g.id: g for g in await groups_of(db, found.id)}
    members = {
        m.participant_id: m
        for m in await db.scalars(
            select(BreakoutMember).where(
                col(BreakoutMember.round_id) == found.id,
                col(BreakoutMember.participant_id).in_(participant_ids),
            )
        )
    }
    wanted = sorted({m.group_id for m in members.values() if m.group_id is not None})
    boards = await notes_of(db, wanted)
    question = await db.get(Question, found.question_id) if found.question_id else None
    question_shown = (
        polls_service.question_public(question, facilitator=False)
        if question is not None and question.session_id == session_id
        else None
    )
    choosing: list[dict[str, Any]] | None = None
    if found.mode == "self":
        sizes = await _sizes(db, found.id)
        choosing = [
            {
                "id": g.id,
                "name": g.name,
                "full": found.cap is not None and sizes.get(g.id, 0) >= found.cap,
            }
            for g in groups.values()
        ]
    base = {
        "id": found.id,
        "number": found.number,
        "prompt": found.prompt,
        "prompt_html": sheet.render(found.prompt),
        "ends_at": found.ends_at.isoformat().replace("+00:00", "Z") if found.ends_at else None,
        "question": question_shown,
    }
    states: dict[str, dict[str, Any]] = {}
    for pid in participant_ids:
        member = members.get(pid)
        if member is None:
            states[pid] = {"round": None}
            continue
        group = groups.get(member.group_id) if member.group_id else None
        shown: dict[str, Any] = {
            **base,
            "declined": member.declined,
            "group": None
            if group is None
            else {
                "id": group.id,
                "name": group.name,
                "link": group.link,
                "notes": [n.model_dump() for n in boards.get(group.id, [])],
                "mine": [],
            },
        }
        if choosing is not None and group is None and not member.declined:
            shown["groups"] = choosing
        states[pid] = {"round": shown}
    if wanted:
        mine = await db.execute(
            select(col(BreakoutNote.participant_id), col(BreakoutNote.id)).where(
                col(BreakoutNote.group_id).in_(wanted), col(BreakoutNote.participant_id).in_(participant_ids)
            )
        )
        plussed = await db.execute(
            select(col(NotePlus.participant_id), col(NotePlus.note_id))
            .join(BreakoutNote, col(BreakoutNote.id) == col(NotePlus.note_id))
            .where(col(BreakoutNote.group_id).in_(wanted), col(NotePlus.participant_id).in_(participant_ids))
        )
        for pid, note_id in mine.all():
            group = states[pid]["round"]["group"]
            if group is not None:
                group["mine"].append(note_id)
        for pid, note_id in plussed.all():
            group = states[pid]["round"]["group"]
            if group is not None:
                group.setdefault("plussed", []).append(note_id)
    return states


# Per-group results (ETHICS 10) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupResults:
    """The session's roll-up, and each group's result or, when any group is under k, none and why."""

    rollup: ResultsPublic
    groups: list[tuple[BreakoutGroup, ResultsPublic]]
    reason: dict[str, str] | None


async def group_results(
    db: AsyncSession, *, live: LiveSession, question: Question, found: BreakoutRound
) -> GroupResults:
    """Per-group results only for the round's own question, once it is closed (exact; an open question's
    bars would move with each member's tap, ETHICS 9), and only when every group of the round has at
    least k answers and the main room (everyone who responded in no group) has none or at least k
    (ETHICS 10: else a small group, or the main room, could be read by subtracting the rest from the
    roll-up).

    The same holds one level down, for each part of a result with its own k (a word, a scale statement,
    the comments): one that some group or the main room holds 1..k-1 of is hidden in every group's
    result (`_withheld`). The roll-up keeps its own rule.

    An answer counts in the group its author was in when they gave it (app/breakouts/attribution.py),
    never where they are now: a move between two reads changes no group's result."""
    k = live.min_group
    rollup = await polls_results.shown(db, question=question, k=k)
    if found.question_id != question.id:
        return GroupResults(
            rollup,
            [],
            {
                "code": "not_round_question",
                "message": "Results by group are kept for the round's own question only: an answer counts "
                "in the group it was given in, and this question was not asked in this round's groups. To "
                "see a question by group, ask it (again, as a new question) as a round's question.",
            },
        )
    if not question.is_closed:
        return GroupResults(
            rollup,
            [],
            {
                "code": "question_open",
                "message": "Group results show once the question is closed: while it is open, a group's "
                "result would move with each member's answer.",
            },
        )
    groups = await groups_of(db, found.id)
    by_group: dict[str | None, set[str]] = defaultdict(set)
    for participant_id, group_id in (await db.execute(_respondents_placed(found, question.id))).all():
        by_group[group_id].add(participant_id)
    counted: list[tuple[BreakoutGroup, polls_results.Stored]] = []
    for group in groups:
        with aggregation.only_participants(frozenset(by_group[group.id])):
            counted.append((group, await polls_results.count(db, question)))
    below = sum(1 for _, result in counted if result.n < k)
    if below:
        return GroupResults(
            rollup,
            [],
            {
                "code": "group_below_k",
                "message": f"{below} of {len(groups)} groups have fewer than {k} answers, so no group's "
                "result "
                "is shown, only the whole session's: a small group could otherwise be worked out by "
                "subtracting the others from the total.",
            },
        )
    # The main room is one more group for the k rule: the roll-up minus every group is its answers.
    rest = by_group[None]
    parts = [result for _, result in counted]
    if rest:
        with aggregation.only_participants(frozenset(rest)):
            parts.append(await polls_results.count(db, question))
        if parts[-1].n < k:
            return GroupResults(
                rollup,
                [],
                {
                    "code": "rest_below_k",
                    "message": f"The main room gave fewer than {k} answers (people in no group, and "
                    "answers given before the round started or after it closed), so no group's result is "
                    "shown, only the whole session's: the main room's answers could otherwise be worked "
                    "out by subtracting the groups from the total. Group results show when no one "
                    f"responds from the main room, or at least {k} do.",
                },
            )
    withheld = _withheld(question, k, await polls_results.count(db, question), parts)
    now = await polls_results.entries_now(db, question)
    return GroupResults(
        rollup,
        [
            (g, polls_results.present(question, polls_results.withhold(question, r, withheld), k=k, now=now))
            for g, r in counted
        ],
        None,
    )


def _withheld(
    question: Question, k: int, total: polls_results.Stored, parts: list[polls_results.Stored]
) -> set[polls_results.Part]:
    """The parts of the result with their own k (a word, a statement, the comments) to hide in every
    group: those that a part of the room (`parts`: each group, and the main room if anyone responded
    there) holds 1..k-1 of. Shown in the others, such a part would be the exact total minus them.

    A part's summary may leave an item out (a word used by fewer than 3 is not stored, and no k shows
    it): what the total holds beyond the parts' counts is then in such a part, so fewer than k there."""
    totals = polls_results.own_k(question, total)
    counts = [polls_results.own_k(question, part) for part in parts]
    withheld: set[polls_results.Part] = set()
    for item in set(totals).union(*counts):
        known = [each[item] for each in counts if item in each]
        if totals.get(item, 0) != sum(known) or any(0 < n < k for n in known):
            withheld.add(item)
    return withheld


@joins_removal
async def remove_round_rows(db: AsyncSession, participant_id: str) -> None:
    """Withdrawal and declining: the participant's notes, +1s, memberships, the places their answers
    were given (attributions) and private messages go (the foreign keys would cascade too; explicit, so
    the order is sure on every dialect). Phones and consoles are sent the round again without them,
    consoles are told which private messages to drop (`private.removed`), and presenters whose
    report-back shows a note the participant wrote or +1'd are sent it again without them."""
    participant = await db.get(Participant, participant_id)
    if participant is None:
        return  # nothing of theirs can be left: every row here has a foreign key to the participant
    session_id = participant.session_id
    member = await db.scalar(select(func.count()).where(col(BreakoutMember.participant_id) == participant_id))
    own = set(
        await db.scalars(
            select(col(BreakoutNote.id)).where(col(BreakoutNote.participant_id) == participant_id)
        )
    )
    plussed = set(
        await db.scalars(select(col(NotePlus.note_id)).where(col(NotePlus.participant_id) == participant_id))
    )
    touched_groups = set(
        await db.scalars(select(col(BreakoutNote.group_id)).where(col(BreakoutNote.id).in_(own | plussed)))
    )
    messages = list(
        await db.scalars(
            select(col(PrivateMessage.id)).where(col(PrivateMessage.participant_id) == participant_id)
        )
    )
    await db.execute(delete(NotePlus).where(col(NotePlus.participant_id) == participant_id))
    await db.execute(delete(NotePlus).where(col(NotePlus.note_id).in_(own)))
    await db.execute(delete(BreakoutNote).where(col(BreakoutNote.participant_id) == participant_id))
    await db.execute(delete(BreakoutMember).where(col(BreakoutMember.participant_id) == participant_id))
    await db.execute(
        delete(BreakoutAttribution).where(col(BreakoutAttribution.participant_id) == participant_id)
    )
    await db.execute(delete(PrivateMessage).where(col(PrivateMessage.participant_id) == participant_id))
    if messages:
        outbox.add(
            db,
            (channels.console(session_id),),
            "private.removed",
            {"ids": sorted(messages)},
            seq_key=session_id,
        )
    if own or plussed:
        await _report_again(db, session_id, own=own, plussed=plussed, groups=touched_groups)
    if member:
        queue_changed(db, session_id)
        found = await open_round(db, session_id=session_id) or await latest_round(db, session_id=session_id)
        if found is not None:
            await queue_console_state(db, found)


async def _report_again(
    db: AsyncSession, session_id: str, *, own: set[str], plussed: set[str], groups: set[str]
) -> None:
    """After a participant's notes and +1s were deleted: when the presenters' report-back shows a board
    of one of their groups, or chosen notes among those they wrote or +1'd, send it again without them
    (chosen notes they wrote leave the choice; none left clears the screen)."""
    kept = await db.get(ReportBack, session_id, with_for_update=True)
    live = await db.get(LiveSession, session_id)
    if kept is None or live is None:
        return
    request = ReportShow.model_validate(kept.request)
    if request.show == "board" and request.group_id in groups:
        pass
    elif request.show == "notes" and set(request.note_ids or ()) & (own | plussed):
        chosen = [n for n in request.note_ids or () if n not in own]
        # Only notes still there (a purge deletes notes without passing here).
        there = set(await db.scalars(select(col(BreakoutNote.id)).where(col(BreakoutNote.id).in_(chosen))))
        chosen = [n for n in chosen if n in there]
        request = ReportShow(show="notes", note_ids=chosen) if chosen else ReportShow(show=None)
    else:
        return
    try:
        await show_report(db, live=live, body=request)
    except AppError:
        # What was shown cannot be shown again (its round or group went): clear the screen rather
        # than fail the withdrawal.
        await show_report(db, live=live, body=ReportShow(show=None))


# Report-back ----------------------------------------------------------------------------------------


async def show_report(db: AsyncSession, *, live: LiveSession, body: ReportShow) -> dict[str, Any]:
    """Show report-back on the session's presenters (and consoles) after commit, and keep the request
    (ids only) so that a withdrawal can show it again without the participant's notes."""
    shown = await report(db, live=live, body=body)
    kept = await db.get(ReportBack, live.id, with_for_update=True)
    if body.show is None:
        if kept is not None:
            await db.delete(kept)
    else:
        request = body.model_dump(mode="json", exclude_none=True)
        if kept is None:
            db.add(ReportBack(session_id=live.id, request=request))
        else:
            kept.request = request
            db.add(kept)
    await db.flush()
    outbox.add(db, (channels.presenters(live.id),), "report.show", shown, seq_key=live.id)
    return shown


async def report(db: AsyncSession, *, live: LiveSession, body: ReportShow) -> dict[str, Any]:
    """What the presenter shows for report-back (see the route)."""
    if body.show is None:
        return {"show": None}
    if body.show == "notes":
        if not body.note_ids:
            raise _fields(note_ids="choose at least one note")
        rows = (
            await db.execute(
                select(BreakoutNote, col(BreakoutGroup.name))
                .join(BreakoutGroup, col(BreakoutGroup.id) == col(BreakoutNote.group_id))
                .join(BreakoutRound, col(BreakoutRound.id) == col(BreakoutNote.round_id))
                .where(col(BreakoutNote.id).in_(body.note_ids), col(BreakoutRound.session_id) == live.id)
            )
        ).all()
        if len(rows) != len(set(body.note_ids)):
            raise AppError(
                404, "unknown_note", "A chosen note is not part of this session (or was withdrawn)."
            )
        boards = await notes_of(db, list({note.group_id for note, _ in rows}))
        plus = {n.id: n.plus for board in boards.values() for n in board}
        order = {note_id: i for i, note_id in enumerate(body.note_ids)}
        return {
            "show": "notes",
            "notes": [
                {"id": note.id, "text": note.text, "plus": plus.get(note.id, 0), "group": name}
                for note, name in sorted(rows, key=lambda row: order[row[0].id])
            ],
        }
    if body.round_id is None:
        raise _fields(round_id=f"showing {body.show} needs the round")
    found = await get_round(db, live=live, round_id=body.round_id)
    if body.show == "board":
        if body.group_id is None:
            raise _fields(group_id="showing a board needs the group")
        group = await db.get(BreakoutGroup, body.group_id)
        if group is None or group.round_id != found.id:
            raise AppError(404, "unknown_group", "This round has no such group.")
        board = (await notes_of(db, [group.id]))[group.id]
        return {
            "show": "board",
            "round_id": found.id,
            "group": {"id": group.id, "name": group.name, "notes": [n.model_dump() for n in board]},
        }
    if found.question_id is None:
        raise AppError(409, "round_has_no_question", "This round has no group question to show results of.")
    question = await db.get(Question, found.question_id)
    if question is None:
        raise AppError(404, "not_found", "The round's question was deleted.")
    results = await group_results(db, live=live, question=question, found=found)
    return {
        "show": "results",
        "round_id": found.id,
        "question": polls_service.question_public(question, facilitator=True),
        "rollup": results.rollup.data(),
        "groups": None
        if results.reason is not None
        else [{"id": g.id, "name": g.name, "result": r.data()} for g, r in results.groups],
        "reason": results.reason,
    }


async def eligible_ids(db: AsyncSession, session_id: str, participant_ids: set[str]) -> set[str]:
    """Which of these participants may answer (consented where the session has a sheet)."""
    live = await db.get(LiveSession, session_id)
    if live is None:
        return set()
    query = select(col(Participant.id)).where(
        col(Participant.session_id) == session_id, col(Participant.id).in_(participant_ids)
    )
    if live.consent_version is not None:
        query = query.where(col(Participant.consent_version).is_not(None))
    return set(await db.scalars(query))


async def any_expired(db: AsyncSession) -> bool:
    """Whether some open round with auto_close has reached its end (a cheap read, each second)."""
    found = await db.scalar(
        select(col(BreakoutRound.id))
        .where(
            col(BreakoutRound.closed_at).is_(None),
            col(BreakoutRound.auto_close).is_(True),
            col(BreakoutRound.ends_at) <= utcnow(),
        )
        .limit(1)
    )
    return found is not None


async def console_state(db: AsyncSession, session_id: str) -> dict[str, Any]:
    """The console's `round.state` on connect: the open round, else the latest, else null."""
    found = await open_round(db, session_id=session_id) or await latest_round(db, session_id=session_id)
    return {"round": (await round_public(db, found)).model_dump(mode="json") if found else None}


@dataclass(frozen=True, slots=True)
class NoteRequest:
    session_id: str
    participant_id: str
    client_id: str
    round_id: str
    text: str


async def add_notes(db: AsyncSession, requests: list[NoteRequest]) -> list[Refused | str | None]:
    """Many phones' notes in a handful of statements (the writer's batch): everything they are judged
    against is read at once, the accepted ones inserted in one statement. The same checks and codes as
    `add_note`; an id committed before (or earlier in the batch) is a replay: acked, not stored. Each
    outcome: a refusal, the new note's id (so the ack tells the author which note is theirs), or None
    for a replay."""
    outcomes: list[Refused | str | None] = [None] * len(requests)
    pids = {r.participant_id for r in requests}
    rids = {r.round_id for r in requests}
    participants = {
        row.id: row
        for row in await db.execute(
            select(col(Participant.id), col(Participant.session_id), col(Participant.consent_version)).where(
                col(Participant.id).in_(pids)
            )
        )
    }
    sessions = {
        row.id: row
        for row in await db.execute(
            select(col(LiveSession.id), col(LiveSession.consent_version)).where(
                col(LiveSession.id).in_({r.session_id for r in requests})
            )
        )
    }
    rounds = {
        row.id: row
        for row in await db.execute(
            select(col(BreakoutRound.id), col(BreakoutRound.session_id), col(BreakoutRound.closed_at)).where(
                col(BreakoutRound.id).in_(rids)
            )
        )
    }
    groups = {
        (row.round_id, row.participant_id): row.group_id
        for row in await db.execute(
            select(
                col(BreakoutMember.round_id), col(BreakoutMember.participant_id), col(BreakoutMember.group_id)
            ).where(col(BreakoutMember.round_id).in_(rids), col(BreakoutMember.participant_id).in_(pids))
        )
    }
    seen = {
        (row.participant_id, row.client_id)
        for row in await db.execute(
            select(col(BreakoutNote.participant_id), col(BreakoutNote.client_id)).where(
                col(BreakoutNote.participant_id).in_(pids),
                col(BreakoutNote.client_id).in_({r.client_id for r in requests}),
            )
        )
    }
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for i, request in enumerate(requests):
        key = (request.participant_id, request.client_id)
        if key in seen:
            continue
        try:
            text = _clean(request.text, NOTE_MAX)
            participant = participants.get(request.participant_id)
            live = sessions.get(request.session_id)
            if participant is None or live is None or participant.session_id != request.session_id:
                raise Refused(
                    "not_participant", "You are no longer in this session; join again with the code."
                )
            if live.consent_version is not None and participant.consent_version is None:
                raise Refused("consent_required", "Read the information sheet and agree to it first.")
            found = rounds.get(request.round_id)
            if found is None or found.session_id != request.session_id:
                raise Refused("unknown_round", "That breakout round is not part of this session.")
            if found.closed_at is not None:
                raise Refused("round_closed", "This breakout round is closed.")
            if (request.round_id, request.participant_id) not in groups:
                raise Refused("not_in_round", "You are not in this breakout round.")
            group_id = groups[(request.round_id, request.participant_id)]
            if group_id is None:
                raise Refused("not_in_group", "You are in the plenary, not in a group of this round.")
        except Refused as refused:
            outcomes[i] = refused
            continue
        seen.add(key)
        outcomes[i] = new_id()
        rows.append(
            {
                "id": outcomes[i],
                "round_id": request.round_id,
                "group_id": group_id,
                "participant_id": request.participant_id,
                "client_id": request.client_id,
                "text": text,
                "created_at": now,
            }
        )
    if rows:
        await db.execute(insert(BreakoutNote), rows)
    by_pid = {r.participant_id: r for r in requests}
    for row in rows:
        session_id = by_pid[row["participant_id"]].session_id
        shown = {"id": row["id"], "text": row["text"], "plus": 0}
        outbox.add(db, (group_channel(session_id, row["group_id"]),), "note.new", shown, seq_key=session_id)
        outbox.add(
            db,
            (channels.console(session_id),),
            "note.new",
            {"round_id": row["round_id"], "group_id": row["group_id"], **shown},
            seq_key=session_id,
        )
    return outcomes
