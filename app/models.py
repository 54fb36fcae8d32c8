"""Every table, imported in one place for Alembic and the tests."""

from app.auth.models import Account
from app.polls.models import (
    Answer,
    AnswerItem,
    AnswerReceipt,
    AnswerWord,
    Entry,
    EntryVote,
    Question,
    ResultChange,
    ResultState,
)
from app.sessions.models import LiveSession, Participant

__all__ = [
    "Account",
    "Answer",
    "AnswerItem",
    "AnswerReceipt",
    "AnswerWord",
    "Entry",
    "EntryVote",
    "LiveSession",
    "Participant",
    "Question",
    "ResultChange",
    "ResultState",
]
