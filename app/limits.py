"""What one client may make the server hold: request bodies capped before they are read, and a
per-socket message budget. (The writers' queues are bounded in app/batching.py, the snapshot cache
below.)"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from typing import Generic, TypeVar

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

K = TypeVar("K")
V = TypeVar("V")

# 256 KiB: the largest legitimate body (but a template, below) is a session's information sheet, 20,000
# characters, which is at most 120 KB of JSON even with every character escaped (\uXXXX); uvicorn
# itself reads any size.
BODY_MAX = 256 * 1024
# 4 KiB for what anyone may send without an account (a join code, a withdrawal code, a login form):
# the largest is a login form with a 320-character e-mail address and a long password.
SMALL_BODY_MAX = 4 * 1024
# Only facilitators' routes take large bodies, all under /api/sessions.
LARGE_BODY_PREFIXES = ("/api/sessions",)
# 1 MiB for a template file (app.polls.template_files.parse reads no more, from the API or the command
# line): the template of a large session (hundreds of questions, a long information sheet) passes 256 KiB.
TEMPLATE_BODY_MAX = 1024 * 1024
TEMPLATE_IMPORT_PATH = "/api/sessions/import"


def body_limit_for(path: str) -> int:
    if path == TEMPLATE_IMPORT_PATH:
        return TEMPLATE_BODY_MAX
    return BODY_MAX if path.startswith(LARGE_BODY_PREFIXES) else SMALL_BODY_MAX


def _too_large_message(limit: int) -> str:
    return f"The request body is too large: at most {limit // 1024} KiB is accepted here. Send less."


def _too_large_body(limit: int) -> bytes:
    return json.dumps({"error": {"code": "body_too_large", "message": _too_large_message(limit)}}).encode()


class BodyTooLarge(HTTPException):
    """Raised while the body is read; an HTTPException, so FastAPI passes it on instead of calling it a
    malformed body, and app.errors renders it in the one error shape."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large_message(limit))
        self.limit = limit


async def _refuse(send: Send, limit: int) -> None:
    body = _too_large_body(limit)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The body was not read: the connection cannot carry another request.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Pure ASGI: a declared Content-Length over the limit is refused with 413 before a byte of the body
    is read; a body without one (chunked) is counted as it arrives and refused once it passes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit_for(scope["path"])
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
                break
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _refuse(send, limit)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await _refuse(send, limit)


class BoundedCache(OrderedDict[K, V], Generic[K, V]):
    """A dict that forgets its least recently written entries past `max_entries`."""

    def __init__(self, max_entries: int) -> None:
        super().__init__()
        self.max_entries = max_entries

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.max_entries:
            self.popitem(last=False)


class MessageBudget:
    """A token bucket per socket: `rate` messages a second on average, `burst` at once."""

    __slots__ = ("_at", "_tokens", "burst", "rate")

    def __init__(self, *, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._at = time.monotonic()

    def take(self) -> bool:
        """Spend one message; False when the budget is empty (the message is refused)."""
        now = time.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
