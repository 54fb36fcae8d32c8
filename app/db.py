"""The database: async engines, the naming convention, and the request-owned transaction."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, Select, Table, TypeDecorator, event, exc
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import greenlet_spawn
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
F = TypeVar("F")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_engine(url: str, *, immediate: bool) -> AsyncEngine:
    """immediate: a writer (BEGIN IMMEDIATE); otherwise a reader that SQLite refuses to let write."""
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
        if not immediate:
            # A write on a reader would take the lock without the process's write queue: refuse it.
            cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred BEGIN that later writes fails with "database is locked" and ignores busy_timeout;
        # readers take the deferred one so they never wait for the writer under WAL.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _without_nul(value: Any) -> Any:
    return value.replace("\x00", "") if type(value) is str and "\x00" in value else value


def _strip_nul(parameters: Any) -> Any:
    """The statement's parameters with NUL taken out of every string, rows and lists included."""
    if isinstance(parameters, dict):
        return {key: _strip_nul(value) for key, value in parameters.items()}
    if isinstance(parameters, list | tuple):
        return type(parameters)(_strip_nul(value) for value in parameters)
    return _without_nul(parameters)


def _has_nul(parameters: Any) -> bool:
    if type(parameters) is str:
        return "\x00" in parameters
    if isinstance(parameters, dict):
        return any(_has_nul(value) for value in parameters.values())
    if isinstance(parameters, list | tuple):
        return any(_has_nul(value) for value in parameters)
    return False


