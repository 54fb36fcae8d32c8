"""Migrations build exactly the schema the models describe: a model change without a migration fails.

Plain `def` tests: `upgrade` runs Alembic's env.py, which calls asyncio.run."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

import app.models  # noqa: F401  (registers every table on the metadata)
from app.db import metadata
from app.migrate import alembic_config, head_revision, upgrade
from tests.databases import PostgresDatabases, SqliteDatabases, _run, sql

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
def empty_url(tmp_path: Path, databases: SqliteDatabases | PostgresDatabases) -> Iterator[str]:
    """A new, empty database on the run's dialect (never the shared one)."""
    if isinstance(databases, PostgresDatabases):
        name = f"{databases.name}_m{uuid.uuid4().hex[:6]}"
        url = databases.create_database(name)
        try:
            yield url
        finally:
            databases.drop_database(name)
        return
    yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"


@pytest.fixture
def migrated_engine(empty_url: str) -> Migrated:
    upgrade(empty_url)
    return Migrated(empty_url)


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


# The revision before `breakout_attribution` (migrations/versions/2026-12-01-2200_breakout_attribution.py).
BEFORE_ATTRIBUTION = "6e11ba93f364"


async def _answers_in_rounds(url: str) -> dict[str, str]:
    """At the revision before attribution: a question asked in two rounds and answered by a member of a
    group, one who declined the group and one who was in no round; another question in no round. The
    ids by name."""
    from app.auth.models import Account
    from app.breakouts.models import BreakoutGroup, BreakoutMember, BreakoutRound
    from app.polls.models import Answer, Question
    from app.sessions.models import LiveSession, Participant

    now = datetime.now(UTC)
    engine = create_async_engine(url, hide_parameters=True)
    try:
        async with AsyncSession(engine) as db:
            account = Account(email="m@example.org", password_hash="!", role="facilitator")
            db.add(account)
            await db.flush()
            live = LiveSession(owner_id=account.id, title="t", code="MIGR4TE")
            db.add(live)
            await db.flush()
            people = [Participant(session_id=live.id, token_hash=f"h{i}") for i in range(3)]
            asked = Question(session_id=live.id, kind="choice", prompt="Which?", opened_at=now)
            other = Question(session_id=live.id, kind="choice", prompt="Other?", opened_at=now)
            db.add_all([*people, asked, other])
            await db.flush()
            first = BreakoutRound(
                session_id=live.id, number=1, mode="random", question_id=asked.id, closed_at=now
            )
            second = BreakoutRound(session_id=live.id, number=2, mode="random", question_id=asked.id)
            db.add_all([first, second])
            await db.flush()
            red = BreakoutGroup(round_id=first.id, name="Red")
            blue = BreakoutGroup(round_id=second.id, name="Blue")
            db.add_all([red, blue])
            await db.flush()
            db.add_all(
                [
                    BreakoutMember(
                        round_id=first.id, participant_id=people[0].id, group_id=red.id, tile="AAAA"
                    ),
                    BreakoutMember(
                        round_id=second.id, participant_id=people[0].id, group_id=blue.id, tile="BBBB"
                    ),
                    BreakoutMember(
                        round_id=second.id, participant_id=people[1].id, declined=True, tile="CCCC"
                    ),
                ]
            )
            db.add_all([Answer(question_id=asked.id, participant_id=p.id, value={}) for p in people])
            db.add(Answer(question_id=other.id, participant_id=people[0].id, value={}))
            ids = {
                "asked": asked.id,
                "second": second.id,
                "blue": blue.id,
                **{f"p{i}": p.id for i, p in enumerate(people)},
            }
            await db.commit()
            return ids
    finally:
        await engine.dispose()


class TestBreakoutAttribution:
    def test_existing_answers_to_a_rounds_question_get_their_authors_group(self, empty_url: str) -> None:
        # What per-group results read until now (membership in the latest round that asked the question)
        # becomes the frozen attribution; answers to a question no round asked get none.
        command.upgrade(alembic_config(empty_url), BEFORE_ATTRIBUTION)
        ids = _run(_answers_in_rounds(empty_url))
        command.upgrade(alembic_config(empty_url), "head")
        rows = sql(
            empty_url, "SELECT question_id, participant_id, round_id, group_id FROM breakout_attribution"
        )
        assert sorted(rows, key=lambda row: str(row[1])) == sorted(
            [
                (ids["asked"], ids["p0"], ids["second"], ids["blue"]),
                (ids["asked"], ids["p1"], ids["second"], None),
                (ids["asked"], ids["p2"], ids["second"], None),
            ],
            key=lambda row: str(row[1]),
        )

    def test_downgrade_and_upgrade_again(self, migrated_engine: Migrated) -> None:
        url = migrated_engine.url
        command.downgrade(alembic_config(url), BEFORE_ATTRIBUTION)
        tables = set(migrated_engine.connect(lambda c: inspect(c).get_table_names()))
        assert "breakout_attribution" not in tables and "breakout_round" in tables
        command.upgrade(alembic_config(url), "head")
        current = migrated_engine.connect(lambda c: MigrationContext.configure(c).get_current_revision())
        assert current == head_revision(url)
