"""Request, response and message payload models of questions, answers, entries and results.

Questions are a union discriminated by `kind`: a new kind adds one member to QuestionCreate and one to
QuestionPublic, each a subclass of the shared base. The request models refuse only what their JSON
Schema says (app/fields.py), apart from the rules the routes' descriptions name."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from app.fields import STRIP, WHOLE, not_blank
from app.sessions.schemas import SessionPublic

Prompt = Annotated[str, not_blank(500), STRIP, Field(description="1 to 500 characters, not only spaces.")]
OptionLabel = Annotated[str, not_blank(200), STRIP]
StatementText = Annotated[str, not_blank(300), STRIP]
AnchorLabel = Annotated[str, not_blank(60), STRIP]
# 40: a word or a short phrase; the entries' own limit (the normalised form is checked again).
HiddenWord = Annotated[str, not_blank(40), STRIP]
StrictBool = Annotated[bool, Field(strict=True)]

# Lists of labels that must differ. The schema can say "no two the same" (uniqueItems); that they must
# also differ ignoring case and surrounding spaces, it cannot: the route's description says so.
_UNIQUE = {"uniqueItems": True}
# 2 to 30 options: fewer is not a choice, more does not fit a phone or a projector.
ChoiceOptions = Annotated[
    list[OptionLabel],
    Field(
        min_length=2,
        max_length=30,
        json_schema_extra=_UNIQUE,
        description="2 to 30 labels of 1 to 200 characters, in the order shown; no two may be the same "
        "ignoring case and surrounding spaces.",
    ),
]
# 10: more than that cannot be ordered by dragging on a phone, nor read on a projector.
RankingOptions = Annotated[
    list[OptionLabel],
    Field(
        min_length=2,
        max_length=10,
        json_schema_extra=_UNIQUE,
        description="2 to 10 labels of 1 to 200 characters; no two may be the same ignoring case and "
        "surrounding spaces. An answer must order every one.",
    ),
]
# 20 statements: a long Likert battery still fits one phone screen scrolled, and one projector.
Statements = Annotated[
    list[StatementText],
    Field(
        min_length=1,
        max_length=20,
        json_schema_extra=_UNIQUE,
        description="1 to 20 statements of 1 to 300 characters, each rated on its own; no two may be the "
        "same ignoring case and surrounding spaces.",
    ),
]
AnchorLabels = Annotated[
    list[AnchorLabel],
    Field(
        min_length=2,
        max_length=7,
        description="Anchor labels of 1 to 60 characters: 2 (the two ends) or exactly `points` (every "
        "point, lowest first).",
    ),
]


def distinct_ignoring_case(labels: list[str], what: str) -> list[str]:
    seen: set[str] = set()
    for label in labels:
        if label.casefold() in seen:
            raise ValueError(f"the {what} {label!r} is listed twice; each {what} must differ")
        seen.add(label.casefold())
    return labels


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _QuestionCreateBase(_Strict):
    prompt: Prompt
    section_id: Annotated[str, Field(max_length=64)] | None = Field(
        default=None, description="A section of this session the question belongs to, or null for none."
    )
    comments: Annotated[
        bool, Field(strict=True, description="Whether participants may send comments about the question.")
    ] = False
    moderated: Annotated[
        bool,
        Field(
            strict=True,
            description="Whether the question's free text (open entries, Q&A questions, comments) waits "
            "in the console until the facilitator approves it.",
        ),
    ] = False


class ChoiceQuestionCreate(_QuestionCreateBase):
    kind: Literal["choice"]
    options: ChoiceOptions
    multiple: Annotated[bool, Field(strict=True, description="Whether a participant may choose several.")] = (
        False
    )

    @field_validator("options")
    @classmethod
    def _distinct(cls, options: list[str]) -> list[str]:
        return distinct_ignoring_case(options, "option")


class ScaleQuestionCreate(_QuestionCreateBase):
    kind: Literal["scale"]
    statements: Statements
    points: Literal[5, 7] = Field(default=5, description="Ratings run from 1 to `points`.")
    labels: AnchorLabels | None = None

    @field_validator("statements")
    @classmethod
    def _distinct(cls, statements: list[str]) -> list[str]:
        return distinct_ignoring_case(statements, "statement")

    @field_validator("labels")
    @classmethod
    def _labels_fit_points(cls, labels: list[str] | None, info: ValidationInfo) -> list[str] | None:
        points = info.data.get("points", 5)
        if labels is not None and len(labels) not in (2, points):
            raise ValueError(f"give 2 labels (the two ends) or {points} (one per point)")
        return labels


class WordcloudQuestionCreate(_QuestionCreateBase):
    kind: Literal["wordcloud"]
    max_entries: Annotated[
        int,
        Field(strict=True, ge=1, le=10, description="How many words one participant may send, 1 to 10."),
        WHOLE,
    ] = 3


class OpenQuestionCreate(_QuestionCreateBase):
    kind: Literal["open"]


class RankingQuestionCreate(_QuestionCreateBase):
    kind: Literal["ranking"]
    options: RankingOptions

    @field_validator("options")
    @classmethod
    def _distinct(cls, options: list[str]) -> list[str]:
        return distinct_ignoring_case(options, "option")


class QaQuestionCreate(_QuestionCreateBase):
    kind: Literal["qa"]


# One member per kind; `kind` picks it.
QuestionCreate = Annotated[
    ChoiceQuestionCreate
    | ScaleQuestionCreate
    | WordcloudQuestionCreate
    | OpenQuestionCreate
    | RankingQuestionCreate
    | QaQuestionCreate,
    Field(discriminator="kind"),
]


class QuestionUpdate(_Strict):
    open: StrictBool | None = None
    results_visible: StrictBool | None = None
    show_comments: (
        Annotated[
            bool,
            Field(
                strict=True,
                description="Whether the presenter shows the question's comments under its result "
                '(a question with `"comments": true` only).',
            ),
        ]
        | None
    ) = None
    hidden_words: (
        Annotated[
            list[HiddenWord],
            Field(
                max_length=200,
                description="Word clouds only: the words taken out of the result (each matched after the "
                "same normalisation as entries); the list replaces the last one.",
            ),
        ]
        | None
    ) = None


class CurrentUpdate(_Strict):
    question_id: Annotated[str, Field(max_length=64)] | None = Field(
        description="A question of this session, or null for none."
    )


QuestionId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class AnswerIn(_Strict):
    """The data of an `answer` socket message; `value` is checked by the question's kind."""

    question_id: QuestionId
    value: Any


