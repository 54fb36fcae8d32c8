"""Request and response models of breakout rounds and private messages.

The request models refuse only what their JSON Schema says (app/fields.py); rules across fields (a
mode's own fields) are 422s with `error.fields`, and rules of the session's state are 409s, both named
in the routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from app.fields import STRIP, WHOLE, not_blank
from app.polls.schemas import ResultsPublic

NOTE_MAX = 280
PRIVATE_MAX = 2000
BROADCAST_MAX = 500
PROMPT_MAX = 5000

GroupName = Annotated[str, not_blank(60), STRIP, Field(description="1 to 60 characters, not only spaces.")]
Link = Annotated[
    str,
    Field(
        max_length=500,
        pattern=r"^(https?://\S+)?$",
        description="An http or https address (a video room, say), or empty for none; up to 500 characters.",
    ),
]


def _count(low: int, high: int, description: str) -> Any:
    return Annotated[int, Field(strict=True, ge=low, le=high, description=description), WHOLE]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RoundCreate(_Strict):
    mode: Literal["random", "self", "manual"] = Field(
        description="`random`: dealt at random by `groups` (a number of groups) or `group_size` (people a "
        "group); `self`: participants choose among `names`; `manual`: dealt like random, then moved by hand."
    )
    groups: _count(1, 1000, "How many groups (random, manual), 1 to 1,000.") | None = None  # type: ignore[valid-type]
    group_size: _count(1, 1000, "People a group (random, manual), 1 to 1,000.") | None = None  # type: ignore[valid-type]
    names: (
        Annotated[list[GroupName], Field(max_length=1000, description="The groups' names, in order.")] | None
    ) = None
    cap: _count(1, 1000, "Self-select: at most this many a group.") | None = None  # type: ignore[valid-type]
    prompt: Annotated[
        str,
        Field(max_length=PROMPT_MAX, description="Markdown, up to 5,000 characters; shown safely."),
        STRIP,
    ] = ""
    seconds: _count(10, 86_400, "A countdown, 10 s to 24 h.") | None = None  # type: ignore[valid-type]
    auto_close: Annotated[
        bool, Field(strict=True, description="Close the round when the countdown ends.")
    ] = False
    question_id: (
        Annotated[str, Field(max_length=64, description="A question of the session for every group.")] | None
    ) = None
    links: (
        Annotated[list[Link], Field(max_length=1000, description="One link a group, in the groups' order.")]
        | None
    ) = None
    keep_groups_of: (
        Annotated[
            str, Field(max_length=64, description="Keep the groups of this earlier round of the session.")
        ]
        | None
    ) = None


class RoundUpdate(_Strict):
    open: Literal[False] | None = Field(default=None, description="`false` closes the round (once).")
    add_seconds: _count(-3600, 3600, "Add (or, negative, take) time on the countdown.") | None = None  # type: ignore[valid-type]
    broadcast: Annotated[str, not_blank(BROADCAST_MAX), STRIP] | None = Field(
        default=None, description="A message to every group, up to 500 characters."
    )


class MoveCreate(_Strict):
    tile: Annotated[str, Field(max_length=16, description="A member's anonymous tile in this round.")]
    group_id: Annotated[str, Field(max_length=64)] | None = Field(
        description="The group to move the member to; null takes them to the plenary."
    )


class NotePublic(BaseModel):
    id: str
    text: str
    plus: int


class GroupPublic(BaseModel):
    id: str
    name: str
    size: int
    link: str | None
    notes: list[NotePublic] | None = Field(default=None, description="In the round's GET only.")
    members: list[str] | None = Field(default=None, description="Anonymous tiles, in the round's GET only.")
    answered: int | None = Field(
        default=None,
        description="In the round's GET, when the round has a question: how many responded to it while in "
        "this group (answers, comments and 'prefer not to answer' together: a count of who took part, never "
        "of what they chose). An answer stays where it was given: a member moved afterwards still counts "
        "here.",
    )


class RoundPublic(BaseModel):
    id: str
    number: int
    mode: str
    open: bool
    ends_at: datetime | None
    auto_close: bool
    prompt: str
    prompt_html: str = Field(description="The prompt rendered from Markdown and sanitised.")
    question_id: str | None
    cap: int | None
    groups: list[GroupPublic]
    plenary: int = Field(description="Participants of the round in no group (declined, or not chosen yet).")
    unplaced: list[str] | None = Field(default=None, description="Their tiles, in the round's GET only.")
    plenary_answered: int | None = Field(
        default=None,
        description="In the round's GET, when the round has a question: how many responded to it from the "
        "main room (in no group, or before the round started or after it closed). Per-group results need it "
        "to be 0, or at least k with k answers among them.",
    )


class RoundsPublic(BaseModel):
    rounds: list[RoundPublic]


class PrivateMessagePublic(BaseModel):
    id: str
    text: str
    at: datetime


class PrivateMessagesPublic(BaseModel):
    messages: list[PrivateMessagePublic] = Field(description="Newest first.")


def _needs(show: str, **fields: dict[str, Any]) -> dict[str, Any]:
    return {"properties": {"show": {"const": show}, **fields}, "required": ["show", *fields]}


_ID: dict[str, Any] = {"type": "string"}
# Which fields each `show` needs, in the schema too (the service refuses the same with 422), so clients
# and the OpenAPI fuzz know a board needs its round and group, and notes at least one note.
_REPORT_FORMS: list[JsonValue] = [
    _needs("board", round_id=_ID, group_id=_ID),
    _needs("notes", note_ids={"type": "array", "minItems": 1}),
    _needs("results", round_id=_ID),
    {"properties": {"show": {"type": "null"}}, "required": ["show"]},
]


class ReportShow(_Strict):
    """What the presenter shows for report-back: one group's board, chosen notes, or per-group results
    beside the roll-up; null clears it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"oneOf": _REPORT_FORMS})

    show: Literal["board", "notes", "results"] | None
    round_id: Annotated[str, Field(max_length=64)] | None = None
    group_id: Annotated[str, Field(max_length=64)] | None = None
    note_ids: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=100)] | None = None