# A pooled PostgreSQL connection that sat unused this long is pinged before it is handed out, so one that
# a restart of PostgreSQL closed is replaced instead of failing a request. SQLAlchemy's pool_pre_ping
# pings on every checkout, and asyncpg's ping is three round trips (BEGIN, ";", ROLLBACK): in a join
# burst that was 3 of the 6 round trips of each phone's socket handshake, on connections used a
# millisecond before. A connection that dies while in use still fails its statement, as with pre_ping.
IDLE_PING_SECONDS = 1.0


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    dialect = engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _given_back(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:  # None when the connection was invalidated
            record.info["given_back_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _taken(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # A new connection has no mark (the record's info is cleared when its connection is replaced).
        given_back_at = record.info.get("given_back_at")
        if given_back_at is None or time.monotonic() - given_back_at < idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            # Raised in a checkout listener, the pool replaces this connection and, as the cause is most
            # likely a restart, every other connection it held (InvalidatePoolError), then retries.
            raise exc.InvalidatePoolError("a pooled PostgreSQL connection did not answer a ping") from error


def _postgresql_engine(url: str, *, idle_ping_seconds: float, **options: Any) -> AsyncEngine:
    # hide_parameters: as for SQLite, no answers or token hashes in logged errors (ETHICS 2).
    engine = create_async_engine(url, hide_parameters=True, **options)
    _ping_when_idle(engine, idle_ping_seconds)

    @event.listens_for(engine.sync_engine, "before_cursor_execute", retval=True)
    def _no_nul(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> tuple[str, Any]:
        # PostgreSQL cannot store NUL in text and fails the whole statement (a batch of other people's
        # answers with it) where SQLite keeps it: take it out of any string, as free text loses it
        # anyway (app.polls.text.free); an id or a code with one is looked up without it.
        return statement, _strip_nul(parameters) if _has_nul(parameters) else parameters

    return engine


def _asyncpg_compiler(
    engine: AsyncEngine,
) -> Callable[[Select[*tuple[Any, ...]]], tuple[str, tuple[str, ...]]]:
    """A statement's SQL for asyncpg ($1, $2 ...) and its parameters' names in order, compiled once
    (a statement is hashed by identity: one built once is compiled once)."""
    compiled: dict[Select[*tuple[Any, ...]], tuple[str, tuple[str, ...]]] = {}

    def sql_of(statement: Select[*tuple[Any, ...]]) -> tuple[str, tuple[str, ...]]:
        hit = compiled.get(statement)
        if hit is None:
            done = statement.compile(dialect=engine.dialect)
            hit = compiled[statement] = (str(done), tuple(done.positiontup or ()))
        return hit

    return sql_of


class Database:
    """Two engines on SQLite: one whose transactions may write, one for reads that never wait."""

    def __init__(self, url: str, *, idle_ping_seconds: float = IDLE_PING_SECONDS) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
        else:
            # Connections past `pool_size` are closed when given back, so a burst that needs more than
            # the pool opens and closes PostgreSQL connections (a backend process each) over and over:
            # measured at 400 connects for 2,000 reads 50 at a time with SQLAlchemy's 5 + 10. Reads
            # wait for one of a larger pool instead; the writers keep some overflow for rare peaks.
            # At most 20 + 20 connections a process (PostgreSQL's default max_connections is 100).
            self.engine = _postgresql_engine(
                url, idle_ping_seconds=idle_ping_seconds, pool_size=10, max_overflow=10
            )
            # Reads in READ ONLY transactions, on a pool of their own: a write by mistake fails loudly,
            # and a burst of page loads never waits for a connection the answer writer needs.
            self.read_engine = _postgresql_engine(
                url,
                idle_ping_seconds=idle_ping_seconds,
                pool_size=20,
                max_overflow=0,
                execution_options={"postgresql_readonly": True},
            )
        self._asyncpg_sql = _asyncpg_compiler(self.read_engine) if url.startswith("postgresql") else None
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

    async def read_row(
        self, statement: Select[*tuple[Any, ...]], params: dict[str, Any]
    ) -> tuple[Any, ...] | None:
        """The first row of one SELECT, at the least cost the driver allows: in a join burst every phone's
        socket handshake is one of these. On PostgreSQL the statement goes to asyncpg itself, outside a
        transaction (one statement sees one snapshot anyway), on a connection of the read pool: one
        round trip and a third of the CPU of SQLAlchemy's BEGIN READ ONLY, SELECT, ROLLBACK (measured
        at 80 against 240 µs a read). So only for a statement built once whose parameters are strings
        and whose columns need no type of SQLAlchemy's to read back."""
        if self._asyncpg_sql is None:
            async with self.read_engine.connect() as connection:
                row = (await connection.execute(statement, params)).first()
            return None if row is None else tuple(row)
        sql, names = self._asyncpg_sql(statement)
        values = [_without_nul(params[name]) for name in names]
        pooled = await self.read_engine.raw_connection()
        asyncpg_connection: Any = pooled.driver_connection
        try:
            record = await asyncpg_connection.fetchrow(sql, *values)
        except BaseException:
            # Not given back as it is: a failed statement may have lost its connection, and a cancelled
            # one leaves asyncpg cancelling it on the server. Replaced (a reconnect, rare).
            await asyncio.shield(greenlet_spawn(pooled.invalidate))
            raise
        await asyncio.shield(greenlet_spawn(pooled.close))
        return None if record is None else tuple(record)

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


# Methods whose routes only read: they get a read session (no write lock, no BEGIN IMMEDIATE), so a page
# load or a results poll never queues behind the answer writer's batch.
READ_METHODS = frozenset({"GET", "HEAD"})


def writes_on_read(endpoint: F) -> F:
    """Mark a GET route that writes (an export records itself in the audit log): it gets the write
    session like any POST."""
    endpoint.__dict__["writes_on_read"] = True
    return endpoint


def _reads_only(request: Request) -> bool:
    endpoint = request.scope.get("endpoint")
    return request.method in READ_METHODS and not getattr(endpoint, "writes_on_read", False)


async def _request_db(request: Request) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction: commit when the handler returns, roll back when it raises,
    then publish the events the handler queued (never before the commit). GET and HEAD routes read
    in a session of their own that cannot write (see `writes_on_read`)."""
    from app.realtime import outbox

    database: Database = request.app.state.database
    if _reads_only(request):
        async with database.read_session() as db:
            yield db
        return
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
