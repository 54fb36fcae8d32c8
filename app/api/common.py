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
    """The 429 of a join whose code was not even looked at: its address sent too many wrong codes."""
    minutes = max(1, round(wait / 60))
    return AppError(
        429,
        "too_many_attempts",
        "Too many wrong codes from your network. Check the code on the screen: the code others here "
        f"joined with still works. Other codes work again in {minutes} minute{'s' if minutes != 1 else ''}.",
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
