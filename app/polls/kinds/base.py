"""What every kind shares."""

from __future__ import annotations


class AnswerRejected(ValueError):
    """An answer that breaks the question's rules; nothing of it is recorded."""

    def __init__(self, message: str, code: str = "invalid_answer") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# (item, value) pairs: what one answer adds to the counts (a chosen option id with value 1, ...).
Items = list[tuple[str, int | None]]
