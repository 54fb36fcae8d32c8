"""Session templates: a session's settings, sections and questions as a JSON file, and a session made
from one. A broken file is refused with the line that is wrong (and what is wrong there).

    {"thirdspace_template": 1, "title": "...", "settings": {"min_group": 3, ...},
     "questions": [question, ...],                       (questions before any section)
     "sections": [{"title": "...", "questions": [question, ...]}, ...]}

A question is the body of `POST /api/sessions/{id}/questions` (without `section_id`)."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Account
from app.fields import STRIP, not_blank
from app.limits import TEMPLATE_BODY_MAX
from app.polls import sections as sections_service
from app.polls import service as polls_service
from app.polls.models import Question
from app.polls.schemas import QuestionCreate
from app.sessions import service as sessions_service
from app.sessions.models import LiveSession
from app.sessions.schemas import SessionSettingsIn, Title

FORMAT = 1
# 1 MiB: a template of 200 questions of the longest kind is well under it. The API's body limit for
# POST /api/sessions/import is the same number (app/limits.py).
MAX_BYTES = TEMPLATE_BODY_MAX
SectionTitle = Annotated[str, not_blank(200), STRIP]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TemplateSection(_Strict):
    title: SectionTitle
    questions: list[QuestionCreate] = Field(default_factory=list, max_length=200)


class Template(_Strict):
    thirdspace_template: Literal[1]
    title: Title
    settings: SessionSettingsIn = Field(default_factory=SessionSettingsIn)
    questions: list[QuestionCreate] = Field(default_factory=list, max_length=200)
    sections: list[TemplateSection] = Field(default_factory=list, max_length=50)


_TEMPLATE = TypeAdapter(Template)


class TemplateError(Exception):
    """A file that is not a template: `line` (1-based) and a sentence a person can act on."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"Line {line}: {message}")
        self.line = line
        self.message = message


# ---------------------------------------------------------------------------------------------
# Reading: JSON with the line where each value starts, so a schema error can name its line.

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_SPACE = re.compile(r"[ \t\n\r]*")


def _lines_of(text: str) -> dict[tuple[str | int, ...], int]:
    """Every value's path -> the line it starts on. Only called on text json.loads accepted."""
    found: dict[tuple[str | int, ...], int] = {}
    decoder = json.JSONDecoder()

    def line_at(index: int) -> int:
        return text.count("\n", 0, index) + 1

    def value(index: int, path: tuple[str | int, ...]) -> int:
        index = _SPACE.match(text, index).end()  # type: ignore[union-attr]
        found[path] = line_at(index)
        char = text[index]
        if char == "{":
            index = _SPACE.match(text, index + 1).end()  # type: ignore[union-attr]
            if text[index] == "}":
                return index + 1
            while True:
                index = _SPACE.match(text, index).end()  # type: ignore[union-attr]
                key, index = decoder.raw_decode(text, index)
                index = _SPACE.match(text, index).end() + 1  # type: ignore[union-attr]  # the colon
                index = value(index, (*path, key))
                index = _SPACE.match(text, index).end()  # type: ignore[union-attr]
                if text[index] == "}":
                    return index + 1
                index += 1  # the comma
        if char == "[":
            index = _SPACE.match(text, index + 1).end()  # type: ignore[union-attr]
            if text[index] == "]":
                return index + 1
            position = 0
            while True:
                index = value(index, (*path, position))
                position += 1
                index = _SPACE.match(text, index).end()  # type: ignore[union-attr]
                if text[index] == "]":
                    return index + 1
                index += 1
        if char == '"':
            _, end = decoder.raw_decode(text, index)
            return int(end)
        for literal in ("true", "false", "null"):
            if text.startswith(literal, index):
                return index + len(literal)
        number = _NUMBER.match(text, index)
        assert number is not None
        return number.end()

    value(0, ())
    return found


def _where(loc: tuple[str | int, ...], lines: dict[tuple[str | int, ...], int]) -> tuple[int, str]:
    """The line of the deepest part of `loc` found in the file, and the path in words."""
    # Pydantic puts the discriminator's value ("choice") in the location of a union member: skip it.
    path = tuple(part for part in loc if not (isinstance(part, str) and part in _KINDS))
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            return lines[path[:cut]], _path_words(path)
    return 1, _path_words(path)


