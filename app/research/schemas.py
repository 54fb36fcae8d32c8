"""Response models of the research routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditEventPublic(BaseModel):
    at: datetime
    actor: str = Field(description="The account's e-mail, 'participant' (a withdrawal) or 'command line'.")
    action: str = Field(description="session.create, question.open, export, withdrawal, purge, ...")
    detail: dict[str, Any] = Field(description="Ids and counts only; never content.")


class AuditPublic(BaseModel):
    events: list[AuditEventPublic]
