"""Events queued during a transaction and published after it commits; dropped on rollback."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.realtime.hub import BrokerUnavailable, Hub

log = logging.getLogger(__name__)

KEY = "thirdspace_outbox"
_KEY = KEY


@dataclass(frozen=True, slots=True)
class PendingEvent:
    channels: tuple[str, ...]
    type: str
    data: Any
    seq_key: str | None


def add(
    db: AsyncSession, channels: tuple[str, ...], type_: str, data: Any, *, seq_key: str | None = None
) -> None:
    """Queue an event to publish once db commits."""
    db.info.setdefault(_KEY, []).append(PendingEvent(channels, type_, data, seq_key))


def discard(db: AsyncSession) -> None:
    db.info.pop(_KEY, None)


async def flush(db: AsyncSession, hub: Hub) -> None:
    """Publish what was queued, in order; call only after a successful commit. While the broker is away
    the change is committed all the same: when it is back every socket reconnects and reads a snapshot,
    and the results ticker recomputes every open question."""
    events = db.info.pop(_KEY, [])
    for i, event in enumerate(events):
        try:
            await hub.publish(event.channels, event.type, event.data, seq_key=event.seq_key)
        except BrokerUnavailable:
            log.warning("broker unavailable: %d committed events not announced", len(events) - i)
            return
