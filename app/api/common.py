"""Small helpers the faces share."""

from __future__ import annotations

from fastapi import Request
from starlette.websockets import WebSocket

from app.auth.ratelimit import FailureLimiter
from app.errors import AppError


def client_address(connection: Request | WebSocket) -> str:
    """The peer address, for in-memory rate limiting only: it is never stored or logged."""
    return connection.client.host if connection.client else "unknown"


def refuse_if_limited(limiter: FailureLimiter, address: str, *, failures: str) -> None:
    """429 with Retry-After while this address has failed too often (`failures` names what failed)."""
    wait = limiter.retry_after(address)
    if wait is not None:
        raise AppError(
            429,
            "too_many_attempts",
            f"Too many {failures}. Try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
