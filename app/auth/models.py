"""Account tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Column, Field, SQLModel

from app.db import UTCDateTime, new_id, utcnow


class Role(StrEnum):
    facilitator = "facilitator"
    researcher = "researcher"
    admin = "admin"


class Account(SQLModel, table=True):
    __tablename__ = "account"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    email: str = Field(unique=True, max_length=320)
    password_hash: str = Field(max_length=255)
    role: str = Field(default=Role.facilitator.value, max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # Access tokens issued before this are refused: a password change ends every existing login.
    tokens_valid_after: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class RevokedToken(SQLModel, table=True):
    """An access token ended by logging out, by its SHA-256, kept until it would have expired anyway."""

    __tablename__ = "revoked_token"

    token_hash: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
