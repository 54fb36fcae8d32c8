"""The database a test run uses: SQLite (a migrated file copied per test) or PostgreSQL (a database
made for the run on 127.0.0.1:5432, migrated once, emptied per test, dropped at the end).

Choose with `pytest --database postgres` or THIRDSPACE_TEST_DATABASE=postgres; SQLite is the default.
`sql()` reads or changes a database synchronously from a test on either dialect (named parameters)."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import app.models  # noqa: F401  (registers every table on the metadata)
from app.db import metadata
from app.migrate import upgrade

# The machine's PostgreSQL (and CI's): trust authentication, an existing database `test` to connect to.
POSTGRES_SERVER = os.environ.get("THIRDSPACE_TEST_POSTGRES", "postgresql+asyncpg://postgres@127.0.0.1:5432")
# Tables that hold the schema's own state, never emptied between tests.
KEPT_TABLES = frozenset({"alembic_version"})

DROP_TRIGGERS = """DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT t.tgisinternal AND n.nspname = 'public'
  LOOP EXECUTE format('DROP TRIGGER %I ON %I', r.tgname, r.relname); END LOOP;
END $$"""


def _run(coroutine: Any) -> Any:
    """Run a coroutine to the end from sync code, even inside a running loop (on a thread of its own)."""
    result: list[Any] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(coroutine))
        except BaseException as error:
            failure.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


def sql(url: str, statement: str, **params: Any) -> list[Sequence[Any]]:
    """Execute one statement on the database at `url` and commit; the rows it returned (if any)."""

    async def run() -> list[Sequence[Any]]:
        engine = create_async_engine(url, hide_parameters=True)
        try:
            async with engine.begin() as connection:
                result = await connection.execute(text(statement), params)
                return [tuple(row) for row in result.all()] if result.returns_rows else []
        finally:
            await engine.dispose()

    rows: list[Sequence[Any]] = _run(run())
    return rows


def all_rows_text(url: str) -> str:
    """Every row of every table, as text (for "this value is stored nowhere" checks)."""
    if url.startswith("sqlite"):
        names = [r[0] for r in sql(url, "SELECT name FROM sqlite_master WHERE type='table'")]
    else:
        names = [r[0] for r in sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    return "\n".join(repr(row) for name in names for row in sql(url, f'SELECT * FROM "{name}"'))  # noqa: S608


class SqliteDatabases:
    """One file migrated with `alembic upgrade head`, copied for each test."""

    kind = "sqlite"

    def __init__(self, template: Path) -> None:
        self.template = template

    def fresh(self, folder: Path) -> str:
        path = folder / "thirdspace.db"
        shutil.copy(self.template, path)
        return f"sqlite+aiosqlite:///{path}"

    def close(self) -> None:
        pass


class PostgresDatabases:
    """A database of this run's own, migrated once; `fresh` empties every table (TRUNCATE is a few
    milliseconds where copying a template database takes a few hundred)."""

    kind = "postgres"

    def __init__(self, server: str = POSTGRES_SERVER) -> None:
        self.server = server
        self.name = f"thirdspace_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.url = f"{server}/{self.name}"
        self.create_database(self.name)
        try:
            # A test database needs no durability against PostgreSQL's own crash: commits stop waiting
            # for the disk (the server under test is killed in tests, PostgreSQL never is).
            _run(self._admin(f'ALTER DATABASE "{self.name}" SET synchronous_commit = off'))
            upgrade(self.url)
            tables = sql(self.url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            sequences = sql(self.url, "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
        except BaseException:
            self.drop_database(self.name)
            raise
        # DELETE, children first, and the sequences restarted: 20 ms, where TRUNCATE of every table
        # (new files for each) took 250-600 ms on this machine.
        order = [t.name for t in reversed(metadata.sorted_tables)]
        names = [name for (name,) in tables if name not in KEPT_TABLES]
        assert set(names) == set(order), "a table the models do not know"
        statements = [f'DELETE FROM "{n}"' for n in order]  # noqa: S608  (names from the metadata)
        statements += [f'ALTER SEQUENCE "{s}" RESTART' for (s,) in sequences]
        # Triggers a test added (tests/test_logs.py makes writes fail) go too: the schema has none.
        statements.append(DROP_TRIGGERS)
        self._empty = f"BEGIN; {'; '.join(statements)}; COMMIT"

    @staticmethod
    def available(server: str = POSTGRES_SERVER) -> str | None:
        """None when the server answers; otherwise why not, in a sentence."""
        try:
            sql(f"{server}/test", "SELECT 1")
        except Exception as error:
            return f"PostgreSQL at {server}/test is not reachable ({type(error).__name__}: {error})"
        return None

    def create_database(self, name: str) -> str:
        """A new empty database on the test server; its URL."""
        _run(self._admin(f'CREATE DATABASE "{name}"'))
        return f"{self.server}/{name}"

    def drop_database(self, name: str) -> None:
        _run(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    async def _admin(self, statement: str) -> None:
        # CREATE/DROP DATABASE cannot run in a transaction block: autocommit.
        engine = create_async_engine(f"{self.server}/test", isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    def fresh(self, folder: Path) -> str:
        _run(self._execute(self._empty))
        return self.url

    async def _execute(self, script: str) -> None:
        # asyncpg's simple protocol runs several statements in one round trip (SQLAlchemy prepares one).
        connection = await asyncpg.connect(self.url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            await connection.execute(script)
        finally:
            await connection.close()

    def close(self) -> None:
        self.drop_database(self.name)
