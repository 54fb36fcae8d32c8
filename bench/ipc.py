"""Messages between the orchestrator and the phone workers, over asyncio streams on a socket pair.

The pair comes from ``multiprocessing.Pipe`` (so it crosses a spawn), but is then read and written with
asyncio: ``Connection.recv`` cannot be used from an event loop, whose reader makes the socket
non-blocking and so breaks messages larger than the socket buffer. Frames are a 4-byte length and JSON
(every message is plain data: dicts, lists, strings and floats).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from multiprocessing.connection import Connection
from typing import Any

EOF_MARK: dict[str, Any] = {"event": "eof"}


class AsyncConn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, conn: Connection) -> AsyncConn:
        sock = socket.socket(fileno=os.dup(conn.fileno()))
        conn.close()
        reader, writer = await asyncio.open_connection(sock=sock, limit=2**20)
        return cls(reader, writer)

    def send(self, message: dict[str, Any]) -> None:
        """Queue one message; the transport writes it as the socket takes it."""
        data = json.dumps(message, separators=(",", ":")).encode()
        self._writer.write(len(data).to_bytes(4, "big") + data)

    async def drain(self) -> None:
        await self._writer.drain()

    async def recv(self) -> dict[str, Any]:
        try:
            header = await self._reader.readexactly(4)
            data = await self._reader.readexactly(int.from_bytes(header, "big"))
        except (asyncio.IncompleteReadError, ConnectionError):
            return EOF_MARK
        message: dict[str, Any] = json.loads(data)
        return message

    async def close(self) -> None:
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except (ConnectionError, OSError):
            pass