class UpvoteIn(_Strict):
    """The data of an `upvote` socket message."""

    question_id: QuestionId
    entry_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class CommentIn(_Strict):
    """The data of a `comment` socket message; `text` is checked (and cleaned) by the writer."""

    question_id: QuestionId
    text: Annotated[str, Field(strict=True)]


class CommentPublic(BaseModel):
    id: str
    text: str


class CommentsPublic(BaseModel):
    """The approved comments on a question, once k participants have commented."""

    n: int = Field(description="Participants who have commented.")
    hidden: bool = Field(description="True while `n` is below k; then `entries` is empty.")
    entries: list[CommentPublic] = Field(description="Approved comments, newest first.")


class ResultsPublic(BaseModel):
    """The results object, the same in the API and on sockets."""

    question_id: str
    n: int = Field(
        description="Participants whose answer is counted (not those who preferred not to answer); for "
        "`open`, participants with an entry; for `qa`, participants with a question or a vote."
    )
    hidden: bool = Field(description="True while fewer than k answers count; then `summary` is null.")
    summary: dict[str, Any] | None = Field(
        description="The result, by kind (docs/protocol.md, Summaries by kind). Every kind's summary has "
        "`declined`, the participants who preferred not to answer. For `choice`: "
        '`{"counts": {"<option id>": int, ...}, "declined": int}`, every option listed in order, zeros '
        "included."
    )
    # Only for a question that takes comments: left unset otherwise, and out of the JSON (dump with
    # exclude_unset, as `data()` does).
    comments: CommentsPublic | None = Field(
        default=None, description="Only on a question that takes comments."
    )

    def data(self) -> dict[str, Any]:
        """The JSON form for sockets: `comments` only on questions that take comments."""
        return self.model_dump(exclude_unset=True)


