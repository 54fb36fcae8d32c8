"""POST /api/auth/token: a bearer token for an account; POST /api/auth/logout ends it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request

from app.api.common import client_address, refuse_if_limited
from app.auth import security
from app.auth import service as auth_service
from app.auth.deps import FACILITATOR_REFUSALS, LOGIN_COOKIE, CurrentAccount, bearer_token
from app.auth.schemas import LogoutPublic, TokenPublic
from app.db import Db
from app.errors import AppError, error_responses

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


@router.post(
    "/token",
    responses=error_responses(
        400,
        401,
        422,
        429,
        s401="The e-mail address and password do not match an account (`invalid_credentials`).",
        s429="Too many failed logins from this address (`too_many_attempts`), the right password too; "
        "`Retry-After` says when to try again.",
    ),
)
async def create_token(
    request: Request,
    # 320: the longest e-mail address; 1,024: far past any password, short of one that ties up argon2.
    username: Annotated[str, Form(min_length=1, max_length=320, description="The account's e-mail address.")],
    password: Annotated[str, Form(min_length=1, max_length=1024)],
) -> TokenPublic:
    """Exchange an e-mail address and password for a bearer token (form fields, not JSON)."""
    token = await login(request, email=username, password=password)
    return TokenPublic(access_token=token, expires_in=request.app.state.settings.ACCESS_TOKEN_SECONDS)


@router.post("/logout", responses=error_responses(*FACILITATOR_REFUSALS))
async def logout(request: Request, db: Db, account: CurrentAccount) -> LogoutPublic:
    """End the login this request was made with (its bearer token, or the login cookie with
    `X-CSRF-Token`): the token is refused from now on, everywhere. Other logins of the account go on;
    a password change (`thirdspace user password`) ends them all."""
    token = bearer_token(request.headers.get("authorization")) or request.cookies.get(LOGIN_COOKIE, "")
    parsed = security.read_access_token(request.app.state.secret_key, token)
    assert parsed is not None and parsed.account_id == account.id  # CurrentAccount has checked it
    await auth_service.revoke_token(db, token=token, expires_at=parsed.expires_at)
    return LogoutPublic()
