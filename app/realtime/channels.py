"""The only place channel names are built."""

from __future__ import annotations

# Internal: "the answers to this question changed"; every process with a results ticker listens.
RESULTS_DIRTY = "results.dirty"


def participants(session_id: str) -> str:
    """Every phone of a session."""
    return f"session.{session_id}.participants"


def presenters(session_id: str) -> str:
    """Every presenter screen and console of a session."""
    return f"session.{session_id}.presenters"
