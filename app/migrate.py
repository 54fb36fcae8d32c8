"""Alembic from code: bring the schema to head, or tell whether it is there."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def _sqlite_file(database_url: str) -> Path | None:
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[-1]
        if path and path != ":memory:":
            return Path(path)
    return None


def upgrade(database_url: str) -> str | None:
    """Run every migration not yet applied, and return the revision the database was at before (None
    for a new or empty database). Call outside a running event loop (env.py starts one)."""
    path = _sqlite_file(database_url)
    if path is not None and not path.exists():
        before = None
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        before = asyncio.run(_revision_of(database_url))
    command.upgrade(alembic_config(database_url), "head")
    return before


def upgrade_report(before: str | None, head: str | None) -> str:
    """What `thirdspace migrate` did, in a sentence."""
    if before is None:
        return f"Created the database at the latest schema (revision {head})."
    if before == head:
        return f"The database is already at the latest schema (revision {head}); nothing to do."
    return f"Upgraded the database from revision {before} to the latest schema (revision {head})."


async def _revision_of(database_url: str) -> str | None:
    engine = create_async_engine(database_url, hide_parameters=True)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The migration the database is at; None when it has none (new or empty)."""

    def current(connection: object) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()  # type: ignore[arg-type]

    async with engine.connect() as connection:
        return await connection.run_sync(current)


def head_revision(database_url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


async def schema_is_current(engine: AsyncEngine) -> bool:
    """Whether the database is at the newest migration."""
    return await current_revision(engine) == head_revision(str(engine.url))
