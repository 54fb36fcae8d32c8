"""Multiple choice: one option, or several when `multiple` is true."""

from __future__ import annotations

import secrets
from typing import Any

from app.polls.kinds.base import AnswerRejected, Items

NAME = "choice"


def config_from_create(request: Any) -> dict[str, Any]:
    return _config(request.options, multiple=request.multiple)


def duplicate_config(config: dict[str, Any]) -> dict[str, Any]:
    """The same options under new ids, so answers to the copy never mix with the original's."""
    return _config([option["label"] for option in config["options"]], multiple=config["multiple"])


def _config(labels: list[str], *, multiple: bool) -> dict[str, Any]:
    """Give each option a short id, unique within the question; keep the order given."""
    options: list[dict[str, str]] = []
    used: set[str] = set()
    for label in labels:
        option_id = secrets.token_hex(4)
        while option_id in used:
            option_id = secrets.token_hex(4)
        used.add(option_id)
        options.append({"id": option_id, "label": label})
    return {"options": options, "multiple": bool(multiple)}


def public_fields(config: dict[str, Any]) -> dict[str, Any]:
    return {"options": config["options"], "multiple": config["multiple"]}


def items(config: dict[str, Any], value: Any) -> Items:
    """The chosen option ids, or AnswerRejected with a sentence."""
    if not isinstance(value, dict) or set(value) != {"choices"}:
        raise AnswerRejected('A choice answer is {"choices": [option ids]}, or null to prefer not to answer.')
    choices = value["choices"]
    if not isinstance(choices, list) or not choices or not all(isinstance(c, str) for c in choices):
        raise AnswerRejected("Choose at least one option.")
    if len(set(choices)) != len(choices):
        raise AnswerRejected("An option was chosen twice.")
    known = {option["id"] for option in config["options"]}
    unknown = [c for c in choices if c not in known]
    if unknown:
        raise AnswerRejected("That option does not exist in this question.", code="unknown_option")
    if not config["multiple"] and len(choices) > 1:
        raise AnswerRejected("This question takes one choice only.", code="too_many_choices")
    return [(c, 1) for c in choices]


def summarise(config: dict[str, Any], *, item_counts: dict[str, int], declined: int) -> dict[str, Any]:
    """Counts for every option in the question's order, zeros included."""
    return {
        "counts": {option["id"]: item_counts.get(option["id"], 0) for option in config["options"]},
        "declined": declined,
    }
