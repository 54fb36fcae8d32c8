"""Small helpers the faces share."""

from __future__ import annotations

from fastapi import Request
from starlette.websockets import WebSocket

from app.auth.ratelimit import FailureLimiter
from app.errors import AppError


def client_address(connection: Request | WebSocket) -> str:
    """The peer address, for in-memory rate limiting only: it is never stored or logged."""
    return connection.client.host if connection.client else "unknown"


def too_many_wrong_codes(wait: int) -> AppError:
    """The 429 of a wrong join code from an address that sent too many: it was looked at only after a
    wait, and the next one waits as long (a right code is let in after the same wait, never refused)."""
    return AppError(
        429,
        "too_many_attempts",
        "That code is not right, and many wrong codes came from your network, so each new code is "
        f"checked only after a wait of {wait} seconds. Check the code on the screen and type it again.",
        headers={"Retry-After": str(wait)},
    )


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
