"""Accounts: create, authenticate, look up; end logins (logging out, changing the password)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth import security
from app.auth.models import Account, RevokedToken, Role
from app.db import insert_for, table_of, utcnow


class AccountExists(ValueError):
    pass


async def create_account(
    db: AsyncSession, *, email: str, password: str, role: Role = Role.facilitator
) -> Account:
    """Create an account with an argon2id password hash."""
    email = email.strip().lower()
    if await get_by_email(db, email=email) is not None:
        raise AccountExists(f"An account for {email} already exists.")
    account = Account(email=email, password_hash=security.hash_password(password), role=role.value)
    db.add(account)
    await db.flush()
    return account


async def set_password(db: AsyncSession, *, account: Account, password: str) -> None:
    """Replace an account's password, and end every login made with the old one."""
    account.password_hash = security.hash_password(password)
    account.tokens_valid_after = utcnow()
    db.add(account)
    await db.flush()


async def get_by_email(db: AsyncSession, *, email: str) -> Account | None:
    """The account with this e-mail address, if any."""
    result = await db.execute(select(Account).where(col(Account.email) == email.strip().lower()))
    return result.scalar_one_or_none()


async def authenticate(db: AsyncSession, *, email: str, password: str) -> Account | None:
    """The account when the password is right; None otherwise (in the same time either way)."""
    account = await get_by_email(db, email=email)
    # argon2 is deliberately slow (about 0.1 s): in a thread, so the event loop keeps serving sockets.
    ok = await asyncio.to_thread(
        security.verify_password, password, account.password_hash if account else None
    )
    return account if ok and account is not None else None


async def revoke_token(db: AsyncSession, *, token: str, expires_at: int) -> None:
    """End one login (logging out): its token is refused from now on. Tokens past their expiry are
    dropped from the list on the way (they are refused anyway)."""
    now = utcnow()
    await db.execute(delete(RevokedToken).where(col(RevokedToken.expires_at) < now))
    stmt = insert_for(db, table_of(RevokedToken)).values(
        token_hash=security.access_token_hash(token),
        expires_at=datetime.fromtimestamp(expires_at, UTC),
    )
    await db.execute(stmt.on_conflict_do_nothing(index_elements=["token_hash"]))


async def is_revoked(db: AsyncSession, *, token: str) -> bool:
    """Whether this token was ended by logging out."""
    return await db.get(RevokedToken, security.access_token_hash(token)) is not None


def issued_before_password_change(account: Account, issued_at_ms: int) -> bool:
    """Whether a token was issued before the account's latest password change."""
    changed = account.tokens_valid_after
    return changed is not None and issued_at_ms < int(changed.timestamp() * 1000)
