"""Request and response models of accounts."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class TokenPublic(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
