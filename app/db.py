"""The database: async engines, the naming convention, and the request-owned transaction."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, Table, TypeDecorator, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel

# Stable constraint names, so migrations can find them on every dialect.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_engine(url: str, *, immediate: bool) -> AsyncEngine:
    # 10 s: long enough for any batch of the writer; short enough that a stuck lock surfaces as an error.
    # hide_parameters on every engine: a failed statement's error names its bound values (answers,
    # participant ids, token hashes), and errors are logged (ETHICS 2). The SQL itself is still shown.
    engine = create_async_engine(url, connect_args={"timeout": 10}, hide_parameters=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, emit BEGIN (the documented recipe for BEGIN IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred BEGIN that later writes fails with "database is locked" and ignores busy_timeout;
        # readers take the deferred one so they never wait for the writer under WAL.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """Two engines on SQLite: one whose transactions may write, one for reads that never wait."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
        else:
            # hide_parameters: as for SQLite, no answers or token hashes in logged errors (ETHICS 2).
            self.engine = create_async_engine(url, pool_pre_ping=True, hide_parameters=True)
            self.read_engine = self.engine
        self._write_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.read_session = async_sessionmaker(self.read_engine, expire_on_commit=False)
        # SQLite has one write lock, and a BEGIN IMMEDIATE that finds it taken sleeps in SQLite's busy
        # handler (1, 2, 5, 10 … ms), long after the holder is done: measured at 18 ms a batch, 45 % of
        # the answer writer's time. Writers of this process queue here instead and start the moment
        # the lock is free. (PostgreSQL locks rows, not the database: no queue there.)
        self._write_lock = asyncio.Lock() if url.startswith("sqlite") else None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that may write. Never open one while holding another in the same task."""
        if self._write_lock is None:
            async with self._write_sessions() as db:
                yield db
            return
        async with self._write_lock, self._write_sessions() as db:
            yield db

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


async def _request_db(request: Request) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction: commit when the handler returns, roll back when it raises,
    then publish the events the handler queued (never before the commit)."""
    from app.realtime import outbox

    database: Database = request.app.state.database
    async with database.session() as db:
        try:
            yield db
            await db.commit()
        except BaseException:
            await db.rollback()
            outbox.discard(db)
            raise
    await outbox.flush(db, request.app.state.hub)


# scope="function": commit before the response is sent, so a client never sees a reply for unsaved work.
Db = Annotated[AsyncSession, Depends(_request_db, scope="function")]


class UTCDateTime(TypeDecorator[datetime]):
    """Times stored as UTC on every dialect and read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use app.db.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_id() -> str:
    """An opaque id: 128 random bits, hex."""
    return uuid.uuid4().hex


def insert_for(db_or_dialect: Any, table: Any) -> Any:
    """The dialect's INSERT, which has `.on_conflict_do_update` / `.on_conflict_do_nothing`."""
    name = db_or_dialect if isinstance(db_or_dialect, str) else db_or_dialect.get_bind().dialect.name
    if name == "sqlite":
        return sqlite_insert(table)
    if name == "postgresql":
        return postgresql_insert(table)
    raise RuntimeError(f"no upsert for dialect {name}")


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a SQLModel table class (for dialect INSERTs)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def rowcount(result: Any) -> int:
    """Rows an UPDATE or INSERT matched (a CursorResult's rowcount)."""
    count: int = result.rowcount
    return count
