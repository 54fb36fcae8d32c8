"""Migrations build exactly the schema the models describe: a model change without a migration fails.

Plain `def` tests: `upgrade` runs Alembic's env.py, which calls asyncio.run."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import create_async_engine

import app.models  # noqa: F401  (registers every table on the metadata)
from app.db import metadata
from app.migrate import head_revision, upgrade
from tests.databases import PostgresDatabases, SqliteDatabases, _run

T = TypeVar("T")


class Migrated:
    """A new database brought to head by the migrations, on the run's dialect (never the shared one)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def connect(self, use: Callable[[Connection], T]) -> T:
        """Call `use` with a plain connection (Alembic's comparison and inspection are synchronous)."""

        async def run() -> Any:
            engine = create_async_engine(self.url, hide_parameters=True)
            try:
                async with engine.connect() as connection:
                    return await connection.run_sync(use)
            finally:
                await engine.dispose()

        result: T = _run(run())
        return result


@pytest.fixture
def migrated_engine(tmp_path: Path, databases: SqliteDatabases | PostgresDatabases) -> Iterator[Migrated]:
    if isinstance(databases, PostgresDatabases):
        name = f"{databases.name}_m{uuid.uuid4().hex[:6]}"
        url = databases.create_database(name)
        try:
            upgrade(url)
            yield Migrated(url)
        finally:
            databases.drop_database(name)
        return
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    yield Migrated(url)


class TestUpgrade:
    def test_creates_every_table_of_the_models(self, migrated_engine: Migrated) -> None:
        tables = set(migrated_engine.connect(lambda c: inspect(c).get_table_names()))
        assert set(metadata.tables) <= tables
        assert tables - set(metadata.tables) == {"alembic_version"}

    def test_reaches_the_head_revision(self, migrated_engine: Migrated) -> None:
        url = migrated_engine.url
        current = migrated_engine.connect(lambda c: MigrationContext.configure(c).get_current_revision())
        assert current == head_revision(url)

    def test_models_match_the_migrated_schema(self, migrated_engine: Migrated) -> None:
        # What `alembic check` does: autogenerate against the migrated database must find nothing.
        def differences(connection: Connection) -> list[Any]:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))

        assert migrated_engine.connect(differences) == []

    def test_a_model_change_would_be_caught(self, migrated_engine: Migrated) -> None:
        # The check above can fail: a column the migrations lack shows up as a difference.
        from sqlalchemy import Column, Integer, MetaData

        changed = MetaData(naming_convention=metadata.naming_convention)
        for table in metadata.tables.values():
            table.to_metadata(changed)
        changed.tables["account"].append_column(Column("shoe_size", Integer, nullable=True))

        def compare(connection: Connection) -> list[Any]:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, changed))

        differences = migrated_engine.connect(compare)
        assert [(d[0], d[3].name) for d in differences if d[0] == "add_column"] == [
            ("add_column", "shoe_size")
        ]

    def test_upgrading_twice_changes_nothing(self, migrated_engine: Migrated) -> None:
        url = migrated_engine.url
        upgrade(url)
        current = migrated_engine.connect(lambda c: MigrationContext.configure(c).get_current_revision())
        assert current == head_revision(url)
