"""Fixtures: a migrated SQLite database per test (copied from one migrated once), the app with its
lifespan, an HTTP client over ASGI, a real uvicorn on a free port for websockets, and factories."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from app.migrate import upgrade
from tests.databases import PostgresDatabases, SqliteDatabases, sql
from tests.factories import Api

REQUIRE_SERVICES = os.environ.get("THIRDSPACE_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """A test may skip only when a service it needs is missing; under THIRDSPACE_REQUIRE_SERVICES=1
    (as in .ci/run) that skip is a failure instead."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (THIRDSPACE_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(reason)


# The machine's shared Redis; tests use their own key prefix in it and never stop it.
REDIS_URL = os.environ.get("THIRDSPACE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key and channel prefix of this test's own in the shared Redis (its keys deleted after)."""
    import uuid

    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception:
        await client.aclose()
        skip_or_fail(f"Redis is not running at {REDIS_URL}")
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield prefix
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


class RedisServer:
    """A redis-server of a test's own on a free port (no persistence), to stop and start at will."""

    def __init__(self, base: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.base = base
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import time

        binary = shutil.which("redis-server")
        if binary is None:
            skip_or_fail("redis-server is not installed (apt-get install -y redis-server)")
            return
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.base,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database",
        choices=("sqlite", "postgres"),
        default=os.environ.get("THIRDSPACE_TEST_DATABASE", "sqlite"),
        help="the database every test runs on (default: sqlite, or THIRDSPACE_TEST_DATABASE)",
    )


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database migrated with `alembic upgrade head` (outside any running loop)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def databases(request: pytest.FixtureRequest) -> Iterator[SqliteDatabases | PostgresDatabases]:
    """The run's databases (tests/databases.py): `--database postgres` makes and drops its own."""
    if request.config.getoption("--database") == "sqlite":
        yield SqliteDatabases(request.getfixturevalue("migrated_template"))
        return
    missing = PostgresDatabases.available()
    if missing:
        skip_or_fail(missing)
    made = PostgresDatabases()
    yield made
    made.close()


@pytest.fixture
def postgres_url(tmp_path: Path) -> Iterator[str]:
    """A migrated PostgreSQL database of this test's own, whatever --database the suite runs on."""
    missing = PostgresDatabases.available()
    if missing:
        skip_or_fail(missing)
    made = PostgresDatabases()
    try:
        yield made.fresh(tmp_path)
    finally:
        made.close()


@pytest.fixture
def database_url(tmp_path: Path, databases: SqliteDatabases | PostgresDatabases) -> str:
    """A migrated, empty database for this test."""
    return databases.fresh(tmp_path)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        ENVIRONMENT="development",
        DATA_DIR=tmp_path,
        DATABASE_URL=database_url,
        SECRET_KEY="test-secret-key-that-is-long-enough-0123456789",
        PUBLIC_URL="http://testserver",
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def api(client: httpx.AsyncClient, app: FastAPI) -> Api:
    return Api(client, app)


class LiveServer:
    def __init__(self, app: FastAPI, port: int) -> None:
        self.app = app
        self.port = port
        self.http = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}"


@pytest.fixture
async def live_server(settings: Settings) -> AsyncIterator[LiveServer]:
    """A real uvicorn in this process on a free port: ASGITransport runs no websockets."""
    port = free_port()
    settings.PUBLIC_URL = f"http://127.0.0.1:{port}"
    application = create_app(settings)
    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=port,
        ws="websockets-sansio",
        ws_max_size=65536,
        ws_per_message_deflate=False,
        access_log=False,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield LiveServer(application, port)
    server.should_exit = True
    await asyncio.wait_for(task, 10)


@pytest.fixture
async def live_api(live_server: LiveServer) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=live_server.http) as c:
        yield Api(c, live_server.app, live=live_server)


@pytest.fixture(scope="session")
def chromium_path() -> Iterator[str]:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        skip_or_fail("Chromium is not installed (apt-get install -y chromium)")
    yield path


class ServerProcess:
    """`thirdspace serve` as a user runs it, in its own process, with its log captured; it can be
    stopped (SIGTERM), killed (SIGKILL) and started again on the same port and database."""

    def __init__(self, base: Path, port: int, env: dict[str, str], log_path: Path) -> None:
        self.base = base
        self.port = port
        self.env = env
        self.log_path = log_path
        self.http = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}"
        self.database_url = env["THIRDSPACE_DATABASE_URL"]
        self.db_path = base / "thirdspace.db"
        self.proc: subprocess.Popen[bytes] | None = None

    # 60 s: a start takes 2 s here, but more than 20 s was seen with the machine's two cores shared.
    def start(self, *, wait_seconds: float = 60) -> None:
        """Serve, and return once /healthz answers."""
        with self.log_path.open("a") as log:
            self.proc = subprocess.Popen(
                [*CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                if httpx.get(f"{self.http}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError(f"server did not start:\n{self.log()}")
            time.sleep(0.1)

    def stop(self, *, wait_seconds: float = 10) -> int:
        """SIGTERM, as a service manager stops it; SIGKILL after `wait_seconds`. Its exit code."""
        assert self.proc is not None
        self.proc.terminate()
        try:
            return self.proc.wait(wait_seconds)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill(self) -> None:
        """SIGKILL: a crash, with no chance to finish anything."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def sql(self, statement: str, **params: Any) -> list[Sequence[Any]]:
        """Read or change the server's database directly, on either dialect."""
        return sql(self.database_url, statement, **params)

    def log(self) -> str:
        return self.log_path.read_text()


CLI = [sys.executable, "-m", "app.cli"]


@pytest.fixture
def server_env() -> dict[str, str]:
    """Extra THIRDSPACE_* settings for `server_process`; a test module overrides this fixture."""
    return {}


@pytest.fixture
def server_process(tmp_path: Path, server_env: dict[str, str], database_url: str) -> Iterator[ServerProcess]:
    """Migrate, add a facilitator (factories.PASSWORD), serve; stop at the end."""
    with run_server(tmp_path, server_env, database_url) as server:
        yield server


@contextlib.contextmanager
def run_server(tmp_path: Path, server_env: dict[str, str], database_url: str) -> Iterator[ServerProcess]:
    """`thirdspace serve` in a subprocess on a free port with its database migrated and one facilitator
    added; stopped at the end. The browser suite starts one per module (tests/e2e/conftest.py)."""
    from tests.factories import PASSWORD

    port = free_port()
    env = {
        **os.environ,
        "THIRDSPACE_ENVIRONMENT": "development",
        "THIRDSPACE_DATA_DIR": str(tmp_path),
        "THIRDSPACE_DATABASE_URL": database_url,
        "THIRDSPACE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        # "{port}" in a value stands for the port picked here (a public URL with a sub-path, say).
        **{key: value.replace("{port}", str(port)) for key, value in server_env.items()},
    }
    subprocess.run([*CLI, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*CLI, "user", "add", "facilitator@example.org", "--password-stdin"],
        env=env,
        check=True,
        capture_output=True,
        input=PASSWORD + "\n",
        text=True,
    )
    server = ServerProcess(tmp_path, port, env, tmp_path / "server.log")
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.stop()
