"""Breakout rounds, report-back and private messages, for facilitators (and, to read, researchers) [F]."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.auth.deps import FACILITATOR_REFUSALS, CurrentFacilitator
from app.breakouts import service
from app.breakouts.deps import OwnedRound, ReadableRound
from app.breakouts.models import BreakoutGroup, BreakoutRound
from app.breakouts.schemas import (
    GroupResultPublic,
    GroupResultsItem,
    GroupResultsPublic,
    MoveCreate,
    PrivateMessagesPublic,
    ReasonPublic,
    ReportPublic,
    ReportShow,
    RoundCreate,
    RoundPublic,
    RoundsPublic,
    RoundUpdate,
)
from app.db import Db
from app.errors import AppError, error_responses
from app.polls import service as polls_service
from app.polls.models import Question
from app.research import audit
from app.sessions.deps import OwnedSession, ReadableSession
from app.sessions.models import LiveSession

router = APIRouter(prefix="/api/sessions", tags=["breakouts"])


@router.post(
    "/{session_id}/rounds",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(
        400,
        *FACILITATOR_REFUSALS,
        404,
        409,
        422,
        s409="More groups than participants who may answer, or no participant yet (`too_many_groups`); "
        "a round is already open (`round_open`); the session is closed (`session_closed`).",
        s422="Fields are invalid, or do not fit the mode (random and manual take `groups` or `group_size`; "
        "self-select takes `names`, and `cap`); `question_id` is not a question of this session.",
    ),
)
async def start_round(
    db: Db, live: OwnedSession, facilitator: CurrentFacilitator, body: RoundCreate
) -> RoundPublic:
    """Split the room: random groups by number or by size (sizes differ by at most one), named groups
    participants choose (optionally capped), or manual (dealt at random, then moved by hand). Dealt
    among the participants who may answer, connected or not; a later joiner goes to the smallest group.
    `keep_groups_of` keeps an earlier round's groups."""
    found = await service.start_round(db, live=live, body=body)
    audit.record(
        db, session_id=live.id, action="round.start", account=facilitator, detail={"round_id": found.id}
    )
    return await service.round_public(db, found)


@router.get("/{session_id}/rounds", responses=error_responses(*FACILITATOR_REFUSALS, 404))
async def list_rounds(db: Db, live: ReadableSession) -> RoundsPublic:
    """Every round of the session, oldest first, with each group's size."""
    return RoundsPublic(rounds=await service.list_rounds(db, live=live))


@router.get("/{session_id}/rounds/{round_id}", responses=error_responses(*FACILITATOR_REFUSALS, 404))
async def get_round(db: Db, found: ReadableRound) -> RoundPublic:
    """The round with each group's board (its notes and +1s) and its members' anonymous tiles."""
    return await service.round_public(db, found, detail=True)


@router.patch(
    "/{session_id}/rounds/{round_id}",
    responses=error_responses(
        400,
        *FACILITATOR_REFUSALS,
        404,
        409,
        422,
        s409="The round is closed (`round_closed`): closing twice, adding time or broadcasting after it.",
    ),
)
async def update_round(
    db: Db, live: OwnedSession, facilitator: CurrentFacilitator, found: OwnedRound, body: RoundUpdate
) -> RoundPublic:
    """Close the round (every phone goes back to the plenary), add time, or send every group a message."""
    await service.update_round(db, found=found, body=body)
    if body.open is False:
        audit.record(
            db, session_id=live.id, action="round.close", account=facilitator, detail={"round_id": found.id}
        )
    return await service.round_public(db, found)


@router.post(
    "/{session_id}/rounds/{round_id}/moves",
    responses=error_responses(
        400,
        *FACILITATOR_REFUSALS,
        404,
        409,
        422,
        s404="No member of the round has the tile (`unknown_tile`), or no group of it the id "
        "(`unknown_group`).",
        s409="The round is closed (`round_closed`).",
    ),
)
async def move_member(db: Db, found: OwnedRound, body: MoveCreate) -> RoundPublic:
    """Move a member, by their anonymous tile, to another group of the round (or, `group_id: null`, to the
    plenary). Their phone follows at once."""
    await service.move(db, found=found, body=body)
    return await service.round_public(db, found, detail=True)


