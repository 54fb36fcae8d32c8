"""Fixtures: a migrated SQLite database per test (copied from one migrated once), the app with its
lifespan, an HTTP client over ASGI, a real uvicorn on a free port for websockets, and factories."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from app.config import Settings
from app.main import create_app
from app.migrate import upgrade
from tests.factories import Api

REQUIRE_SERVICES = os.environ.get("THIRDSPACE_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    """A test may skip only when a service it needs is missing; under THIRDSPACE_REQUIRE_SERVICES=1
    (as in .ci/run) that skip is a failure instead."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (THIRDSPACE_REQUIRE_SERVICES=1 forbids skipping)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database migrated with `alembic upgrade head` (outside any running loop), copied per test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def settings(tmp_path: Path, migrated_template: Path) -> Settings:
    db_path = tmp_path / "thirdspace.db"
    shutil.copy(migrated_template, db_path)
    return Settings(
        ENVIRONMENT="development",
        DATA_DIR=tmp_path,
        DATABASE_URL=f"sqlite+aiosqlite:///{db_path}",
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
    """`thirdspace serve` as a user runs it, in its own process, with its log captured."""

    def __init__(self, base: Path, port: int, env: dict[str, str], log_path: Path) -> None:
        self.base = base
        self.port = port
        self.env = env
        self.log_path = log_path
        self.http = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}"
        self.db_path = base / "thirdspace.db"

    def log(self) -> str:
        return self.log_path.read_text()


@pytest.fixture
def server_env() -> dict[str, str]:
    """Extra THIRDSPACE_* settings for `server_process`; a test module overrides this fixture."""
    return {}


@pytest.fixture
def server_process(tmp_path: Path, server_env: dict[str, str]) -> Iterator[ServerProcess]:
    """Migrate, add a facilitator (factories.PASSWORD), serve; stop at the end."""
    with run_server(tmp_path, server_env) as server:
        yield server


@contextlib.contextmanager
def run_server(tmp_path: Path, server_env: dict[str, str]) -> Iterator[ServerProcess]:
    """`thirdspace serve` in a subprocess on a free port, its SQLite database migrated in `tmp_path`
    and one facilitator added; the browser suite starts one per module (tests/e2e/conftest.py)."""
    import subprocess
    import sys
    import time

    from tests.factories import PASSWORD

    port = free_port()
    env = {
        **os.environ,
        "THIRDSPACE_ENVIRONMENT": "development",
        "THIRDSPACE_DATA_DIR": str(tmp_path),
        "THIRDSPACE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'thirdspace.db'}",
        "THIRDSPACE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        # "{port}" in a value stands for the port picked here (a public URL with a sub-path, say).
        **{key: value.replace("{port}", str(port)) for key, value in server_env.items()},
    }
    cli = [sys.executable, "-m", "app.cli"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*cli, "user", "add", "facilitator@example.org", "--password-stdin"],
        env=env,
        check=True,
        capture_output=True,
        input=PASSWORD + "\n",
        text=True,
    )
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [*cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(tmp_path, port, env, log_path)
    deadline = time.monotonic() + 60  # a loaded 2-core machine can take this long
    while True:
        try:
            if httpx.get(f"{server.http}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"server did not start:\n{server.log()}")
        time.sleep(0.1)
    try:
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
