"""Multiple choice: one option, or several when `multiple` is true."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.polls import aggregation
from app.polls.kinds.base import Accepted, AnswerRejected, Counted

NAME = "choice"
ENTRIES = False


def config_from_create(request: Any) -> dict[str, Any]:
    return {"options": labelled(request.options), "multiple": bool(request.multiple)}


def duplicate_config(config: dict[str, Any]) -> dict[str, Any]:
    """The same options under new ids, so answers to the copy never mix with the original's."""
    return {"options": labelled([o["label"] for o in config["options"]]), "multiple": config["multiple"]}


def labelled(labels: list[str], key: str = "label") -> list[dict[str, str]]:
    """Give each label a short id, unique within the question; keep the order given."""
    out: list[dict[str, str]] = []
    used: set[str] = set()
    for label in labels:
        item_id = secrets.token_hex(4)
        while item_id in used:
            item_id = secrets.token_hex(4)
        used.add(item_id)
        out.append({"id": item_id, key: label})
    return out


def public_fields(config: dict[str, Any], *, facilitator: bool) -> dict[str, Any]:
    return {"options": config["options"], "multiple": config["multiple"]}


def accept(config: dict[str, Any], value: Any, *, language: str) -> Accepted:
    """The chosen option ids (stored in the question's order), or AnswerRejected with a sentence."""
    if not isinstance(value, dict) or set(value) != {"choices"}:
        raise AnswerRejected('A choice answer is {"choices": [option ids]}, or null to prefer not to answer.')
    choices = value["choices"]
    if not isinstance(choices, list) or not choices or not all(isinstance(c, str) for c in choices):
        raise AnswerRejected("Choose at least one option.")
    if len(set(choices)) != len(choices):
        raise AnswerRejected("An option was chosen twice.")
    order = [option["id"] for option in config["options"]]
    if not set(choices) <= set(order):
        raise AnswerRejected("That option does not exist in this question.", code="unknown_option")
    if not config["multiple"] and len(choices) > 1:
        raise AnswerRejected("This question takes one choice only.", code="too_many_choices")
    chosen = [option_id for option_id in order if option_id in set(choices)]
    return Accepted(value={"choices": chosen}, items=[(c, 1) for c in chosen])


async def count(db: AsyncSession, *, question_id: str, config: dict[str, Any]) -> Counted:
    """Participants per option (GROUP BY item), every option listed, zeros included."""
    answered = await aggregation.answered(db, question_id=question_id)
    items = await aggregation.item_counts(db, question_id=question_id)
    counts = {option["id"]: items.get(option["id"], 0) for option in config["options"]}
    return Counted(n=answered.n, summary={"counts": counts, "declined": answered.declined})


def summarise(config: dict[str, Any], summary: dict[str, Any], *, k: int) -> dict[str, Any]:
    """A choice's counts carry no k of their own: the question's total is checked by the caller."""
    return {"counts": dict(summary["counts"]), "declined": summary["declined"]}


def own_k(summary: dict[str, Any]) -> dict[str, int]:
    """A choice has no item with a k of its own (see summarise)."""
    return {}


def withhold(summary: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return summary
