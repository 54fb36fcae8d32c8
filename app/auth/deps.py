"""Who is calling: the account behind a bearer token or the login cookie, with CSRF on cookie writes."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from app.auth import security
from app.auth import service as auth_service
from app.auth.models import Account, Role
from app.db import Db
from app.errors import AppError

LOGIN_COOKIE = "ts_login"
CSRF_COOKIE = "csrf"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

# The two ways to be an account, as the OpenAPI describes them (either one will do). They only read
# the credential; the checks below decide.
_access_token = HTTPBearer(
    scheme_name="AccessToken",
    description="An account's access token, from `POST /api/auth/token`.",
    auto_error=False,
)
_login_cookie = APIKeyCookie(
    name=LOGIN_COOKIE,
    scheme_name="LoginCookie",
    description="The browser pages' login cookie. Writes made with it also send `X-CSRF-Token`, equal "
    "to the `csrf` cookie.",
    auto_error=False,
)
# What an [F] route may refuse before it looks at anything else: no or a bad credential (401), a role
# that may not do this or a cookie write without its CSRF token (403).
FACILITATOR_REFUSALS = (401, 403)


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def _unauthenticated() -> AppError:
    return AppError(
        401,
        "not_authenticated",
        "Log in first, or send a valid token.",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def account_from_token(db: Db, secret: str, token: str) -> Account | None:
    """The account a signed access token names, if the token is valid, the account exists, and the
    login was not ended (logged out, or the password changed since)."""
    parsed = security.read_access_token(secret, token)
    if parsed is None:
        return None
    account = await db.get(Account, parsed.account_id)
    if account is None or auth_service.issued_before_password_change(account, parsed.issued_at_ms):
        return None
    if await auth_service.is_revoked(db, token=token):
        return None
    return account


async def _current_account(
    request: Request,
    db: Db,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_access_token)],
    cookie: Annotated[str | None, Depends(_login_cookie)],
) -> Account:
    secret: str = request.app.state.secret_key
    token = bearer.credentials.strip() or None if bearer is not None else None
    from_cookie = token is None
    if from_cookie:
        token = cookie
    if not token:
        raise _unauthenticated()
    account = await account_from_token(db, secret, token)
    if account is None:
        raise _unauthenticated()
    if from_cookie and request.method not in _SAFE_METHODS:
        sent = request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(sent, security.csrf_token_for(secret, token)):
            raise AppError(
                403, "csrf_failed", "This request lacks the page's CSRF token; reload the page and try again."
            )
    return account


CurrentAccount = Annotated[Account, Depends(_current_account)]


async def _current_facilitator(account: CurrentAccount) -> Account:
    if account.role not in (Role.facilitator.value, Role.admin.value):
        raise AppError(403, "forbidden", "Only facilitator accounts run sessions.")
    return account


CurrentFacilitator = Annotated[Account, Depends(_current_facilitator)]
