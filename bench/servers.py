"""Start the server under test as a user would, and watch its memory and CPU from /proc (psutil)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_EMAIL = "bench@example.org"
LOG_MARKERS = ("Traceback", " ERROR ", "ERROR:", "Exception in", "CRITICAL")
# --database postgres: a database of its own per run on this PostgreSQL (trust auth), dropped after.
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
# --broker redis: this Redis, under a key prefix of its own per run, deleted after.
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def thirdspace_command() -> Path:
    """``thirdspace`` beside the running interpreter (the project's venv), else on PATH."""
    beside = Path(sys.executable).parent / "thirdspace"
    if beside.exists():
        return beside
    found = shutil.which("thirdspace")
    if found is None:
        raise FileNotFoundError("the `thirdspace` command is not installed (pip install -e . in the venv)")
    return Path(found)


class ServerProcess:
    """One server under test, started in its own process group on 127.0.0.1 and a free port."""

    def __init__(
        self, kind: str, *, database: str = "sqlite", broker: str = "memory", workers: int = 1
    ) -> None:
        if kind not in ("thirdspace", "bare") or database not in ("sqlite", "postgres"):
            raise ValueError(kind)
        if broker not in ("memory", "redis"):
            raise ValueError(broker)
        self.kind = kind
        self.database = database
        self.broker = broker
        self.workers = workers
        self.run_id = f"bench_{secrets.token_hex(6)}"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.tmp = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
        self.log_path = self.tmp / "server.log"
        self.password = secrets.token_urlsafe(18)
        self.email = BENCH_EMAIL
        self.proc: subprocess.Popen[bytes] | None = None
        self.command: list[str] = []

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "THIRDSPACE_ENVIRONMENT": "development",
                "THIRDSPACE_DATA_DIR": str(self.tmp),
                "THIRDSPACE_DATABASE_URL": self._database_url(),
                "THIRDSPACE_BROKER_URL": REDIS if self.broker == "redis" else "memory://",
                "THIRDSPACE_BROKER_PREFIX": self.run_id,
                "THIRDSPACE_PUBLIC_URL": self.base_url,
                # The closed-loop peak makes each phone answer many times a second, which no person
                # does: lift the per-socket budget so the benchmark measures the writer, not the limit.
                "THIRDSPACE_SOCKET_MESSAGES_PER_SECOND": "100000",
                "THIRDSPACE_SOCKET_MESSAGE_BURST": "100000",
                "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p),
            }
        )
        return env

    def _database_url(self) -> str:
        if self.database == "postgres":
            return f"{POSTGRES.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{self.run_id}"
        return f"sqlite+aiosqlite:///{self.tmp / 'bench.db'}"

    def _psql(self, sql: str) -> None:
        subprocess.run(
            ["psql", f"{POSTGRES}/postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self, timeout: float = 60.0) -> None:
        """Prepare (migrate, add the account), start, and wait until it answers. Blocking."""
        env = self._env()
        if self.kind == "thirdspace" and self.database == "postgres":
            self._psql(f"CREATE DATABASE {self.run_id}")
        if self.kind == "thirdspace":
            exe = str(thirdspace_command())
            for args, stdin in (
                ([exe, "migrate"], None),
                ([exe, "user", "add", self.email, "--password-stdin"], self.password.encode()),
            ):
                done = subprocess.run(
                    args, env=env, input=stdin, capture_output=True, timeout=120, cwd=self.tmp
                )
                if done.returncode != 0:
                    raise RuntimeError(
                        f"`{' '.join(args[1:])}` failed ({done.returncode}):\n{done.stderr.decode()[-2000:]}"
                    )
            self.command = [exe, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
            if self.workers > 1:
                self.command += ["--workers", str(self.workers)]
        else:
            self.command = [
                sys.executable,
                "-m",
                "bench.bare",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ]
        with open(self.log_path, "wb") as log:
            # Children inherit the harness's raised RLIMIT_NOFILE (set before any server starts).
            self.proc = subprocess.Popen(
                self.command,
                env=env,
                cwd=self.tmp,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, trust_env=False, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"{self.kind} server exited with {self.proc.returncode}:\n{self.log_tail()}"
                    )
                for path in ("/healthz", "/"):
                    with contextlib.suppress(httpx.HTTPError):
                        if client.get(path).status_code == 200:
                            return
                time.sleep(0.1)
        raise TimeoutError(f"{self.kind} server did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def _processes(self) -> list[psutil.Process]:
        if self.proc is None or self.proc.poll() is not None:
            return []
        try:
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def rss(self) -> int:
        """Resident memory of the server and its children, in bytes."""
        total = 0
        for proc in self._processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                total += proc.memory_info().rss
        return total

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the server and its children."""
        total = 0.0
        for proc in self._processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    def main_threads_cpu_seconds(self) -> dict[int, float]:
        """CPU time of the main thread of the server and of each process under it, by pid: the threads
        that run event loops (the server's own, or with `--workers N` each worker's, while uvicorn's
        supervisor, the root, runs none)."""
        out: dict[int, float] = {}
        for proc in self._processes():
            with contextlib.suppress(psutil.NoSuchProcess):
                for thread in proc.threads():
                    if thread.id == proc.pid:
                        out[proc.pid] = float(thread.user_time + thread.system_time)
        return out

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL to its own process group if it does not go. Blocking."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        return self.proc.returncode

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def log_problems(self) -> list[str]:
        """Lines of the server's output that report an error or a traceback."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return []
        return [line for line in lines if any(marker in line for marker in LOG_MARKERS)]

    def cleanup(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def drop_shared_state(self) -> None:
        """Drop this run's PostgreSQL database and Redis keys (after the server stopped)."""
        if self.kind != "thirdspace":
            return
        if self.database == "postgres":
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                self._psql(f"DROP DATABASE IF EXISTS {self.run_id}")
        if self.broker == "redis":
            import redis

            client = redis.Redis.from_url(REDIS)
            with contextlib.suppress(redis.RedisError):
                keys = list(client.scan_iter(match=f"{self.run_id}:*"))
                for start in range(0, len(keys), 1000):
                    client.delete(*keys[start : start + 1000])
            client.close()
