"""Small helpers the faces share."""

from __future__ import annotations

from fastapi import Request
from starlette.websockets import WebSocket


def client_address(connection: Request | WebSocket) -> str:
    """The peer address, for in-memory rate limiting only: it is never stored or logged."""
    return connection.client.host if connection.client else "unknown"
