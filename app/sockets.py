"""The websocket faces: authenticate, send the snapshot, then hand each message to its service.

Every socket has one outgoing queue (its hub subscription): events of its channels and its own
replies (acks) go through it, so a phone that cannot keep up is dropped with 1013 instead of
holding the server's memory."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ValidationError
from sqlalchemy import bindparam, exists, select
from sqlmodel import col
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketState

from app.auth.deps import LOGIN_COOKIE, account_from_token, bearer_token
from app.auth.security import hash_participant_token
from app.breakouts import live as breakouts_live
from app.breakouts import service as breakouts_service
from app.breakouts.models import BreakoutRound
from app.db import Database
from app.limits import MessageBudget
from app.polls import aggregation, survey
from app.polls import mine as polls_mine
from app.polls import results as polls_results
from app.polls.models import Answer, Entry
from app.polls.schemas import AnswerIn, CommentIn, UpvoteIn
from app.polls.writer import AnswerWriter, MessageType, Outcome
from app.realtime import channels
from app.realtime.envelope import EnvelopeError, decode_client, encode
from app.realtime.hub import BrokerUnavailable, Closed, Hub, Subscription
from app.sessions import service as sessions_service
from app.sessions.deps import participant_token
from app.sessions.headcount import headcount, presence_message
from app.sessions.models import LiveSession, Participant
from app.snapshots import current_question, session_state

log = logging.getLogger(__name__)
router = APIRouter()

POLICY_VIOLATION = 1008
SERVER_ERROR = 1011
RESTARTING_CODE = 1012
# Messages one phone may have waiting for the writer at once; a phone sends one at a time, so 16 only
# bites a misbehaving client, whose further messages are refused instead of growing the writer's queue.
ANSWERS_IN_FLIGHT = 16
# THIRDSPACE_SOCKET_MESSAGES_PER_SECOND: past it a message is refused, nothing recorded.
RATE_LIMITED = {
    "code": "rate_limited",
    "message": "Too many messages from this phone; wait a second, then send it again.",
}
TOO_MANY_PENDING = {
    "code": "too_many_pending",
    "message": "Too many messages are waiting to be saved; wait for their replies, then send again.",
}


@dataclass(frozen=True, slots=True)
class _Accepts:
    """A message type a phone may send: the model of its data, and its refusal when the data is wrong."""

    model: type[BaseModel]
    malformed: str


PHONE_MESSAGES: dict[str, _Accepts] = {
    "answer": _Accepts(AnswerIn, 'An answer\'s data is {"question_id": ..., "value": ...}.'),
    "upvote": _Accepts(UpvoteIn, 'An upvote\'s data is {"question_id": ..., "entry_id": ...}.'),
    "comment": _Accepts(CommentIn, 'A comment\'s data is {"question_id": ..., "text": "..."}.'),
}


def origin_allowed(websocket: WebSocket) -> bool:
    """A browser's handshake must come from our own origin (PUBLIC_URL's, or the Host it was sent to);
    a handshake without Origin is not a browser, and must carry an Authorization header."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return websocket.headers.get("authorization") is not None
    settings = websocket.app.state.settings
    parts = urlsplit(origin)
    if f"{parts.scheme}://{parts.netloc}" == settings.public_origin:
        return True
    host = websocket.headers.get("host")
    return host is not None and parts.netloc == host and parts.scheme in ("http", "https")


async def _refuse(websocket: WebSocket, reason: str) -> None:
    # Accept, then close: closing before accept() is an HTTP 403, not a close code.
    await websocket.accept()
    await websocket.close(POLICY_VIOLATION, reason)


async def _pump(websocket: WebSocket, sub: Subscription) -> None:
    """Send what arrives on the subscription; stop with the code of a Closed marker."""
    while True:
        item = await sub.get()
        if isinstance(item, Closed):
            await websocket.close(item.code, item.reason)
            return
        await websocket.send_text(item)


async def _serve(
    websocket: WebSocket, sub: Subscription, on_message: Callable[[str], Awaitable[None]] | None
) -> None:
    """Receive here while a task sends. When the sender closes the socket (1013, 1012), the client's
    closing handshake ends the receive loop; no task per message."""
    sender = asyncio.create_task(_pump(websocket, sub))
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                sub.deliver(_error("malformed_message", "Send messages as JSON text frames."))
            elif on_message is None:
                sub.deliver(_error("unexpected_message", "This socket only listens."))
            else:
                await on_message(text)
    except WebSocketDisconnect:
        pass
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await sender


