"""Audience questions: each answer is a new question of up to 280 characters; participants upvote
others' once each (the `upvote` message); the facilitator approves, highlights one, marks answered,
archives. The list shows once k participants have asked or voted; votes are counted, never
attributed."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.polls import aggregation
from app.polls.kinds.base import Accepted, Counted
from app.polls.kinds.open import entry_text

NAME = "qa"
ENTRIES = True
TEXT_MAX = 280


def config_from_create(request: Any) -> dict[str, Any]:
    return {}


def duplicate_config(config: dict[str, Any]) -> dict[str, Any]:
    return dict(config)


def public_fields(config: dict[str, Any], *, facilitator: bool) -> dict[str, Any]:
    return {}


def accept(config: dict[str, Any], value: Any, *, language: str) -> Accepted:
    return Accepted(value={}, entry=entry_text(value, limit=TEXT_MAX, what="A question"))


async def count(db: AsyncSession, *, question_id: str, config: dict[str, Any]) -> Counted:
    """n: participants who asked or upvoted; every question with its status and votes (GROUP BY)."""
    entries = await aggregation.entries_of(db, question_id=question_id, comment=False)
    votes = await aggregation.votes(db, question_id=question_id)
    for entry in entries:
        entry["votes"] = votes.get(entry["id"], 0)
    return Counted(
        n=await aggregation.authors_or_voters(db, question_id=question_id),
        summary={
            "entries": entries,
            "declined": await aggregation.declined_without_entries(db, question_id=question_id),
        },
    )


def summarise(config: dict[str, Any], summary: dict[str, Any], *, k: int) -> dict[str, Any]:
    """The approved questions, most votes first (ties: newest first, the order they come in)."""
    entries = sorted(summary["entries"], key=lambda e: -e.get("votes", 0))
    return {
        "entries": [
            {
                "id": e["id"],
                "text": e["text"],
                "votes": e.get("votes", 0),
                "highlighted": e["highlighted"],
                "answered": e["answered"],
            }
            for e in entries
        ],
        "declined": summary["declined"],
    }


def own_k(summary: dict[str, Any]) -> dict[str, int]:
    """Questions and their votes have no k of their own: the question's total is checked."""
    return {}


def withhold(summary: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return summary
