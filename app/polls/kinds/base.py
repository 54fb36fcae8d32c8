"""What every kind shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class AnswerRejected(ValueError):
    """An answer that breaks the question's rules; nothing of it is recorded."""

    def __init__(self, message: str, code: str = "invalid_answer") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# (item, value) pairs: what one answer adds to the counts (a chosen option id with value 1, a rated
# statement with its rating, an option with its rank).
Items = list[tuple[str, int | None]]


# (word, spelling) pairs of a word-cloud answer: the normalised key counted, the text as typed.
Words = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Accepted:
    """A checked answer. `value` is what is stored, in a canonical form (the same answer given twice
    compares equal, whatever order the phone listed it in), so the writer can tell a change of the
    stored value from a resend of the same one; `items` and `words` are the rows that are counted.
    For kinds whose answers accumulate (open, qa), `entry` is the text of a new entry instead."""

    value: dict[str, Any]
    items: Items = field(default_factory=list)
    words: Words = ()
    entry: str | None = None


@dataclass(frozen=True, slots=True)
class Counted:
    """A question's answers counted now: `n` participants counted, and the kind's summary before k is
    applied (the summary keeps everything k may later hide, so a read can apply the k of that moment)."""

    n: int
    summary: dict[str, Any]


def is_integer(value: Any) -> bool:
    """A JSON integer: not a bool (JSON true is not 1), not a float (3.0 is not a rating)."""
    return isinstance(value, int) and not isinstance(value, bool)
