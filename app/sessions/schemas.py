"""Request and response models of sessions and participants.

The request models refuse only what their JSON Schema says (app/fields.py); rules that depend on the
session's state (a closed session, a k that answers forbid lowering) are 409s, named in the routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.fields import STRIP, WHOLE, not_blank

Title = Annotated[str, not_blank(200), STRIP, Field(description="1 to 200 characters, not only spaces.")]
# 20,000 characters: a long information sheet, far short of a page that could tie up a phone.
ConsentText = Annotated[
    str,
    Field(
        max_length=20_000,
        description="The information sheet participants agree to before answering; empty or only spaces "
        "means none. Up to 20,000 characters.",
    ),
    STRIP,
]
# k never below 3 (ETHICS 8); 1,000 is past any sensible k and keeps the number sane.
MinGroup = Annotated[
    int,
    Field(
        strict=True,
        ge=3,
        le=1000,
        description="k: the fewest answers any shown result may be made of. A whole number from 3 to "
        "1,000 (13.0 is read as 13).",
    ),
    WHOLE,
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# The languages word-cloud entries can be read in: simplemma reads each, and each has a stopword list
# (app/polls/text/stopwords.py; a test keeps the two lists equal).
Language = Literal["cy", "de", "en", "es", "fr", "it", "nl", "pt"]


# A day to ten years: how long raw answers are kept after the session closes (ETHICS 15).
RetentionDays = Annotated[
    int,
    Field(
        strict=True,
        ge=1,
        le=3650,
        description="Days after the session closes (or, left open, after it was created) that "
        "`thirdspace purge` deletes its raw answers, entries, notes and messages: 1 to 3,650.",
    ),
    WHOLE,
]
ExportMinutes = Annotated[
    bool,
    Field(
        strict=True,
        description="Exports give each answer's minutes since the session's first question opened "
        "(never the time of day). Can be turned on only before the first answer.",
    ),
]


class SessionSettingsIn(_Strict):
    min_group: MinGroup = 5
    consent_text: ConsentText | None = None
    language: Language = Field(
        default="en",
        description="The language word-cloud entries are read in (lemmas, stopwords); it cannot change "
        "once the session has an answer.",
    )
    retention_days: RetentionDays | None = Field(
        default=None, description="Default: the server's THIRDSPACE_RETENTION_DAYS."
    )
    export_minutes: ExportMinutes = False


class SessionSettingsUpdate(_Strict):
    min_group: MinGroup | None = None
    consent_text: ConsentText | None = None
    language: Language | None = None
    retention_days: RetentionDays | None = None
    export_minutes: ExportMinutes | None = None


class SessionCreate(_Strict):
    title: Title
    settings: SessionSettingsIn = Field(default_factory=SessionSettingsIn)


class SessionUpdate(_Strict):
    title: Title | None = None
    settings: SessionSettingsUpdate | None = None
    closed: Literal[True] | None = Field(default=None, description="true closes the session for good.")


class SessionSettingsPublic(BaseModel):
    min_group: int = Field(description="k, the fewest answers any shown result may be made of.")
    consent_text: str | None = Field(description="The information sheet, or null for none.")
    language: str = Field(description="The language word-cloud entries are read in.")
    retention_days: int = Field(description="Days raw answers are kept after the session closes.")
    export_minutes: bool = Field(description="Whether exports carry minutes since the start.")


class SessionPublic(BaseModel):
    """A session as the API shows it (its questions are added by the polls domain)."""

    id: str
    title: str
    code: str = Field(description="8 digits; valid until the session closes.")
    join_url: str
    presenter_url: str
    settings: SessionSettingsPublic
    closed: bool
    created_at: datetime
    current_question_id: str | None


class SessionSummaryPublic(BaseModel):
    id: str
    title: str
    code: str
    closed: bool
    created_at: datetime
    role: Literal["facilitator", "researcher"] = Field(
        default="facilitator",
        description="facilitator: your own session; researcher: shared with you (results and exports).",
    )


class CurrentPublic(BaseModel):
    current_question_id: str | None


class JoinRequest(_Strict):
    code: Annotated[
        str,
        not_blank(20),
        STRIP,
        Field(description="The session's 8-digit code; spaces around it are ignored. Only digits can match."),
    ]


class ConsentPublic(BaseModel):
    required: bool = Field(description="Whether the session has an information sheet to agree to.")
    text: str = Field(description='The information sheet, or "" for none.')
    html: str = Field(
        default="",
        description="The sheet's Markdown rendered to HTML and sanitised (markdown-it-py, then nh3): safe "
        "to insert into a page.",
    )
    version: str | None = Field(description="The SHA-256 of the sheet's text (hex), or null for none.")
    agreed: bool = Field(
        default=False,
        description="Whether this participant has already agreed to this version (a browser that joined "
        "before and sent its participant cookie).",
    )


class JoinSessionPublic(BaseModel):
    id: str
    title: str


class JoinPublic(BaseModel):
    participant_token: str = Field(description="256 random bits; send as `Authorization: Bearer`.")
    session: JoinSessionPublic
    consent: ConsentPublic
    continued: bool = Field(
        default=False,
        description="True when the browser sent this session's participant cookie and continues as that "
        "participant (same token) instead of becoming a new one.",
    )
    withdrawal_code: str | None = Field(
        default=None,
        description="Five words: the participant's withdrawal code, shown once, when the session has no "
        "information sheet (else it comes with consent). Null for a continued participant.",
    )


class ConsentRequest(_Strict):
    version: Annotated[str, Field(max_length=64)] | None = Field(
        description="The `consent.version` the participant was shown."
    )
    agree: Annotated[bool, Field(strict=True)]


class ConsentResultPublic(BaseModel):
    agreed: bool
    withdrawal_code: str | None = Field(
        default=None,
        description="Five words, shown once: with it the participant can withdraw everything they gave, "
        "during or after the session (`POST /api/withdraw`). Null when declining.",
    )


class WithdrawRequest(_Strict):
    code: Annotated[
        str,
        not_blank(200),
        STRIP,
        Field(description="The five-word withdrawal code; case, spaces and hyphens between words are free."),
    ]


class WithdrawPublic(BaseModel):
    withdrawn: Literal[True] = True


class SheetVersionPublic(BaseModel):
    version: str = Field(description="The SHA-256 of the sheet's text (hex).")
    created_at: datetime
    current: bool
    participants: int = Field(description="How many participants agreed to this version (a count only).")
    text: str


class SheetVersionsPublic(BaseModel):
    versions: list[SheetVersionPublic]


class ResearcherAdd(_Strict):
    email: Annotated[str, not_blank(320), STRIP, Field(description="The e-mail of an existing account.")]


class ResearcherPublic(BaseModel):
    id: str
    email: str


class ResearchersPublic(BaseModel):
    researchers: list[ResearcherPublic]
