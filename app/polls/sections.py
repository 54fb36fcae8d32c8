"""Sections: ordered, titled parts of a session that its questions belong to."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.errors import AppError, not_found
from app.polls.models import Section
from app.polls.schemas import SectionPublic
from app.sessions.models import LiveSession


async def list_sections(db: AsyncSession, *, session_id: str) -> list[Section]:
    """A session's sections in order."""
    rows = await db.execute(
        select(Section).where(col(Section.session_id) == session_id).order_by(col(Section.position))
    )
    return list(rows.scalars())


async def create_section(
    db: AsyncSession, *, live: LiveSession, title: str, pace: str = "presenter"
) -> Section:
    """Add a section at the end of the session."""
    if live.closed:
        raise AppError(409, "session_closed", "This session is closed; it takes no new sections.")
    count = await db.scalar(
        select(func.count()).select_from(Section).where(col(Section.session_id) == live.id)
    )
    section = Section(session_id=live.id, position=(count or 0) + 1, title=title, pace=pace)
    db.add(section)
    await db.flush()
    return section


async def get_section(db: AsyncSession, *, live: LiveSession, section_id: str) -> Section:
    section = await db.get(Section, section_id)
    if section is None or section.session_id != live.id:
        raise not_found("This section")
    return section


def section_public(section: Section) -> SectionPublic:
    return SectionPublic(
        id=section.id,
        title=section.title,
        position=section.position,
        pace="audience" if section.pace == "audience" else "presenter",
        started=section.started_at is not None,
        finished=section.finished_at is not None,
    )
