"""Request, response and message payload models of questions, answers and results.

Questions are a union discriminated by `kind`: a new kind adds one member to QuestionCreate and one to
QuestionPublic, each a subclass of the shared base."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from app.fields import STRIP, not_blank
from app.sessions.schemas import SessionPublic

Prompt = Annotated[str, not_blank(500), STRIP, Field(description="1 to 500 characters, not only spaces.")]
OptionLabel = Annotated[str, not_blank(200), STRIP]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChoiceQuestionCreate(_Strict):
    kind: Literal["choice"]
    prompt: Prompt
    # 2 to 30 options: fewer is not a choice, more does not fit a phone or a projector.
    options: Annotated[
        list[OptionLabel],
        Field(
            min_length=2,
            max_length=30,
            # The schema can say "no two the same" (uniqueItems); that they must also differ ignoring
            # case and surrounding spaces, it cannot: the route's description says so.
            json_schema_extra={"uniqueItems": True},
            description="2 to 30 labels of 1 to 200 characters, in the order shown; no two may be the "
            "same ignoring case and surrounding spaces.",
        ),
    ]
    multiple: Annotated[bool, Field(strict=True, description="Whether a participant may choose several.")] = (
        False
    )

    @field_validator("options")
    @classmethod
    def _distinct(cls, options: list[str]) -> list[str]:
        seen: set[str] = set()
        for label in options:
            if label.casefold() in seen:
                raise ValueError(f"the option {label!r} is listed twice; each option must differ")
            seen.add(label.casefold())
        return options


# One member per kind; `kind` picks it. Other kinds join this union as they land.
QuestionCreate = Annotated[ChoiceQuestionCreate, Field(discriminator="kind")]


class QuestionUpdate(_Strict):
    open: Annotated[bool, Field(strict=True)] | None = None
    results_visible: Annotated[bool, Field(strict=True)] | None = None


class CurrentUpdate(_Strict):
    question_id: Annotated[str, Field(max_length=64)] | None = Field(
        description="A question of this session, or null for none."
    )


class AnswerIn(_Strict):
    """The data of an `answer` socket message; `value` is checked by the question's kind."""

    question_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    value: Any


class ResultsPublic(BaseModel):
    """The results object, the same in the API and on sockets."""

    question_id: str
    n: int = Field(
        description="Participants whose answer is counted (not those who preferred not to answer)."
    )
    hidden: bool = Field(description="True while fewer than k answers count; then `summary` is null.")
    summary: dict[str, Any] | None = Field(
        description="The result, by kind (docs/protocol.md). Every kind's summary has `declined`, the "
        "participants who preferred not to answer. For `choice`: "
        '`{"counts": {"<option id>": int, ...}, "declined": int}`, every option listed in order, zeros '
        "included."
    )


class QuestionPublicBase(BaseModel):
    """What every question shows, whatever its kind."""

    id: str
    kind: str
    prompt: str
    open: bool = Field(description="Taking answers: from when it is opened until it is closed.")
    closed: bool = Field(description="Closed for good; its result is exact.")
    results_visible: bool = Field(description="Whether phones receive its results.")


class OptionPublic(BaseModel):
    id: str
    label: str


class ChoiceQuestionPublic(QuestionPublicBase):
    kind: Literal["choice"]
    options: list[OptionPublic] = Field(description="In the order given.")
    multiple: bool


# One member per kind, as QuestionCreate.
QuestionPublic = Annotated[ChoiceQuestionPublic, Field(discriminator="kind")]


class SessionDetailPublic(SessionPublic):
    """A session with its questions: what the session routes return."""

    questions: list[QuestionPublic] = Field(description="In the order they were added.")
