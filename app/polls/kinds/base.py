"""What every kind shares."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Accepted:
    """A checked answer. `value` is what is stored, in a canonical form (the same answer given twice
    compares equal, whatever order the phone listed it in), so the writer can tell a change of the
    stored value from a resend of the same one; `items` are the rows that are counted."""

    value: dict[str, Any]
    items: Items


@dataclass(frozen=True, slots=True)
class Counted:
    """A question's answers counted now: `n` participants counted, and the kind's summary before k is
    applied (the summary keeps everything k may later hide, so a read can apply the k of that moment)."""

    n: int
    summary: dict[str, Any]