# Phone messages (websocket data).


class NoteIn(_Strict):
    round_id: Annotated[str, Field(max_length=64)]
    text: Annotated[str, Field(strict=True)]


class PlusIn(_Strict):
    note_id: Annotated[str, Field(max_length=64)]


class PrivateIn(_Strict):
    text: Annotated[str, Field(strict=True)]


class GroupChooseIn(_Strict):
    round_id: Annotated[str, Field(max_length=64)]
    group_id: Annotated[str, Field(max_length=64)]


class GroupDeclineIn(_Strict):
    round_id: Annotated[str, Field(max_length=64)]


class ReasonPublic(BaseModel):
    code: str = Field(
        description="`not_round_question`, `question_open`, `group_below_k` or `rest_below_k` "
        "(docs/protocol.md)."
    )
    message: str = Field(description="Why per-group results are not shown, for the console.")


class GroupResultPublic(ResultsPublic):
    """One breakout group's result (`?group=`): shown only when the question is closed and every group
    of its round has at least k answers (ETHICS 10), else `hidden` with the `reason`."""

    group_id: str | None = Field(default=None, description="The group asked for (with `?group=` only).")
    reason: ReasonPublic | None = Field(default=None, description="Why the group's result is hidden.")


class GroupResultsItem(BaseModel):
    id: str
    name: str
    result: ResultsPublic


class GroupResultsPublic(BaseModel):
    """A round's per-group results beside the session's roll-up."""

    round_id: str
    rollup: ResultsPublic
    groups: list[GroupResultsItem] | None = Field(description="Null while any group is under k.")
    reason: ReasonPublic | None = Field(description="Why `groups` is null.")


class ReportPublic(BaseModel):
    """What the presenter was sent as `report.show` (docs/protocol.md): which fields are present
    depends on `show`."""

    show: Literal["board", "notes", "results"] | None
    round_id: str | None = None
    group: dict[str, Any] | None = Field(default=None, description="`board`: the group's id, name and notes.")
    notes: list[dict[str, Any]] | None = Field(default=None, description="`notes`: the chosen notes.")
    question: dict[str, Any] | None = Field(default=None, description="`results`: the round's question.")
    rollup: dict[str, Any] | None = Field(default=None, description="`results`: the session's result.")
    groups: list[dict[str, Any]] | None = Field(
        default=None, description="`results`: each group's result, or null while a group is under k."
    )
    reason: dict[str, str] | None = Field(default=None, description="`results`: why `groups` is null.")
