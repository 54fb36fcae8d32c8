"""Accounts: create, authenticate, look up."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth import security
from app.auth.models import Account, Role


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
    """Replace an account's password."""
    account.password_hash = security.hash_password(password)
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
