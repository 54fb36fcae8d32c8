"""Open text: each answer is a new entry of up to 500 characters; entries accumulate. The wall shows
approved entries, newest first, once k participants have written (KINDS.md); moderation decides
what is approved."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.polls import aggregation
from app.polls.kinds.base import Accepted, AnswerRejected, Counted
from app.polls.text.free import clean_text

NAME = "open"
# The summary holds entries (merged with the facilitator's moderation when it is read).
ENTRIES = True
TEXT_MAX = 500


def config_from_create(request: Any) -> dict[str, Any]:
    return {}


def duplicate_config(config: dict[str, Any]) -> dict[str, Any]:
    return dict(config)


def public_fields(config: dict[str, Any], *, facilitator: bool) -> dict[str, Any]:
    return {}


def accept(config: dict[str, Any], value: Any, *, language: str) -> Accepted:
    return Accepted(value={}, entry=entry_text(value, limit=TEXT_MAX, what="An open answer"))


def entry_text(value: Any, *, limit: int, what: str) -> str:
    if not isinstance(value, dict) or set(value) != {"text"} or not isinstance(value["text"], str):
        raise AnswerRejected(f'{what} is {{"text": "…"}}, or null to prefer not to answer.')
    return clean_text(value["text"], limit=limit)


async def count(db: AsyncSession, *, question_id: str, config: dict[str, Any]) -> Counted:
    """n: participants with an entry (any status); every entry kept with its status, newest first."""
    return Counted(
        n=await aggregation.entry_authors(db, question_id=question_id, comment=False),
        summary={
            "entries": await aggregation.entries_of(db, question_id=question_id, comment=False),
            "declined": await aggregation.declined_without_entries(db, question_id=question_id),
        },
    )


def summarise(config: dict[str, Any], summary: dict[str, Any], *, k: int) -> dict[str, Any]:
    """The approved entries (results.present has merged the facilitator's moderation), newest first."""
    return {
        "entries": [{"id": e["id"], "text": e["text"]} for e in summary["entries"]],
        "declined": summary["declined"],
    }


def own_k(summary: dict[str, Any]) -> dict[str, int]:
    """Entries have no k of their own: the question's total is checked, each entry is moderated."""
    return {}


def withhold(summary: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return summary
