"""Migrations build exactly the schema the models describe: a model change without a migration fails.

Plain `def` tests: `upgrade` runs Alembic's env.py, which calls asyncio.run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect

import app.models  # noqa: F401  (registers every table on the metadata)
from app.db import metadata
from app.migrate import head_revision, upgrade


@pytest.fixture
def migrated_engine(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    path = tmp_path / "fresh.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    engine = create_engine(f"sqlite:///{path}")
    yield url, engine
    engine.dispose()


class TestUpgrade:
    def test_creates_every_table_of_the_models(self, migrated_engine: tuple[str, Engine]) -> None:
        _, engine = migrated_engine
        tables = set(inspect(engine).get_table_names())
        assert set(metadata.tables) <= tables
        assert tables - set(metadata.tables) == {"alembic_version"}

    def test_reaches_the_head_revision(self, migrated_engine: tuple[str, Engine]) -> None:
        url, engine = migrated_engine
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head_revision(url)

    def test_models_match_the_migrated_schema(self, migrated_engine: tuple[str, Engine]) -> None:
        # What `alembic check` does: autogenerate against the migrated database must find nothing.
        _, engine = migrated_engine
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []

    def test_a_model_change_would_be_caught(self, migrated_engine: tuple[str, Engine]) -> None:
        # The check above can fail: a column the migrations lack shows up as a difference.
        from sqlalchemy import Column, Integer, MetaData

        _, engine = migrated_engine
        changed = MetaData(naming_convention=metadata.naming_convention)
        for table in metadata.tables.values():
            table.to_metadata(changed)
        changed.tables["account"].append_column(Column("shoe_size", Integer, nullable=True))
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, changed)
        assert [(d[0], d[3].name) for d in differences if d[0] == "add_column"] == [
            ("add_column", "shoe_size")
        ]

    def test_upgrading_twice_changes_nothing(self, migrated_engine: tuple[str, Engine]) -> None:
        url, engine = migrated_engine
        upgrade(url)
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == head_revision(url)