EntryStatus = Literal["pending", "approved", "hidden", "archived"]


class EntryPublic(BaseModel):
    """An `open` entry, a `qa` question or a comment, as the facilitator's moderation sees it."""

    id: str
    text: str
    status: EntryStatus
    comment: bool = Field(description="A comment on the question, rather than an entry of its own.")
    flagged: bool = Field(description="The abuse word list matched it; it waits for approval.")
    # Q&A questions only (not comments): the count the shown result holds, or null.
    votes: int | None = Field(
        default=None,
        description="Q&A questions only: the votes the shown result holds, or null while it is hidden.",
    )
    highlighted: bool | None = None
    answered: bool | None = None


class EntriesPublic(BaseModel):
    entries: list[EntryPublic] = Field(description="Every entry, in every status, newest first.")


class EntryUpdate(_Strict):
    status: Literal["approved", "hidden", "archived"] | None = None
    highlighted: (
        Annotated[
            bool,
            Field(strict=True, description="Q&A only: highlight this question (it must be approved)."),
        ]
        | None
    ) = None
    answered: Annotated[bool, Field(strict=True, description="Q&A only: mark it answered.")] | None = None


class QuestionPublicBase(BaseModel):
    """What every question shows, whatever its kind."""

    id: str
    kind: str
    prompt: str
    open: bool = Field(description="Taking answers: from when it is opened until it is closed.")
    closed: bool = Field(description="Closed for good; its result is exact.")
    results_visible: bool = Field(description="Whether phones receive its results.")
    comments: bool = Field(description="Whether participants may comment on it.")
    show_comments: bool = Field(description="Whether the presenter shows its comments under its result.")
    moderated: bool = Field(description="Whether its free text waits for the facilitator's approval.")
    section_id: str | None = Field(default=None, description="Its section, or null.")
    closes_at: datetime | None = Field(
        default=None, description="When its countdown closes it, or null when it has none."
    )


class SectionPublic(BaseModel):
    id: str
    title: str
    position: int
    pace: Literal["presenter", "audience"] = Field(
        default="presenter", description="Run by the facilitator, or a survey at each participant's speed."
    )
    started: bool = Field(default=False, description="An audience-paced section that has been started.")
    finished: bool = Field(default=False, description="An audience-paced section that has been finished.")


class OptionPublic(BaseModel):
    id: str
    label: str


class StatementPublic(BaseModel):
    id: str
    text: str


class ChoiceQuestionPublic(QuestionPublicBase):
    kind: Literal["choice"]
    options: list[OptionPublic] = Field(description="In the order given.")
    multiple: bool


class ScaleQuestionPublic(QuestionPublicBase):
    kind: Literal["scale"]
    statements: list[StatementPublic] = Field(description="In the order given.")
    points: int
    labels: list[str] | None = Field(description="2 (the ends) or one per point, or null.")


class WordcloudQuestionPublic(QuestionPublicBase):
    kind: Literal["wordcloud"]
    max_entries: int
    hidden_words: list[str] = Field(
        description="The words taken out of the result (the facilitator's views only; phones never get them)."
    )


class OpenQuestionPublic(QuestionPublicBase):
    kind: Literal["open"]


class RankingQuestionPublic(QuestionPublicBase):
    kind: Literal["ranking"]
    options: list[OptionPublic] = Field(description="In the order given.")


class QaQuestionPublic(QuestionPublicBase):
    kind: Literal["qa"]


# One member per kind, as QuestionCreate.
QuestionPublic = Annotated[
    ChoiceQuestionPublic
    | ScaleQuestionPublic
    | WordcloudQuestionPublic
    | OpenQuestionPublic
    | RankingQuestionPublic
    | QaQuestionPublic,
    Field(discriminator="kind"),
]


class SessionDetailPublic(SessionPublic):
    """A session with its questions: what the session routes return."""

    questions: list[QuestionPublic] = Field(description="In the session's order.")
    sections: list[SectionPublic] = Field(default_factory=list, description="In order.")
