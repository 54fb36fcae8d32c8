"""Settings from THIRDSPACE_* environment variables."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(RuntimeError):
    """A setting that makes the server unsafe or unable to start; the message says what to change."""


class Settings(BaseSettings):
    """Every setting of the service; read once per process."""

    model_config = SettingsConfigDict(env_prefix="THIRDSPACE_", case_sensitive=False, extra="ignore")

    ENVIRONMENT: Literal["development", "production"] = "production"
    DATA_DIR: Path = Path("data")
    DATABASE_URL: str = ""
    BROKER_URL: str = "memory://"
    # Every Redis key and channel of this deployment starts with it, so deployments can share a Redis.
    BROKER_PREFIX: str = Field(default="thirdspace", min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    # Events kept per session for reconnecting clients (?last_seq=); an older gap gets a snapshot.
    REPLAY_LOG_MAX: int = Field(default=1000, ge=1)
    SECRET_KEY: str = ""
    PUBLIC_URL: str = "http://127.0.0.1:8000"
    # 8 hours: a long workshop day on one login.
    ACCESS_TOKEN_SECONDS: int = 8 * 3600
    # A batch is what arrived while the previous one committed; 1,000 measured better than 500 under
    # backlog (4,623 vs 4,277 answers/s, docs/performance.md) and keeps one transaction under ~100 ms.
    WRITER_BATCH_MAX: int = 1000
    # Messages the answer writer and the join writer may hold before they refuse more (answer.error or
    # 503 `server_busy`): 20,000 is ten seconds of the most either has committed here (docs/performance.md),
    # a few MB of memory; past that, a clear "send it again" beats an ack that takes minutes.
    WRITER_QUEUE_MAX: int = Field(default=20_000, ge=1)
    JOIN_QUEUE_MAX: int = Field(default=20_000, ge=1)
    # Messages one phone's socket may send: 5 a second on average, 20 at once. A person answers, votes
    # and comments far slower; a phone resending what it kept after a reconnect fits in the burst.
    SOCKET_MESSAGES_PER_SECOND: float = Field(default=5.0, gt=0)
    SOCKET_MESSAGE_BURST: int = Field(default=20, ge=1)
    # Sessions whose snapshot (session.state and results) a process keeps, least recently read forgotten.
    SNAPSHOT_CACHE_MAX: int = Field(default=1_000, ge=1)
    # 100 ms: screens feel live, and a burst of answers costs one aggregate query per question per tick.
    RESULTS_TICK_SECONDS: float = 0.1
    # Wrong join codes, counted per clock hour, per address (as an HMAC, in memory) and across all
    # addresses; right codes are never counted. The arithmetic is in docs/operations.md.
    # 20 an hour from an address that has joined nothing yet: one person slips two or three times at
    # most, and a room's first minute may bring several slips before anyone's right code is in.
    JOIN_WRONG_CODES_PER_HOUR: int = Field(default=20, ge=1)
    # Plus 2 for each right join from the address: a room behind one address where every phone
    # slipped twice still gets a "wrong code" (404) for each slip, never a 429.
    JOIN_WRONG_CODES_PER_JOIN: int = Field(default=2, ge=0)
    # At most 300 an hour from one address, however many joins it made (joining a known session over
    # and over earns no more): against 10^8 codes with 100 sessions open, one hit in ~3,300 hours.
    JOIN_WRONG_CODES_MAX_PER_HOUR: int = Field(default=300, ge=1)
    # 10,000 an hour from all addresses together, about three times the slips of 10,000 joins an hour;
    # past it, every address that already sent a wrong code this hour is slowed further (below).
    JOIN_WRONG_CODES_GLOBAL_PER_HOUR: int = Field(default=10_000, ge=1)
    # Past its budget an address's attempts are never refused unseen (a right code always gets in):
    # each waits its turn, one at a time per address, then is looked at. 20 s caps one address at 180
    # lookups an hour past its budget; a room's first right code waits 20 s once, then rule 1 holds.
    JOIN_OVER_BUDGET_DELAY_SECONDS: float = Field(default=20.0, ge=0)
    # 120 s past the shared budget: 30 lookups an hour per guessing address during a wide attack.
    JOIN_OVER_GLOBAL_BUDGET_DELAY_SECONDS: float = Field(default=120.0, ge=0)
    # Failed logins from one address before 429, and the window they are counted in.
    LOGIN_FAILURES_ALLOWED: int = 10
    LOGIN_FAILURE_WINDOW_SECONDS: int = 600
    # Unknown withdrawal codes from one address before 429, and the window they are counted in: a code
    # is 64 bits, so the limit is against noise and load, not against guessing.
    WITHDRAW_FAILURES_ALLOWED: int = Field(default=10, ge=1)
    WITHDRAW_FAILURE_WINDOW_SECONDS: int = Field(default=600, ge=1)
    # Days a closed session's raw answers are kept before `thirdspace purge` deletes them, unless the
    # session sets its own (ETHICS 15).
    RETENTION_DAYS: int = Field(default=365, ge=1, le=3650)
    # Events a slow socket may fall behind by before it is dropped with 1013.
    SOCKET_QUEUE_MAX: int = 256
    # Seconds between full garbage collections (app/gcpolicy.py); 0 keeps CPython's own schedule.
    GC_FULL_COLLECTION_SECONDS: float = 300.0
    DEMO_PASSWORD: str = Field(default="")

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.DATABASE_URL:
            self.DATABASE_URL = f"sqlite+aiosqlite:///{(self.DATA_DIR / 'thirdspace.db').as_posix()}"
        self.PUBLIC_URL = self.PUBLIC_URL.rstrip("/")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.DATABASE_URL.startswith("sqlite")

    @property
    def is_shared_broker(self) -> bool:
        return self.BROKER_URL != "memory://"

    @property
    def is_postgresql(self) -> bool:
        return self.DATABASE_URL.startswith("postgresql+asyncpg://")

    @property
    def public_origin(self) -> str:
        parts = urlsplit(self.PUBLIC_URL)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def secure_cookies(self) -> bool:
        return self.PUBLIC_URL.startswith("https://")

    def check_supported(self) -> None:
        """Refuse what this version cannot run yet, with a sentence saying so."""
        if not (self.is_sqlite or self.is_postgresql):
            raise ConfigError(
                "THIRDSPACE_DATABASE_URL: use SQLite (sqlite+aiosqlite:///path) or PostgreSQL "
                "(postgresql+asyncpg://user:password@host/database); no other database is supported."
            )
        if self.BROKER_URL != "memory://" and not self.BROKER_URL.startswith(("redis://", "rediss://")):
            raise ConfigError(
                "THIRDSPACE_BROKER_URL must be memory:// (one process) or a Redis URL "
                "(redis://host:6379/0, or rediss:// for TLS)."
            )

    def secret_key(self) -> str:
        """The signing key; in development one is generated once and kept under DATA_DIR."""
        if self.SECRET_KEY:
            if self.ENVIRONMENT == "production" and len(self.SECRET_KEY) < 32:
                raise ConfigError("THIRDSPACE_SECRET_KEY must be at least 32 characters long.")
            return self.SECRET_KEY
        if self.ENVIRONMENT != "development":
            raise ConfigError(
                "THIRDSPACE_SECRET_KEY is not set. Outside development the server will not start without "
                "it: set it to a long random value "
                '(python3 -c "import secrets; print(secrets.token_urlsafe(48))"), '
                "or set THIRDSPACE_ENVIRONMENT=development on your own machine."
            )
        path = self.DATA_DIR / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.DATA_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key + "\n")
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
