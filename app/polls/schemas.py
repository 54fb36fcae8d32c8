"""Request, response and message payload models of questions, answers and results."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Prompt = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
OptionLabel = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChoiceQuestionCreate(_Strict):
    kind: Literal["choice"]
    prompt: Prompt
    # 2 to 30 options: fewer is not a choice, more does not fit a phone or a projector.
    options: Annotated[list[OptionLabel], Field(min_length=2, max_length=30)]
    multiple: Annotated[bool, Field(strict=True)] = False

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
    question_id: str | None


class AnswerIn(_Strict):
    """The data of an `answer` socket message; `value` is checked by the question's kind."""

    question_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    value: Any


class ResultsPublic(BaseModel):
    """The results object, the same in the API and on sockets."""

    question_id: str
    n: int
    hidden: bool
    summary: dict[str, Any] | None