def _error(code: str, message: str) -> str:
    return encode("error", {"code": code, "message": message})


class _Phone:
    """What one phone's socket does with its messages: answers, upvotes and comments go to the writer,
    whose reply comes back through the socket's own queue."""

    __slots__ = ("breakouts", "budget", "in_flight", "link", "participant_id", "session_id", "sub", "writer")

    def __init__(
        self,
        sub: Subscription,
        writer: AnswerWriter,
        session_id: str,
        participant_id: str,
        breakouts: breakouts_live.BreakoutLive | None = None,
        link: breakouts_live.PhoneLink | None = None,
        budget: MessageBudget | None = None,
    ) -> None:
        self.breakouts = breakouts
        self.link = link
        self.budget = budget or MessageBudget(rate=5.0, burst=20)
        self.sub = sub
        self.writer = writer
        self.session_id = session_id
        self.participant_id = participant_id
        self.in_flight = 0

    async def on_message(self, text: str) -> None:
        sub = self.sub
        try:
            message = decode_client(text)
        except EnvelopeError as e:
            sub.deliver(_error(e.code, e.message))
            return
        if not self.budget.take():
            refusal = {"id": message.id, **RATE_LIMITED} if message.id is not None else RATE_LIMITED
            sub.deliver(encode(f"{message.type}.error" if message.id is not None else "error", refusal))
            return
        if message.type in breakouts_live.PHONE_MESSAGES and self.breakouts and self.link:
            # Notes, +1s, private messages, choosing a group: app/breakouts/live.py.
            await self.breakouts.on_message(self.link, message)
            return
        accepts = PHONE_MESSAGES.get(message.type)
        if accepts is None:
            sub.deliver(
                _error(
                    "unknown_type",
                    f'Phones send "answer", "upvote", "comment", "note", "plus", "private", "group.choose", '
                    f'"group.decline" and "group.rejoin" messages, not "{message.type}".',
                )
            )
            return
        if message.id is None:
            sub.deliver(
                _error(
                    "missing_id", f'A "{message.type}" needs an "id" made by the phone, unique per message.'
                )
            )
            return
        try:
            data = accepts.model.model_validate(message.data)
        except ValidationError:
            sub.deliver(
                encode(
                    f"{message.type}.error",
                    {"id": message.id, "code": f"malformed_{message.type}", "message": accepts.malformed},
                )
            )
            return
        if self.in_flight >= ANSWERS_IN_FLIGHT:
            sub.deliver(encode(f"{message.type}.error", {"id": message.id, **TOO_MANY_PENDING}))
            return
        self.in_flight += 1
        if isinstance(data, AnswerIn):
            value = data.value
        elif isinstance(data, UpvoteIn):
            value = data.entry_id
        else:
            value = cast(CommentIn, data).text
        self.writer.submit_nowait(
            session_id=self.session_id,
            participant_id=self.participant_id,
            client_id=message.id,
            question_id=cast(AnswerIn, data).question_id,
            value=value,
            reply=functools.partial(self._reply, message.type, message.id),
            type_=cast(MessageType, message.type),
        )

    def _reply(self, type_: str, client_id: str, outcome: Outcome) -> None:
        self.in_flight -= 1
        if outcome.ok:
            ack = {"id": client_id, "entry_id": outcome.entry_id} if outcome.entry_id else {"id": client_id}
            self.sub.deliver(encode(f"{type_}.ack", ack))
        else:
            self.sub.deliver(
                encode(f"{type_}.error", {"id": client_id, "code": outcome.code, "message": outcome.message})
            )


SocketHandler = Callable[[WebSocket, str], Awaitable[None]]


