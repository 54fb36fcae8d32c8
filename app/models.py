"""Every table, imported in one place for Alembic and the tests."""

from app.auth.models import Account
from app.breakouts.models import (
    BreakoutAttribution,
    BreakoutGroup,
    BreakoutMember,
    BreakoutNote,
    BreakoutRound,
    NotePlus,
    PrivateMessage,
    ReportBack,
)
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
    Section,
)
from app.research.models import AuditEvent
from app.sessions.models import ConsentSheet, LiveSession, Participant, SessionResearcher, WithdrawnCode

__all__ = [
    "Account",
    "Answer",
    "AnswerItem",
    "AnswerReceipt",
    "AnswerWord",
    "AuditEvent",
    "BreakoutAttribution",
    "BreakoutGroup",
    "BreakoutMember",
    "BreakoutNote",
    "BreakoutRound",
    "ConsentSheet",
    "Entry",
    "EntryVote",
    "LiveSession",
    "NotePlus",
    "Participant",
    "PrivateMessage",
    "Question",
    "ReportBack",
    "ResultChange",
    "ResultState",
    "Section",
    "SessionResearcher",
    "WithdrawnCode",
]
