"""Ranking: order 2 to 10 options, all of them. Summary: mean rank and the distribution of ranks."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.polls import aggregation
from app.polls.kinds.base import Accepted, AnswerRejected, Counted
from app.polls.kinds.choice import labelled

NAME = "ranking"
ENTRIES = False


def config_from_create(request: Any) -> dict[str, Any]:
    return {"options": labelled(request.options)}


def duplicate_config(config: dict[str, Any]) -> dict[str, Any]:
    return {"options": labelled([o["label"] for o in config["options"]])}


def public_fields(config: dict[str, Any], *, facilitator: bool) -> dict[str, Any]:
    return {"options": config["options"]}


def accept(config: dict[str, Any], value: Any, *, language: str) -> Accepted:
    """Every option exactly once, first = rank 1; partial rankings are refused."""
    if not isinstance(value, dict) or set(value) != {"order"}:
        raise AnswerRejected(
            'A ranking answer is {"order": [every option id, first = rank 1]}, '
            "or null to prefer not to answer."
        )
    order = value["order"]
    if not isinstance(order, list) or not order or not all(isinstance(o, str) for o in order):
        raise AnswerRejected("Put the options in order: a list of every option id.")
    known = [option["id"] for option in config["options"]]
    if not set(order) <= set(known):
        raise AnswerRejected("That option does not exist in this question.", code="unknown_option")
    if len(set(order)) != len(order):
        raise AnswerRejected("An option was placed twice; place each option once.", code="repeated_option")
    if len(order) != len(known):
        raise AnswerRejected(
            f"Place all {len(known)} options; a partial ranking is not counted.", code="incomplete_ranking"
        )
    return Accepted(value={"order": list(order)}, items=[(o, rank) for rank, o in enumerate(order, start=1)])


async def count(db: AsyncSession, *, question_id: str, config: dict[str, Any]) -> Counted:
    """Per option, how many put it at each place ((option, rank) GROUP BY), and its mean rank."""
    answered = await aggregation.answered(db, question_id=question_id)
    histogram = await aggregation.item_histogram(db, question_id=question_id)
    places = len(config["options"])
    options: dict[str, Any] = {}
    for option in config["options"]:
        ranks = {str(place): histogram.get(option["id"], {}).get(place, 0) for place in range(1, places + 1)}
        n = sum(ranks.values())
        mean = sum(int(place) * count for place, count in ranks.items()) / n if n else None
        options[option["id"]] = {"mean_rank": mean, "ranks": ranks}
    return Counted(n=answered.n, summary={"options": options, "declined": answered.declined})


def summarise(config: dict[str, Any], summary: dict[str, Any], *, k: int) -> dict[str, Any]:
    """Every ranking orders every option, so the question's total is each option's: no k inside."""
    return {"options": summary["options"], "declined": summary["declined"]}


def own_k(summary: dict[str, Any]) -> dict[str, int]:
    """A ranking has no item with a k of its own (see summarise)."""
    return {}


def withhold(summary: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return summary
