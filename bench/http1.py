"""A minimal keep-alive HTTP/1.1 client for the join burst.

httpx costs about a millisecond of CPU per request; at 10,000 joins on two cores shared with the server
that would make the harness, not the server, the limit. This client writes the request bytes itself and
parses the response with httptools (a uvicorn dependency), over a pool of persistent connections.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

import httptools


class HttpError(Exception):
    """The connection broke or the response could not be parsed."""


class _Conn(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.body: list[bytes] = []
        self.keep_alive = True
        self.lost = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(HttpError(f"bad response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._fail(HttpError(f"connection lost: {exc!r}"))

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.body = []

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((self.parser.get_status_code(), b"".join(self.body)))

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


class Http1Pool:
    """Up to ``size`` keep-alive connections to one host; a request waits for a free one."""

    def __init__(self, host: str, port: int, size: int) -> None:
        self.host = host
        self.port = port
        self._free: asyncio.LifoQueue[_Conn | None] = asyncio.LifoQueue()
        for _ in range(size):
            self._free.put_nowait(None)
        self._all: set[_Conn] = set()

    async def _connect(self) -> _Conn:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_connection(_Conn, self.host, self.port)
        self._all.add(proto)
        return proto

    async def post_json(self, path: str, payload: dict[str, Any], within: float) -> tuple[int, bytes]:
        body = json.dumps(payload, separators=(",", ":")).encode()
        raw = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        conn = await self._free.get()
        try:
            if conn is None or conn.lost or not conn.keep_alive:
                if conn is not None:
                    conn.close()
                    self._all.discard(conn)
                conn = await asyncio.wait_for(self._connect(), within)
            result = await asyncio.wait_for(conn.request(raw), within)
        except BaseException:
            if conn is not None:
                conn.close()
                self._all.discard(conn)
            self._free.put_nowait(None)
            raise
        self._free.put_nowait(conn)
        return result

    def close(self) -> None:
        for conn in self._all:
            conn.close()
        self._all.clear()