def _closes_1011_on_error(handler: SocketHandler) -> SocketHandler:
    """An unexpected error closes the socket with 1011 (a browser would otherwise see 1006)."""

    @functools.wraps(handler)
    async def wrapped(websocket: WebSocket, session_id: str) -> None:
        try:
            await handler(websocket, session_id)
        except (WebSocketDisconnect, asyncio.CancelledError):
            raise
        except BrokerUnavailable:
            # Redis is away: like a restart, the client reconnects (with backoff) and catches up.
            log.warning("broker unavailable; a socket is asked to reconnect")
            with contextlib.suppress(Exception):
                if websocket.application_state == WebSocketState.CONNECTING:
                    await websocket.accept()
                if websocket.application_state == WebSocketState.CONNECTED:
                    await websocket.close(RESTARTING_CODE, "broker unavailable; reconnect shortly")
        except Exception:
            log.exception("websocket handler failed")
            if websocket.application_state == WebSocketState.CONNECTED:
                with contextlib.suppress(Exception):
                    await websocket.close(SERVER_ERROR, "unexpected server error")

    return wrapped


@dataclass(frozen=True, slots=True)
class _PhoneOnArrival:
    participant_id: str
    has_own: bool  # answers or entries to send back in `answers.mine`
    round_open: bool  # a breakout round of the session was open


# Built once: a statement reused as is skips building and compiling it again for every socket.
_HOLDER = col(Participant.id)
_PHONE_ON_ARRIVAL = select(
    _HOLDER,
    exists().where(col(Answer.participant_id) == _HOLDER),
    exists().where(col(Entry.participant_id) == _HOLDER, col(Entry.comment).is_(False)),
    exists().where(
        col(BreakoutRound.session_id) == bindparam("session_id"), col(BreakoutRound.closed_at).is_(None)
    ),
).where(
    col(Participant.token_hash) == bindparam("token_hash"),
    col(Participant.session_id) == bindparam("session_id"),
)


async def _phone_of(database: Database, *, session_id: str, token: str) -> _PhoneOnArrival | None:
    """The participant holding this token, and what their socket needs to know on arrival, in one
    statement: in a join burst every phone's socket comes through here."""
    row = await database.read_row(
        _PHONE_ON_ARRIVAL, {"session_id": session_id, "token_hash": hash_participant_token(token)}
    )
    if row is None:
        return None
    participant_id, answered, entered, round_open = row
    return _PhoneOnArrival(participant_id, bool(answered or entered), bool(round_open))


PHONE_SOCKET_PREFIX = "/ws/participant/"


