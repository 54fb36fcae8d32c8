"""Breakout rounds on the sockets of one process: each phone's `round.state`, its group's channel, the
messages phones send about rounds (notes, +1s, choosing or declining a group) and private messages,
and the countdowns that close a round by themselves.

Which group a phone is in lives in the database. A change publishes `breakouts.changed` (an internal
channel every process listens to, as `results.dirty`); each process then reads the round once for all
its phones of that session and sends each phone whose view changed its new `round.state`, moving its
subscription from the old group's channel to the new one. So it works unchanged on several nodes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError

from app.batching import GroupCommit, Refusal
from app.breakouts import service
from app.breakouts.models import BreakoutMember
from app.breakouts.schemas import GroupChooseIn, GroupDeclineIn, NoteIn, PlusIn, PrivateIn
from app.db import Database
from app.realtime import channels, outbox
from app.realtime.envelope import ClientMessage, encode
from app.realtime.hub import Closed, Hub, Subscription

log = logging.getLogger(__name__)

# The messages about rounds and private messages a phone may send, with the model of their data and
# the sentence that refuses malformed data.
PHONE_MESSAGES: dict[str, tuple[type[BaseModel], str]] = {
    "note": (NoteIn, 'A note\'s data is {"round_id": ..., "text": "..."} (up to 280 characters).'),
    "plus": (PlusIn, 'A +1\'s data is {"note_id": ...}.'),
    "private": (PrivateIn, 'A private message\'s data is {"text": "..."} (up to 2,000 characters).'),
    "group.choose": (GroupChooseIn, 'Choosing a group is {"round_id": ..., "group_id": ...}.'),
    "group.decline": (GroupDeclineIn, 'Declining a group is {"round_id": ...}.'),
    "group.rejoin": (GroupDeclineIn, 'Joining a group after declining is {"round_id": ...}.'),
}
# These need an id (their reply is an ack or an error); choosing and declining may go without one.
NEEDS_ID = {"note", "plus", "private"}
NO_ROUND = encode("round.state", {"round": None})


class PhoneLink:
    """One phone socket as the breakout side knows it."""

    __slots__ = ("group_channel", "hinted", "last", "participant_id", "session_id", "sub")

    def __init__(self, sub: Subscription, session_id: str, participant_id: str) -> None:
        self.sub = sub
        self.session_id = session_id
        self.participant_id = participant_id
        self.group_channel: str | None = None
        self.last: str | None = None
        # Attached on a "no round" hint, without a read: the next change looks whether to place it.
        self.hinted = False


class BreakoutLive:
    def __init__(
        self, database: Database, hub: Hub, *, timer_seconds: float = 1.0, batch_max: int = 500
    ) -> None:
        self._database = database
        self._hub = hub
        self._timer_seconds = timer_seconds
        self._phones: dict[str, set[PhoneLink]] = defaultdict(set)
        # How many `breakouts.changed` of each session this process has taken in (never reset): a phone
        # that read "no round open" with the count at n, attached while it is still n, needs no read.
        self._changes: defaultdict[str, int] = defaultdict(int)
        self._tasks: list[asyncio.Task[None]] = []
        self.writer = BreakoutWriter(database, hub, batch_max=batch_max)

    async def start(self) -> None:
        ready = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._listen(ready), name="breakouts-listen"),
            asyncio.create_task(self._countdowns(), name="breakouts-countdowns"),
        ]
        await self.writer.start()
        await ready.wait()

    async def stop(self) -> None:
        await self.writer.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # Phones ---------------------------------------------------------------------------------------

    def changes(self, session_id: str) -> int:
        """The count of the session's `breakouts.changed` taken in so far (for `attach`'s hint)."""
        return self._changes.get(session_id, 0)

    async def attach(
        self, sub: Subscription, session_id: str, participant_id: str, *, no_round_at: int | None = None
    ) -> PhoneLink:
        """Register a phone's socket, place it if a round is open and it has no place yet (a late
        joiner), then send its `round.state` (after `session.state`).

        `no_round_at`: the caller read that the session had no open round when `changes(session_id)`
        was this. If no change has come in since, the phone is told "no round" without a read (a join
        burst's thousands of phones); a change that comes in later refreshes this phone with the rest."""
        link = PhoneLink(sub, session_id, participant_id)
        self._phones[session_id].add(link)
        if no_round_at is not None and no_round_at == self.changes(session_id):
            link.last = NO_ROUND
            link.hinted = True
            sub.deliver(NO_ROUND)
            return link
        async with self._database.read_session() as db:
            found = await service.open_round(db, session_id=session_id)
            placed = (
                found is not None and await db.get(BreakoutMember, (found.id, participant_id)) is not None
            )
            if found is not None and not placed:
                eligible = participant_id in await service.eligible_ids(db, session_id, {participant_id})
            else:
                eligible = False
        if eligible:
            await self.place(session_id, participant_id)
        await self._refresh(session_id, only={link})
        return link

    def detach(self, link: PhoneLink) -> None:
        """Forget a phone whose socket ended (its subscription, channels and all, ends with it)."""
        links = self._phones.get(link.session_id)
        if links is not None:
            links.discard(link)
            if not links:
                del self._phones[link.session_id]

    async def place(self, session_id: str, participant_id: str) -> None:
        """A participant who may now answer goes to the open round's smallest group, at once."""
        async with self._database.read_session() as db:
            if await service.open_round(db, session_id=session_id) is None:
                return
        async with self._database.session() as db:
            await service.place(db, session_id=session_id, participant_id=participant_id)
            await db.commit()
        await outbox.flush(db, self._hub)

    async def on_message(self, link: PhoneLink, message: ClientMessage) -> None:
        """A phone's note, +1, private message, or choice of group: committed, then acked; or refused
        with nothing recorded."""
        model, malformed = PHONE_MESSAGES[message.type]
        if message.id is None and message.type in NEEDS_ID:
            link.sub.deliver(
                _error(
                    "missing_id", f'A "{message.type}" needs an "id" made by the phone, unique per message.'
                )
            )
            return
        try:
            data: Any = model.model_validate(message.data)
        except ValidationError:
            self._refuse(link, message, f"malformed_{message.type.replace('.', '_')}", malformed)
            return
        future: asyncio.Future[service.Refused | str | None] = asyncio.get_running_loop().create_future()
        self.writer.put(_Pending(link, message, data, future))
        outcome = await future
        if isinstance(outcome, service.Refused):
            self._refuse(link, message, outcome.code, outcome.message)
        elif message.id is not None:
            # A new note's ack names it, so the author's board marks it as theirs at once (no +1 on it).
            ack = {"id": message.id} if outcome is None else {"id": message.id, "note_id": outcome}
            link.sub.deliver(encode(f"{message.type}.ack", ack))

    @staticmethod
    async def apply(db: Any, link: PhoneLink, message: ClientMessage, data: Any) -> None:
        who = {"session_id": link.session_id, "participant_id": link.participant_id}
        if isinstance(data, NoteIn):
            await service.add_note(
                db, **who, client_id=str(message.id), round_id=data.round_id, text=data.text
            )
        elif isinstance(data, PlusIn):
            await service.add_plus(db, **who, client_id=str(message.id), note_id=data.note_id)
        elif isinstance(data, PrivateIn):
            await service.add_private(db, **who, client_id=str(message.id), text=data.text)
        elif isinstance(data, GroupChooseIn):
            await service.choose(db, **who, round_id=data.round_id, group_id=data.group_id)
        elif message.type == "group.decline":
            await service.decline(db, **who, round_id=data.round_id)
        else:
            await service.rejoin(db, **who, round_id=data.round_id)

    @staticmethod
    def _refuse(link: PhoneLink, message: ClientMessage, code: str, text: str) -> None:
        if message.id is None:
            link.sub.deliver(_error(code, text))
        else:
            link.sub.deliver(
                encode(f"{message.type}.error", {"id": message.id, "code": code, "message": text})
            )

    # Keeping phones up to date ---------------------------------------------------------------------

    async def _refresh(self, session_id: str, *, only: set[PhoneLink] | None = None) -> None:
        """Read the session's round once for these phones (default: every local phone of the session)
        and send each whose view changed its `round.state`, on its group's channel from then on."""
        links = set(only if only is not None else self._phones.get(session_id, ()))
        if not links:
            return
        async with self._database.read_session() as db:
            states = await service.phone_states(
                db, session_id=session_id, participant_ids={link.participant_id for link in links}
            )
            unplaced: set[str] = set()
            hinted = [link for link in links if link.hinted] if only is None else []
            # A phone attached on the hint while a round was being opened may have been left out of it
            # (it saw no round; the round's placement did not see the phone). The first change that
            # shows an open round settles it: any later round sees the phone when it opens.
            if hinted and await service.open_round(db, session_id=session_id) is not None:
                outside = {link.participant_id for link in hinted if not states[link.participant_id]["round"]}
                if outside:
                    unplaced = await service.eligible_ids(db, session_id, outside)
                for link in hinted:
                    link.hinted = False
        for participant_id in unplaced:
            await self.place(session_id, participant_id)
        moved = False
        for link in links:
            state = states.get(link.participant_id, {"round": None})
            shown = state["round"]
            group = shown.get("group") if shown else None
            wanted = service.group_channel(session_id, group["id"]) if group else None
            if wanted != link.group_channel:
                if link.group_channel is not None:
                    await self._hub.remove_channel(link.sub, link.group_channel)
                if wanted is not None:
                    await self._hub.add_channel(link.sub, wanted)
                    moved = True
                link.group_channel = wanted
            text = encode("round.state", state)
            if text != link.last:
                link.last = text
                link.sub.deliver(text)
        if moved:
            # A note committed between the read and joining the channel would be missed: read again,
            # which sends the board once more only to phones whose board changed meanwhile.
            await self._refresh(session_id, only=links)

    async def _listen(self, ready: asyncio.Event) -> None:
        while True:
            async with self._hub.subscribe(channels.BREAKOUTS_CHANGED, maxsize=1_000_000) as sub:
                ready.set()
                while True:
                    item = await sub.get()
                    if isinstance(item, Closed):
                        break
                    sessions = {json.loads(item)["data"]["session_id"]}
                    while (more := sub.get_nowait()) is not None:
                        if isinstance(more, Closed):
                            break
                        sessions.add(json.loads(more)["data"]["session_id"])
                    for session_id in sessions:
                        # Counted before the read, so a phone attaching meanwhile reads for itself.
                        self._changes[session_id] += 1
                    for session_id in sessions:
                        try:
                            await self._refresh(session_id)
                        except Exception:
                            log.exception("breakout state could not be sent to phones")
            await asyncio.sleep(self._timer_seconds)
            # The broker came back: views may have been missed.
            for session_id in list(self._phones):
                with contextlib.suppress(Exception):
                    await self._refresh(session_id)

    async def _countdowns(self) -> None:
        """Close rounds whose countdown ended with `auto_close` (any process may; the first wins)."""
        while True:
            await asyncio.sleep(self._timer_seconds)
            try:
                async with self._database.read_session() as db:
                    due = await service.any_expired(db)
                if not due:
                    continue
                async with self._database.session() as db:
                    await service.close_expired(db)
                    await db.commit()
                await outbox.flush(db, self._hub)
            except Exception:
                log.exception("breakout countdowns could not be checked")


def _error(code: str, message: str) -> str:
    return encode("error", {"code": code, "message": message})


Attach = Callable[[Subscription, str, str], Awaitable[PhoneLink]]


@dataclass(slots=True)
class _Pending:
    link: PhoneLink
    message: ClientMessage
    data: Any
    done: asyncio.Future[service.Refused | str | None]


SERVER_ERROR = service.Refused("server_error", "This could not be saved; please send it again.")


class BreakoutWriter(GroupCommit[_Pending]):
    """Phones' breakout messages (notes, +1s, choices) and private messages with group commit: what
    queued while the last batch committed goes in one transaction, each message in a savepoint so a
    refused one records nothing and leaves the others; replies and events only after the commit."""

    name = "breakout-writer"

    def __init__(self, database: Database, hub: Hub, *, batch_max: int) -> None:
        super().__init__(batch_max=batch_max)
        self._database = database
        self._hub = hub

    def put(self, pending: _Pending) -> None:
        self._put(pending)

    async def _write(self, batch: list[_Pending]) -> None:
        outcomes: dict[int, service.Refused | str | None] = {}
        # Notes, the bulk of a busy round, are judged and inserted together; the rest one by one.
        notes = [i for i, p in enumerate(batch) if isinstance(p.data, NoteIn)]
        async with self._database.session() as db:
            try:
                if notes:
                    judged = await service.add_notes(
                        db,
                        [
                            service.NoteRequest(
                                batch[i].link.session_id,
                                batch[i].link.participant_id,
                                str(batch[i].message.id),
                                batch[i].data.round_id,
                                batch[i].data.text,
                            )
                            for i in notes
                        ],
                    )
                    outcomes.update(zip(notes, judged, strict=True))
                for i, pending in enumerate(batch):
                    if i in outcomes:
                        continue
                    queued = len(db.info.get(outbox.KEY, []))
                    try:
                        async with db.begin_nested():
                            await BreakoutLive.apply(db, pending.link, pending.message, pending.data)
                        outcomes[i] = None
                    except service.Refused as refused:
                        # Nothing of it was recorded (the savepoint rolled back), nor announced.
                        del db.info.setdefault(outbox.KEY, [])[queued:]
                        outcomes[i] = refused
                    except IntegrityError:
                        # The same message id twice in one batch: the first is kept, this is its replay.
                        del db.info.setdefault(outbox.KEY, [])[queued:]
                        outcomes[i] = None
                await db.commit()
            except BaseException:
                await db.rollback()
                outbox.discard(db)
                raise
        for i, pending in enumerate(batch):
            if not pending.done.done():
                pending.done.set_result(outcomes[i])
        try:
            await outbox.flush(db, self._hub)
        except Exception:
            log.exception("committed breakout messages could not be announced")

    def _fail(self, batch: list[_Pending]) -> None:
        for pending in batch:
            if not pending.done.done():
                pending.done.set_result(SERVER_ERROR)

    def _refuse(self, item: _Pending, why: Refusal) -> None:
        # Not queued (full, or stopping): nothing recorded, the phone sends it again.
        if not item.done.done():
            item.done.set_result(service.Refused(why.code, why.message))
