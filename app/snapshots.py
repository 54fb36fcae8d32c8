"""What a screen is told about a session: built from sessions and polls together, so it lives above
both (the faces call it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.polls import service as polls_service
from app.polls.models import Question
from app.polls.results import dirty_message
from app.realtime import channels, outbox
from app.sessions.models import LiveSession


async def current_question(db: AsyncSession, live: LiveSession) -> Question | None:
    if live.current_question_id is None:
        return None
    return await db.get(Question, live.current_question_id)


def session_state(live: LiveSession, current: Question | None, *, facilitator: bool) -> dict[str, Any]:
    """The `session.state` data: the current question as the API shows it (to phones, without what only
    the facilitator sees), or null."""
    return {
        "current": polls_service.question_public(current, facilitator=facilitator) if current else None,
        "closed": live.closed,
    }


def queue_session_state(db: AsyncSession, live: LiveSession, current: Question | None) -> None:
    """After commit: tell every phone and screen of the session, then send the current results. One
    event when phones and facilitators see the same question, else one each."""
    phones = session_state(live, current, facilitator=False)
    facilitators = session_state(live, current, facilitator=True)
    targets: list[tuple[tuple[str, ...], dict[str, Any]]]
    if phones == facilitators:
        targets = [((channels.participants(live.id), channels.presenters(live.id)), phones)]
    else:
        targets = [
            ((channels.participants(live.id),), phones),
            ((channels.presenters(live.id),), facilitators),
        ]
    for to, data in targets:
        outbox.add(db, to, "session.state", data, seq_key=live.id)
    if current is not None:
        queue_results(db, current.id)


def queue_results(db: AsyncSession, question_id: str, *, force: bool = True) -> None:
    """After commit: recompute this question's result; with force, publish it, changed or not."""
    outbox.add(db, (channels.RESULTS_DIRTY,), "results.dirty", dirty_message(question_id, force=force))