class PhoneSocketsFirst:
    """Pure ASGI, the outermost of the app's own middleware: a phone's socket goes straight to
    `participant_socket`, past the layers and the router it does not need (the other middleware let
    websockets through, no exception handler applies to them, the route takes no dependencies). In a
    join burst every phone opens one, and that stack was a tenth of the server's CPU. The route stays
    registered, so the router still refuses what does not match it (a trailing slash, a longer path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            path, root = scope["path"], scope.get("root_path", "")
            if root and path.startswith(root + "/"):
                path = path[len(root) :]  # as the router matches it
            if path.startswith(PHONE_SOCKET_PREFIX):
                session_id = path[len(PHONE_SOCKET_PREFIX) :]
                if session_id and "/" not in session_id:
                    scope["path_params"] = {"session_id": session_id}
                    await participant_socket(WebSocket(scope, receive, send), session_id)
                    return
        await self.app(scope, receive, send)


@router.websocket(PHONE_SOCKET_PREFIX + "{session_id}")
@_closes_1011_on_error
async def participant_socket(websocket: WebSocket, session_id: str) -> None:
    """A phone: session.state and poll.results in; answers out, each acked once committed."""
    app = websocket.app
    if not origin_allowed(websocket):
        await _refuse(websocket, "origin not allowed")
        return
    token = participant_token(websocket.headers.get("authorization"), websocket.cookies, session_id)
    database: Database = app.state.database
    hub: Hub = app.state.hub
    writer: AnswerWriter = app.state.writer
    breakouts: breakouts_live.BreakoutLive = app.state.breakouts
    changes_before = breakouts.changes(session_id)  # before the read: see BreakoutLive.attach
    found = None
    if token:
        found = await _phone_of(database, session_id=session_id, token=token)
    if found is None:
        await _refuse(websocket, "join the session first")
        return
    participant_id = found.participant_id
    await websocket.accept()
    last_seq = _last_seq(websocket)
    async with hub.subscribe(channels.participants(session_id)) as sub:
        app.state.presence.join(session_id)
        try:
            await _send_start(websocket, sub, session_id, to_presenter=False, last_seq=last_seq)
            # What this phone already sent, after the (shared) snapshot: its own, never cached. A new
            # phone has nothing to be told, and is not asked.
            if found.has_own:
                async with database.read_session() as db:
                    own = await polls_mine.mine(db, session_id=session_id, participant_id=participant_id)
                if own["answers"] or own["entries"]:
                    sub.deliver(encode("answers.mine", own))
            link = await breakouts.attach(
                sub, session_id, participant_id, no_round_at=None if found.round_open else changes_before
            )
            try:
                limits = app.state.settings
                budget = MessageBudget(
                    rate=limits.SOCKET_MESSAGES_PER_SECOND, burst=limits.SOCKET_MESSAGE_BURST
                )
                phone = _Phone(sub, writer, session_id, participant_id, breakouts, link, budget)
                await _serve(websocket, sub, phone.on_message)
            finally:
                breakouts.detach(link)
        finally:
            app.state.presence.leave(session_id)


@router.websocket("/ws/presenter/{session_id}")
@_closes_1011_on_error
async def presenter_socket(websocket: WebSocket, session_id: str) -> None:
    """A presenter screen: session.state, every shown poll.results, presence. The session's researchers
    may watch one too (results under k, as any screen shows them)."""
    await _facilitator_socket(websocket, session_id, (channels.presenters(session_id),), researchers_too=True)


@router.websocket("/ws/console/{session_id}")
@_closes_1011_on_error
async def console_socket(websocket: WebSocket, session_id: str) -> None:
    """The facilitator's console: everything a presenter gets, plus what only the facilitator may see
    (the moderation queue now; rounds, notes and private messages later), on its own channel."""
    await _facilitator_socket(
        websocket, session_id, (channels.presenters(session_id), channels.console(session_id)), console=True
    )


async def _facilitator_socket(
    websocket: WebSocket,
    session_id: str,
    listens: tuple[str, ...],
    *,
    researchers_too: bool = False,
    console: bool = False,
) -> None:
    """The session owner's sockets: the same credential, ownership and Origin rules and snapshot."""
    app = websocket.app
    if not origin_allowed(websocket):
        await _refuse(websocket, "origin not allowed")
        return
    token = bearer_token(websocket.headers.get("authorization")) or websocket.cookies.get(LOGIN_COOKIE)
    database: Database = app.state.database
    async with database.read_session() as db:
        account = await account_from_token(db, app.state.secret_key, token) if token else None
        live = await db.get(LiveSession, session_id) if account else None
        allowed = account is not None and live is not None and live.owner_id == account.id
        if not allowed and researchers_too and account is not None and live is not None:
            allowed = await sessions_service.is_researcher(db, session_id=session_id, account=account)
    if not allowed:
        await _refuse(websocket, "log in as this session's facilitator")
        return
    await websocket.accept()
    last_seq = _last_seq(websocket)
    async with app.state.hub.subscribe(*listens) as sub:
        await _send_start(websocket, sub, session_id, to_presenter=True, last_seq=last_seq)
        try:
            participants = await app.state.presence.total(session_id)
        except BrokerUnavailable:
            participants = app.state.presence.count(session_id)
        async with database.read_session() as db:
            live = await db.get(LiveSession, session_id)
            counted = await headcount(db, live=live) if live is not None else None
        sub.deliver(encode("presence", presence_message(participants, counted)))
        if console:
            async with database.read_session() as db:
                sub.deliver(encode("round.state", await breakouts_service.console_state(db, session_id)))
        await _serve(websocket, sub, None)


def _last_seq(websocket: WebSocket) -> int | str | None:
    """`?last_seq=N` of a reconnecting client: a whole number >= 0, None when absent, or the refusal
    (an `error` message; the socket then starts from a snapshot)."""
    raw = websocket.query_params.get("last_seq")
    if raw is None:
        return None
    if raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    return _error(
        "malformed_last_seq", "last_seq must be a whole number of 0 or more; sent a snapshot instead."
    )


# A catch-up raced by newer events is read again this many times before a snapshot is sent instead.
CATCH_UP_TRIES = 3


