"""POST /api/auth/token: a bearer token for an account."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request

from app.api.common import client_address, refuse_if_limited
from app.auth import security
from app.auth import service as auth_service
from app.auth.schemas import TokenPublic
from app.errors import AppError

router = APIRouter(prefix="/api/auth", tags=["accounts"])


async def login(request: Request, *, email: str, password: str) -> str:
    """A signed access token for these credentials; 401 when wrong, 429 after repeated failures. It
    reads without a write session: argon2 takes about 0.1 s, which must not hold the write lock."""
    limiter = request.app.state.login_limiter
    address = client_address(request)
    refuse_if_limited(limiter, address, failures="failed logins")
    async with request.app.state.database.read_session() as db:
        account = await auth_service.authenticate(db, email=email, password=password)
    if account is None:
        limiter.fail(address)
        raise AppError(
            401, "invalid_credentials", "That e-mail address and password do not match an account."
        )
    settings = request.app.state.settings
    return security.issue_access_token(
        request.app.state.secret_key, account.id, settings.ACCESS_TOKEN_SECONDS
    )


@router.post("/token")
async def create_token(
    request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()]
) -> TokenPublic:
    """Exchange an e-mail address and password for a bearer token."""
    token = await login(request, email=username, password=password)
    return TokenPublic(access_token=token, expires_in=request.app.state.settings.ACCESS_TOKEN_SECONDS)
