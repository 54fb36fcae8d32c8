"""Moderation of a question's entries (open entries, Q&A questions, comments) [F]."""

from __future__ import annotations

from fastapi import APIRouter

from app.auth.deps import FACILITATOR_REFUSALS, CurrentFacilitator
from app.db import Db
from app.errors import error_responses
from app.polls import entries as polls_entries
from app.polls import results as polls_results
from app.polls import service as polls_service
from app.polls.models import Question
from app.polls.schemas import EntriesPublic, EntryPublic, EntryUpdate
from app.realtime import channels, outbox
from app.research import audit
from app.sessions.deps import OwnedSession
from app.snapshots import queue_results

router = APIRouter(prefix="/api/sessions", tags=["moderation"])


async def _votes(db: Db, question: Question, k: int) -> dict[str, int] | None:
    """Each Q&A question's votes as the shown result counts them (they move with the k rule, like the
    result); None while the result is hidden."""
    if question.kind != "qa":
        return None
    stored = await polls_results.stored(db, question=question)
    if stored.summary is None or stored.n < k:
        return None
    return {e["id"]: e.get("votes", 0) for e in stored.summary["entries"]}


@router.get(
    "/{session_id}/questions/{question_id}/entries", responses=error_responses(*FACILITATOR_REFUSALS, 404)
)
async def list_entries(db: Db, live: OwnedSession, question_id: str) -> EntriesPublic:
    """Every entry and comment of a question, in every status, newest first, for moderation."""
    question = await polls_service.get_question(db, live=live, question_id=question_id)
    votes = await _votes(db, question, live.min_group)
    return EntriesPublic(
        entries=[
            polls_entries.public(
                entry, qa=question.kind == "qa", votes=None if votes is None else votes.get(entry.id)
            )
            for entry in await polls_entries.list_for(db, question=question)
        ]
    )


@router.patch(
    "/{session_id}/questions/{question_id}/entries/{entry_id}",
    responses=error_responses(
        400,
        *FACILITATOR_REFUSALS,
        404,
        409,
        422,
        s404="The session, the question, or an entry of this question, is missing or not yours.",
        s409="`highlighted: true` on a question that is not approved (`entry_not_visible`).",
        s422="Fields are invalid; `highlighted` and `answered` are for Q&A questions only (JSON Schema "
        "cannot say which kind takes them).",
    ),
)
async def update_entry(
    db: Db,
    live: OwnedSession,
    facilitator: CurrentFacilitator,
    question_id: str,
    entry_id: str,
    body: EntryUpdate,
) -> EntryPublic:
    """Approve, hide or archive an entry; highlight or mark a Q&A question answered (Q&A questions only,
    else `422`). Shows at once, on every screen."""
    question = await polls_service.get_question(db, live=live, question_id=question_id)
    entry = await polls_entries.get(db, question=question, entry_id=entry_id)
    changed = await polls_entries.moderate(db, question=question, entry=entry, change=body)
    audit.record(
        db,
        session_id=live.id,
        action="moderation",
        account=facilitator,
        detail={"question_id": question.id, "entry_id": entry.id, **body.model_dump(exclude_unset=True)},
    )
    votes = await _votes(db, question, live.min_group)
    qa = question.kind == "qa"
    for each in changed:
        shown = polls_entries.public(each, qa=qa, votes=None if votes is None else votes.get(each.id))
        outbox.add(
            db,
            (channels.console(live.id),),
            "entry.changed",
            {"question_id": question.id, "entry": shown.model_dump()},
            seq_key=live.id,
        )
    queue_results(db, question.id)
    return polls_entries.public(entry, qa=qa, votes=None if votes is None else votes.get(entry.id))
