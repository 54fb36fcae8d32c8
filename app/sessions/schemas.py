"""Request and response models of sessions and participants."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# 20,000 characters: a long information sheet, far short of a page that could tie up a phone.
ConsentText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
# k never below 3 (ETHICS 8); 1,000 is past any sensible k and keeps the number sane.
MinGroup = Annotated[int, Field(ge=3, le=1000, strict=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# The languages word-cloud entries can be read in: simplemma reads each, and each has a stopword list
# (app/polls/text/stopwords.py; a test keeps the two lists equal).
Language = Literal["cy", "de", "en", "es", "fr", "it", "nl", "pt"]


class SessionSettingsIn(_Strict):
    min_group: MinGroup = 5
    consent_text: ConsentText | None = None
    language: Language = "en"


class SessionSettingsUpdate(_Strict):
    min_group: MinGroup | None = None
    consent_text: ConsentText | None = None
    language: Language | None = None


class SessionCreate(_Strict):
    title: Title
    settings: SessionSettingsIn = Field(default_factory=SessionSettingsIn)


class SessionUpdate(_Strict):
    title: Title | None = None
    settings: SessionSettingsUpdate | None = None
    closed: Literal[True] | None = None


class SessionSettingsPublic(BaseModel):
    min_group: int
    consent_text: str | None
    language: str


class SessionSummary(BaseModel):
    id: str
    title: str
    code: str
    closed: bool
    created_at: datetime


class JoinRequest(_Strict):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]


class ConsentPublic(BaseModel):
    required: bool
    text: str
    version: str | None


class JoinSessionPublic(BaseModel):
    id: str
    title: str


class JoinPublic(BaseModel):
    participant_token: str
    session: JoinSessionPublic
    consent: ConsentPublic


class ConsentRequest(_Strict):
    version: Annotated[str, StringConstraints(max_length=64)] | None
    agree: Annotated[bool, Field(strict=True)]


class ConsentResult(BaseModel):
    agreed: bool
