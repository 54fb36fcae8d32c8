"""One module per kind of question: how its fields are stored, how an answer is checked, how answers
are summarised. The registry maps a kind's name to its module."""

from __future__ import annotations

from typing import Any, Protocol

from app.polls.kinds import choice
from app.polls.kinds.base import AnswerRejected, Items

__all__ = ["KINDS", "AnswerRejected", "Items", "Kind", "kind_of"]


class Kind(Protocol):
    NAME: str

    def config_from_create(self, request: Any) -> dict[str, Any]: ...
    def duplicate_config(self, config: dict[str, Any]) -> dict[str, Any]: ...
    def public_fields(self, config: dict[str, Any]) -> dict[str, Any]: ...
    def items(self, config: dict[str, Any], value: Any) -> Items: ...
    def summarise(
        self, config: dict[str, Any], *, item_counts: dict[str, int], declined: int
    ) -> dict[str, Any]: ...


KINDS: dict[str, Kind] = {choice.NAME: choice}


def kind_of(name: str) -> Kind:
    return KINDS[name]
