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


# Internal: "a breakout round of this session changed"; every process with phones of it listens, and
# re-sends each of them its `round.state` (app/breakouts/live.py).
BREAKOUTS_CHANGED = "breakouts.changed"


def breakout_group(session_id: str, group_id: str) -> str:
    """The phones of one breakout group: its notes and +1s, and the facilitator's broadcasts. Each group
    is its own channel, so a note reaches its group on every node and no other group."""
    return f"session.{session_id}.group.{group_id}"
