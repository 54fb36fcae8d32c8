"""The only place channel names are built."""

from __future__ import annotations

# Internal: "the answers to this question changed"; every process with a results ticker listens.
RESULTS_DIRTY = "results.dirty"


SESSION_PREFIX = "session."
PARTICIPANTS_SUFFIX = ".participants"


def participants(session_id: str) -> str:
    """Every phone of a session."""
    return f"{SESSION_PREFIX}{session_id}{PARTICIPANTS_SUFFIX}"


def presenters(session_id: str) -> str:
    """Every presenter screen and console of a session (a console subscribes to both)."""
    return f"session.{session_id}.presenters"


def console(session_id: str) -> str:
    """The facilitator's consoles of a session, beyond what presenters get: the moderation queue now,
    breakout rounds, notes and private messages later. Never a presenter's or a phone's. A console
    listens to this and to presenters(): never publish one event to both, or it arrives twice."""
    return f"session.{session_id}.console"