async def _send_start(
    websocket: WebSocket,
    sub: Subscription,
    session_id: str,
    *,
    to_presenter: bool,
    last_seq: int | str | None,
) -> None:
    """What a socket gets first. With a usable `?last_seq=N`: the events meant for it after N, in
    order, then the current question's poll.results where this socket may see it (CONTRACT). Without
    one, or when those events are no longer all kept, or when N is ahead of the session's seq (the
    broker came back empty): a snapshot."""
    if isinstance(last_seq, str):
        refusal, last_seq = last_seq, None
        seq, texts = await _snapshot(websocket, session_id, to_presenter=to_presenter)
        sub.snapshot_first(texts, seq=seq)
        sub.deliver(refusal)
        return
    hub: Hub = websocket.app.state.hub
    if not hub.broker_up:
        # The broker is away: a snapshot without a seq, so phones can still answer (the writer needs
        # no broker); when the broker is back every socket is told to reconnect, and catches up.
        texts = await _read_snapshot(
            websocket.app.state.database, session_id, None, to_presenter=to_presenter
        )
        sub.snapshot_first(texts, seq=0)
        return
    if last_seq is not None:
        for _ in range(CATCH_UP_TRIES):
            caught = await hub.catch_up(session_id, last_seq, sub.channels)
            if caught is None:
                break
            replayed, upto = caught
            seq, texts = await _snapshot(websocket, session_id, to_presenter=to_presenter)
            if seq != upto:
                continue  # newer events came in between: read both again
            results = [t for t in texts if t.startswith('{"type":"poll.results"')]
            sub.snapshot_first([*replayed, *results], seq=seq)
            return
    seq, texts = await _snapshot(websocket, session_id, to_presenter=to_presenter)
    sub.snapshot_first(texts, seq=seq)


async def _snapshot(websocket: WebSocket, session_id: str, *, to_presenter: bool) -> tuple[int, list[str]]:
    """session.state with "snapshot": true, then the current question's results where this socket may
    see them, and the seq they were read at. Read after subscribing, so nothing published meanwhile is
    lost; the seq is read before the database, so every event up to it is in the snapshot.

    Every change a snapshot shows is published with a new seq, so a snapshot read at one seq holds
    until the next: a join burst of thousands of phones reads the database once, not once per phone."""
    app = websocket.app
    seq = await app.state.hub.current_seq(session_id)
    cache: dict[tuple[str, bool], tuple[int, list[str]]] = app.state.snapshots
    cached = cache.get((session_id, to_presenter))
    if cached is not None and cached[0] == seq:
        return seq, cached[1]
    # The sockets that arrive while one reads this snapshot wait for that read instead of each
    # reading it too (a join burst is hundreds of sockets in flight when the seq moves on).
    reads: dict[tuple[str, bool, int], asyncio.Future[list[str] | None]] = app.state.snapshot_reads
    key = (session_id, to_presenter, seq)
    shared = reads.get(key)
    if shared is not None:
        texts = await asyncio.shield(shared)
        if texts is not None:
            return seq, texts
        # That read failed or was cancelled: read here (an error then reaches this socket too).
        return seq, await _read_snapshot(app.state.database, session_id, seq, to_presenter=to_presenter)
    shared = asyncio.get_running_loop().create_future()
    reads[key] = shared
    try:
        texts = await _read_snapshot(app.state.database, session_id, seq, to_presenter=to_presenter)
    except BaseException:
        shared.set_result(None)
        raise
    finally:
        del reads[key]
    shared.set_result(texts)
    cache[(session_id, to_presenter)] = (seq, texts)
    return seq, texts


async def _read_snapshot(
    database: Database, session_id: str, seq: int | None, *, to_presenter: bool
) -> list[str]:
    async with database.read_session() as db:
        live = await db.get(LiveSession, session_id)
        if live is None:
            return []
        question = await current_question(db, live)
        state = session_state(live, question, facilitator=to_presenter) | {"snapshot": True}
        result = None
        if question is not None and (to_presenter or question.results_visible):
            result = await polls_results.shown(db, question=question, k=live.min_group)
        responses = None
        if question is not None and to_presenter:
            responses = await aggregation.responses(db, question_id=question.id)
        surveyed = await survey.survey_state(db, session_id=session_id, facilitator=to_presenter)
    texts = [encode("session.state", state, seq=seq)]
    if surveyed["survey"] is not None:
        texts.append(encode("survey.state", surveyed, seq=seq))
    if result is not None:
        texts.append(encode("poll.results", result.data(), seq=seq))
    if question is not None and responses is not None:
        texts.append(
            encode("poll.responses", polls_results.responses_message(question.id, responses), seq=seq)
        )
    return texts