async def _question(db: Db, live: LiveSession, question_id: str) -> Question:
    return await polls_service.get_question(db, live=live, question_id=question_id)


async def _results(db: Db, live: LiveSession, found: BreakoutRound, question: Question) -> GroupResultsPublic:
    results = await service.group_results(db, live=live, question=question, found=found)
    return GroupResultsPublic(
        round_id=found.id,
        rollup=results.rollup,
        groups=None
        if results.reason is not None
        else [GroupResultsItem(id=g.id, name=g.name, result=r) for g, r in results.groups],
        reason=ReasonPublic(**results.reason) if results.reason is not None else None,
    )


@router.get(
    "/{session_id}/rounds/{round_id}/results",
    responses=error_responses(*FACILITATOR_REFUSALS, 404, 422),
)
async def round_results(
    db: Db,
    live: ReadableSession,
    found: ReadableRound,
    question_id: Annotated[str, Query(max_length=64, description="A question of the session.")],
) -> GroupResultsPublic:
    """A question's result per group of the round beside the session's roll-up. Groups show only once
    the question is closed and every group has at least k answers (ETHICS 10); else `groups` is null and
    `reason` says why."""
    return await _results(db, live, found, await _question(db, live, question_id))


async def group_result(db: Db, live: LiveSession, question: Question, group_id: str) -> GroupResultPublic:
    """`GET .../results?group=<gid>`: one group's result, or `hidden` with the reason."""
    group = await db.get(BreakoutGroup, group_id)
    found = await db.get(BreakoutRound, group.round_id) if group is not None else None
    if group is None or found is None or found.session_id != live.id:
        raise AppError(404, "unknown_group", "This session has no breakout group with that id.")
    results = await service.group_results(db, live=live, question=question, found=found)
    for each, result in results.groups:
        if each.id == group_id:
            return GroupResultPublic(**result.data(), group_id=group_id)
    return GroupResultPublic(
        question_id=question.id,
        n=0,
        hidden=True,
        summary=None,
        group_id=group_id,
        reason=ReasonPublic(**results.reason) if results.reason else None,
    )


@router.put(
    "/{session_id}/report",
    response_model_exclude_unset=True,
    responses=error_responses(
        400,
        *FACILITATOR_REFUSALS,
        404,
        409,
        422,
        s404="No such round, group, note or question in this session.",
        s409="Results asked of a round that has no group question (`round_has_no_question`).",
        s422="`board` needs `round_id` and `group_id`; `notes` needs `note_ids`; `results` needs `round_id` "
        "and a `question_id` given to the round.",
    ),
)
async def show_report(
    db: Db, live: OwnedSession, facilitator: CurrentFacilitator, body: ReportShow
) -> ReportPublic:
    """Report-back on the presenter screen: one group's board, chosen notes, or a round's per-group
    results beside the roll-up (per-group only under ETHICS 10); `show: null` clears it. Private
    messages never reach a presenter."""
    shown = await service.show_report(db, live=live, body=body)
    audit.record(
        db, session_id=live.id, action="report.show", account=facilitator, detail={"show": body.show}
    )
    return ReportPublic(**shown)


@router.get("/{session_id}/private-messages", responses=error_responses(*FACILITATOR_REFUSALS, 404))
async def private_messages(db: Db, live: ReadableSession) -> PrivateMessagesPublic:
    """Private messages to the research team (ETHICS 7), newest first: for the session's facilitator
    and the researchers they added; never on a presenter screen. Live on the console socket."""
    return PrivateMessagesPublic(messages=await service.private_messages(db, live=live))
