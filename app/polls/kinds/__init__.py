"""One module per kind of question: how its fields are stored, how an answer is checked, how answers
are counted and summarised. The registry maps a kind's name to its module: a new kind is one module
here plus one line below."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.polls.kinds import choice, qa, ranking, scale, wordcloud
from app.polls.kinds import open as open_text
from app.polls.kinds.base import Accepted, AnswerRejected, Counted, Items

__all__ = ["KINDS", "Accepted", "AnswerRejected", "Counted", "Items", "Kind", "kind_of"]


class Kind(Protocol):
    NAME: str
    # Answers are entries that accumulate (open, qa): the summary holds them, and reading it merges the
    # facilitator's moderation of the moment.
    ENTRIES: bool

    def config_from_create(self, request: Any) -> dict[str, Any]:
        """The question's stored config from its create request (ids given to options, statements)."""

    def duplicate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """A copy's config: the same content under new ids."""

    def public_fields(self, config: dict[str, Any], *, facilitator: bool) -> dict[str, Any]:
        """The kind's fields of the question object; `facilitator` views may see more than phones."""

    def accept(self, config: dict[str, Any], value: Any, *, language: str) -> Accepted:
        """Check an answer's value (never null: the writer handles "prefer not to answer"), or raise
        AnswerRejected with a code and a sentence."""

    async def count(self, db: AsyncSession, *, question_id: str, config: dict[str, Any]) -> Counted:
        """Count the question's answers now, in SQL, into the summary before k."""

    def summarise(self, config: dict[str, Any], summary: dict[str, Any], *, k: int) -> dict[str, Any]:
        """The summary as shown, with k applied inside it (per statement, per word); the caller has
        already checked the question's total against k."""

    def own_k(self, summary: dict[str, Any]) -> dict[str, int]:
        """Each item of the summary that `summarise` shows under its own k (a statement, a word), with
        how many participants it counts; an item the summary leaves out (a word used by fewer than 3)
        counts fewer than any k. Empty for a kind with no k inside."""

    def withhold(self, summary: dict[str, Any], keys: set[str]) -> dict[str, Any]:
        """The summary with these items (keys of `own_k`) hidden whatever their count: per-group
        results hide an item in every group when some part of the room holds fewer than k of it."""


KINDS: dict[str, Kind] = {kind.NAME: kind for kind in (choice, scale, wordcloud, open_text, ranking, qa)}


def kind_of(name: str) -> Kind:
    return KINDS[name]