_KINDS = ("choice", "scale", "wordcloud", "open", "ranking", "qa")


def _path_words(path: tuple[str | int, ...]) -> str:
    words = []
    for part in path:
        words.append(f"item {part + 1}" if isinstance(part, int) else str(part))
    return " > ".join(words) or "the file"


def parse(text: str) -> Template:
    """A template from a file's text, or TemplateError naming the line that is wrong."""
    if len(text.encode()) > MAX_BYTES:
        raise TemplateError(1, f"The file is larger than {MAX_BYTES // 1024} KiB; a template is far smaller.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as bad:
        raise TemplateError(bad.lineno, f"this is not valid JSON ({bad.msg}, column {bad.colno}).") from None
    lines = _lines_of(text)
    if not isinstance(data, dict) or data.get("thirdspace_template") != FORMAT:
        raise TemplateError(
            lines.get(("thirdspace_template",), 1),
            f'this is not a Thirdspace template: it needs "thirdspace_template": {FORMAT}.',
        )
    try:
        template = _TEMPLATE.validate_python(data)
    except ValidationError as bad:
        first = bad.errors(include_url=False)[0]
        line, where = _where(tuple(first["loc"]), lines)
        raise TemplateError(line, f"{where}: {first['msg']}.") from None
    for s_index, section in enumerate([None, *template.sections]):
        questions = template.questions if section is None else section.questions
        for q_index, question in enumerate(questions):
            if question.section_id is not None:
                path: tuple[str | int, ...] = (
                    ("questions", q_index)
                    if section is None
                    else ("sections", s_index - 1, "questions", q_index)
                )
                line, where = _where((*path, "section_id"), lines)
                raise TemplateError(line, f"{where}: a template puts questions in sections by nesting them.")
    return template


# ---------------------------------------------------------------------------------------------
# Writing


def _question_body(question: Question) -> dict[str, Any]:
    """The create body that makes this question again (new ids)."""
    public = polls_service.question_public(question)
    body: dict[str, Any] = {"kind": question.kind, "prompt": question.prompt}
    if question.comments:
        body["comments"] = True
    if question.moderated:
        body["moderated"] = True
    for key, value in public.items():
        if key == "options":
            body["options"] = [o["label"] for o in value]
        elif key == "statements":
            body["statements"] = [s["text"] for s in value]
        elif key in ("multiple", "points", "labels", "max_entries") and value is not None:
            body[key] = value
    return body


async def export_template(db: AsyncSession, *, live: LiveSession) -> dict[str, Any]:
    """The session's settings, sections and questions as a template (no answers, no ids)."""
    questions = await polls_service.list_questions(db, session_id=live.id)
    sections = await sections_service.list_sections(db, session_id=live.id)
    settings: dict[str, Any] = {"min_group": live.min_group, "language": live.language}
    if live.consent_text:
        settings["consent_text"] = live.consent_text
    return {
        "thirdspace_template": FORMAT,
        "title": live.title,
        "settings": settings,
        "questions": [_question_body(q) for q in questions if q.section_id is None],
        "sections": [
            {"title": s.title, "questions": [_question_body(q) for q in questions if q.section_id == s.id]}
            for s in sections
        ],
    }


def dumps(template: dict[str, Any]) -> str:
    """The file's text: two-space indents, so an error's line points at one field."""
    return json.dumps(template, indent=2, ensure_ascii=False) + "\n"


async def create_from(
    db: AsyncSession, *, owner: Account, template: Template, retention_days: int
) -> LiveSession:
    """A new session (fresh code) with the template's settings, sections and questions, none open."""
    settings = template.settings
    live = await sessions_service.create_session(
        db,
        owner=owner,
        title=template.title,
        min_group=settings.min_group,
        consent_text=settings.consent_text,
        language=settings.language,
        retention_days=settings.retention_days or retention_days,
        export_minutes=settings.export_minutes,
    )
    for question in template.questions:
        await polls_service.create_question(db, live=live, request=question)
    for part in template.sections:
        section = await sections_service.create_section(db, live=live, title=part.title)
        for question in part.questions:
            await polls_service.create_question(
                db, live=live, request=question.model_copy(update={"section_id": section.id})
            )
    return live
