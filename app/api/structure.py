"""A session's structure [F]: sections, and templates (a session's plan saved as JSON, and a session
made from such a file)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.sessions import session_public
from app.auth.deps import FACILITATOR_REFUSALS, CurrentFacilitator
from app.db import Db
from app.errors import AppError, error_responses
from app.polls import sections as sections_service
from app.polls import survey, template_files
from app.polls.schemas import SectionPublic, SessionDetailPublic
from app.polls.template_files import SectionTitle, TemplateError
from app.realtime import channels, outbox
from app.research import audit
from app.sessions.deps import OwnedSession, ReadableSession
from app.snapshots import queue_results, queue_session_state

router = APIRouter(prefix="/api/sessions", tags=["sessions"])


Pace = Literal["presenter", "audience"]


class SectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: SectionTitle
    pace: Pace = "presenter"


class SectionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: SectionTitle | None = None
    pace: Pace | None = None


class SurveyProgressPublic(BaseModel):
    section_id: str
    questions: int = Field(description="Questions in the section.")
    started: int = Field(description="Participants who responded to at least one of them.")
    finished: int = Field(description="Participants who responded to every one (an answer or a decline).")


def _queue_survey(db: Db, live_id: str, phones: dict[str, Any], screens: dict[str, Any]) -> None:
    outbox.add(db, (channels.participants(live_id),), "survey.state", phones, seq_key=live_id)
    outbox.add(db, (channels.presenters(live_id),), "survey.state", screens, seq_key=live_id)


@router.post(
    "/{session_id}/sections",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, *FACILITATOR_REFUSALS, 404, 409, 422, s409="The session is closed."),
)
async def create_section(db: Db, live: OwnedSession, body: SectionIn) -> SectionPublic:
    """Add a titled section at the end; questions join it with `section_id` when added or edited."""
    section = await sections_service.create_section(db, live=live, title=body.title, pace=body.pace)
    return sections_service.section_public(section)


@router.patch(
    "/{session_id}/sections/{section_id}",
    responses=error_responses(400, *FACILITATOR_REFUSALS, 404, 422),
)
async def update_section(db: Db, live: OwnedSession, section_id: str, body: SectionUpdate) -> SectionPublic:
    """Rename a section, or change its pace (`"presenter"` or `"audience"`) before it has started."""
    section = await sections_service.get_section(db, live=live, section_id=section_id)
    if body.title is not None:
        section.title = body.title
    if body.pace is not None:
        await survey.set_pace(db, section=section, pace=body.pace)
    db.add(section)
    await db.flush()
    return sections_service.section_public(section)


_SURVEY_409 = (
    "The session is closed (`session_closed`), the section is not audience-paced (`not_audience_paced`), "
    "has started already (`section_started`), has no questions (`section_empty`), another section is "
    "running (`section_running`), or it is not running (`section_not_running`)."
)


@router.post(
    "/{session_id}/sections/{section_id}/start",
    responses=error_responses(*FACILITATOR_REFUSALS, 404, 409, s409=_SURVEY_409),
)
async def start_section(db: Db, live: OwnedSession, section_id: str) -> SectionPublic:
    """Start an audience-paced section: all its questions open at once, there is no current question,
    and phones get `survey.state`: each participant moves through the questions at their own speed."""
    section = await sections_service.get_section(db, live=live, section_id=section_id)
    await survey.start(db, live=live, section=section)
    queue_session_state(db, live, None)
    _queue_survey(
        db,
        live.id,
        await survey.survey_state(db, session_id=live.id, facilitator=False),
        await survey.survey_state(db, session_id=live.id, facilitator=True),
    )
    return sections_service.section_public(section)


@router.post(
    "/{session_id}/sections/{section_id}/finish",
    responses=error_responses(*FACILITATOR_REFUSALS, 404, 409, s409=_SURVEY_409),
)
async def finish_section(db: Db, live: OwnedSession, section_id: str) -> SectionPublic:
    """Finish a running audience-paced section: its questions close for good, each with its exact
    result; phones get `survey.state` with `null` and go back to the facilitator's pace."""
    section = await sections_service.get_section(db, live=live, section_id=section_id)
    closed = await survey.finish(db, live=live, section=section)
    _queue_survey(db, live.id, {"survey": None}, {"survey": None})
    for question in closed:
        queue_results(db, question.id)
    return sections_service.section_public(section)


@router.get(
    "/{session_id}/sections/{section_id}/progress", responses=error_responses(*FACILITATOR_REFUSALS, 404)
)
async def section_progress(db: Db, live: ReadableSession, section_id: str) -> SurveyProgressPublic:
    """How many participants started and finished a section (for the console's "finished" count)."""
    section = await sections_service.get_section(db, live=live, section_id=section_id)
    return SurveyProgressPublic.model_validate(await survey.progress(db, section=section))


class TemplateSectionPublic(BaseModel):
    title: str
    questions: list[dict[str, Any]] = Field(description="Each the body of `POST …/questions`.")


class TemplatePublic(BaseModel):
    """A template file (docs/protocol.md, Templates)."""

    thirdspace_template: int = Field(description="The file format's version: 1.")
    title: str
    settings: dict[str, Any] = Field(description="The fields of `POST /api/sessions`'s settings.")
    questions: list[dict[str, Any]] = Field(description="Questions in no section, first.")
    sections: list[TemplateSectionPublic]


@router.get("/{session_id}/template", responses=error_responses(*FACILITATOR_REFUSALS, 404))
async def export_template(db: Db, live: ReadableSession, response: Response) -> TemplatePublic:
    """The session's settings, sections and questions as a template file (no answers, no ids)."""
    template = await template_files.export_template(db, live=live)
    response.headers["Content-Disposition"] = 'attachment; filename="thirdspace-template.json"'
    return TemplatePublic.model_validate(template)


_TEMPLATE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object", "description": "A template file."}}},
    }
}


@router.post(
    "/import",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_TEMPLATE_BODY,
    responses=error_responses(
        *FACILITATOR_REFUSALS,
        413,
        422,
        s413="The file is over 1 MiB (`body_too_large`), refused before it is read.",
        s422="The file is not a template (`invalid_template`): the message names the line that is wrong.",
    ),
)
async def import_template(request: Request, db: Db, facilitator: CurrentFacilitator) -> SessionDetailPublic:
    """A new session from a template file sent as the body: its settings, sections and questions, none
    open. A broken file is refused with `422 invalid_template` and the line that is wrong."""
    raw = await request.body()
    try:
        template = template_files.parse(raw.decode("utf-8", errors="replace"))
    except TemplateError as bad:
        raise AppError(
            422, "invalid_template", str(bad), fields={"template": f"line {bad.line}: {bad.message}"}
        ) from None
    live = await template_files.create_from(
        db,
        owner=facilitator,
        template=template,
        retention_days=request.app.state.settings.RETENTION_DAYS,
    )
    audit.record(db, session_id=live.id, action="session.create", account=facilitator)
    return await session_public(request, db, live)
