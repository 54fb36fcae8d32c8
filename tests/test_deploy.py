"""The deployment files cannot rot unseen (there is no Docker engine here): docker-compose.yml is valid
against the compose schema, and the Dockerfile's own COPY, install (RUN pip install) and start (CMD)
commands, run in a scratch folder and venv, give a server that answers /healthz and /readyz."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent


class TestCompose:
    def test_the_compose_file_is_valid_against_the_compose_schema(self) -> None:
        checker = Path(sys.executable).parent / "check-jsonschema"
        done = subprocess.run(
            [str(checker), "--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.yml")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def test_two_app_replicas_postgresql_redis_and_caddy(self) -> None:
        text = (ROOT / "docker-compose.yml").read_text()
        assert "replicas: 2" in text
        for image in ("postgres:15", "redis:7", "caddy:2"):
            assert f"image: {image}" in text
        assert "THIRDSPACE_DATABASE_URL: postgresql+asyncpg://" in text
        assert "THIRDSPACE_BROKER_URL: redis://" in text
        assert "./Caddyfile:/etc/caddy/Caddyfile" in text
        assert "reverse_proxy" in (ROOT / "Caddyfile").read_text()


def _dockerfile() -> tuple[list[list[str]], list[list[str]], list[str]]:
    """(COPY sources and destinations, RUN pip commands, CMD) of the Dockerfile, continuation lines joined."""
    lines = (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    copies, installs, cmd = [], [], []
    for line in lines:
        words = line.strip().split(None, 1)
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "COPY":
            copies.append(shlex.split(words[1]))
        elif words[0] == "RUN" and words[1].startswith("pip install"):
            installs.append(shlex.split(words[1]))
        elif words[0] == "CMD":
            cmd = json.loads(words[1])
    return copies, installs, cmd


class TestDockerfile:
    def test_its_install_and_start_commands_serve(self, tmp_path: Path, database_url: str) -> None:
        copies, installs, cmd = _dockerfile()
        assert installs and cmd[0] == "thirdspace", (installs, cmd)
        app_dir = tmp_path / "app"
        app_dir.mkdir()
        for *sources, destination in copies:
            for source in sources:
                target = app_dir / destination if destination not in ("./", ".") else app_dir / source
                if (ROOT / source).is_dir():
                    shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy(ROOT / source, target)
        venv = tmp_path / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
        bin_dir = venv / "bin"
        for install in installs:
            done = subprocess.run(
                [str(bin_dir / "pip"), *install[1:], "--quiet"],
                cwd=app_dir,
                capture_output=True,
                text=True,
                timeout=900,
            )
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("THIRDSPACE_")},
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "THIRDSPACE_ENVIRONMENT": "development",
            "THIRDSPACE_DATA_DIR": str(tmp_path / "data"),
            "THIRDSPACE_DATABASE_URL": database_url,
            "THIRDSPACE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        }
        # docker-compose.yml's one-shot migration, then the image's CMD on a free port of this machine.
        migrate = subprocess.run(
            [str(bin_dir / "thirdspace"), "migrate"], cwd=app_dir, env=env, capture_output=True, text=True
        )
        assert migrate.returncode == 0, migrate.stderr
        start = [str(bin_dir / "thirdspace"), *cmd[1:]]
        start[start.index("--port") + 1] = str(port)
        start[start.index("--host") + 1] = "127.0.0.1"
        log = tmp_path / "server.log"
        with log.open("w") as out:
            proc = subprocess.Popen(start, cwd=app_dir, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"the image's CMD did not serve:\n{log.read_text()}")
                    time.sleep(0.2)
            assert ready.status_code == 200, ready.text
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json() == {"status": "ok"}
        finally:
            proc.terminate()
            proc.wait(30)
