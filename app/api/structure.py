"""A session's structure [F]: sections, and templates (a session's plan saved as JSON, and a session
made from such a file)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.sessions import session_public
from app.auth.deps import FACILITATOR_REFUSALS, CurrentFacilitator
from app.db import Db
from app.errors import AppError, error_responses
from app.polls import sections as sections_service
from app.polls import template_files
from app.polls.schemas import SectionPublic, SessionDetailPublic
from app.polls.template_files import SectionTitle, TemplateError
from app.research import audit
from app.sessions.deps import OwnedSession, ReadableSession

router = APIRouter(prefix="/api/sessions", tags=["sessions"])


class SectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: SectionTitle


@router.post(
    "/{session_id}/sections",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, *FACILITATOR_REFUSALS, 404, 409, 422, s409="The session is closed."),
)
async def create_section(db: Db, live: OwnedSession, body: SectionIn) -> SectionPublic:
    """Add a titled section at the end; questions join it with `section_id` when added or edited."""
    section = await sections_service.create_section(db, live=live, title=body.title)
    return sections_service.section_public(section)


@router.patch(
    "/{session_id}/sections/{section_id}",
    responses=error_responses(400, *FACILITATOR_REFUSALS, 404, 422),
)
async def rename_section(db: Db, live: OwnedSession, section_id: str, body: SectionIn) -> SectionPublic:
    """Rename a section."""
    section = await sections_service.get_section(db, live=live, section_id=section_id)
    section.title = body.title
    db.add(section)
    await db.flush()
    return sections_service.section_public(section)


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
        422,
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
