"""Request and response models of accounts."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class TokenPublic(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105  (the OAuth2 token type, not a secret)
    expires_in: int


class LogoutPublic(BaseModel):
    logged_out: Literal[True] = True
