"""Request, response and message payload models of questions, answers, entries and results."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

Prompt = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
OptionLabel = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
StatementText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
AnchorLabel = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
# 40: a word or a short phrase; the entries' own limit (the normalised form is checked again).
HiddenWord = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
StrictBool = Annotated[bool, Field(strict=True)]


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
    # Participants may send `comment` messages about the question.
    comments: StrictBool = False
    # The question's free text (entries, comments) waits in the console until approved.
    moderated: StrictBool = False


class ChoiceQuestionCreate(_QuestionCreateBase):
    kind: Literal["choice"]
    # 2 to 30 options: fewer is not a choice, more does not fit a phone or a projector.
    options: Annotated[list[OptionLabel], Field(min_length=2, max_length=30)]
    multiple: StrictBool = False

    @field_validator("options")
    @classmethod
    def _distinct(cls, options: list[str]) -> list[str]:
        return distinct_ignoring_case(options, "option")


class ScaleQuestionCreate(_QuestionCreateBase):
    kind: Literal["scale"]
    # 20 statements: a long Likert battery still fits one phone screen scrolled, and one projector.
    statements: Annotated[list[StatementText], Field(min_length=1, max_length=20)]
    points: Literal[5, 7] = 5
    # Two labels (the ends) or one per point.
    labels: Annotated[list[AnchorLabel], Field(min_length=2, max_length=7)] | None = None

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
    max_entries: Annotated[int, Field(ge=1, le=10, strict=True)] = 3


class OpenQuestionCreate(_QuestionCreateBase):
    kind: Literal["open"]


class RankingQuestionCreate(_QuestionCreateBase):
    kind: Literal["ranking"]
    # 10: more than that cannot be ordered by dragging on a phone, nor read on a projector.
    options: Annotated[list[OptionLabel], Field(min_length=2, max_length=10)]

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
    # Whether the presenter shows the question's comments under its result.
    show_comments: StrictBool | None = None
    # Word clouds: the words taken out of the result; the list replaces the last one.
    hidden_words: Annotated[list[HiddenWord], Field(max_length=200)] | None = None


class CurrentUpdate(_Strict):
    question_id: str | None


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


class CommentsPublic(BaseModel):
    """The approved comments on a question, once k participants have commented."""

    n: int
    hidden: bool
    entries: list[dict[str, Any]]


class ResultsPublic(BaseModel):
    """The results object, the same in the API and on sockets."""

    question_id: str
    n: int
    hidden: bool
    summary: dict[str, Any] | None
    # Only for a question that takes comments: left unset otherwise, and out of the JSON (dump with
    # exclude_unset, as `data()` does).
    comments: CommentsPublic | None = None

    def data(self) -> dict[str, Any]:
        """The JSON form for sockets: `comments` only on questions that take comments."""
        return self.model_dump(exclude_unset=True)


EntryStatus = Literal["pending", "approved", "hidden", "archived"]


class EntryPublic(BaseModel):
    """An `open` entry, a `qa` question or a comment, as the facilitator's moderation sees it."""

    id: str
    text: str
    status: EntryStatus
    comment: bool
    flagged: bool
    # Q&A questions only (not comments): the count the shown result holds, or null.
    votes: int | None = None
    highlighted: bool | None = None
    answered: bool | None = None


class EntriesPublic(BaseModel):
    entries: list[EntryPublic]


class EntryUpdate(_Strict):
    status: Literal["approved", "hidden", "archived"] | None = None
    highlighted: StrictBool | None = None
    answered: StrictBool | None = None
