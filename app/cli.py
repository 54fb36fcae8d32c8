"""thirdspace serve | migrate | user add | user password | demo | export | purge | delete | session"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app import cli_session
from app.config import ConfigError, Settings, get_settings

NOT_MIGRATED = "the database is not migrated to the latest schema: run `thirdspace migrate` first."


# uvicorn's settings for serving phones; bench/bare.py serves its baseline with the same ones.
SERVER_OPTIONS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "ws": "websockets-sansio",
    # 64 KiB: uvicorn's 16 MiB default lets one phone pin a worker's memory.
    "ws_max_size": 65536,
    # Per-message deflate doubles the memory each socket holds, for messages of a few hundred bytes.
    "ws_per_message_deflate": False,
    "ws_ping_interval": 30.0,
    "ws_ping_timeout": 30.0,
    # The access log prints client addresses (ETHICS 2).
    "access_log": False,
    "backlog": 4096,
    "timeout_graceful_shutdown": 5,
}


def _fail(message: str) -> int:
    print(f"thirdspace: {message}", file=sys.stderr)
    return 2


def _migrated(settings: Settings) -> bool:
    """Whether the database is at the latest schema. A SQLite file that does not exist is not (and is
    not created here: connecting would make an empty file, or fail when its folder is missing)."""
    from app.db import Database
    from app.migrate import schema_is_current

    if settings.is_sqlite:
        path = settings.DATABASE_URL.split(":///", 1)[-1]
        if path and path != ":memory:" and not Path(path).exists():
            return False

    async def check() -> bool:
        database = Database(settings.DATABASE_URL)
        try:
            return await schema_is_current(database.engine)
        finally:
            await database.dispose()

    return asyncio.run(check())


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from app.logs import LOG_CONFIG

    settings.check_supported()
    if args.workers < 1:
        return _fail("--workers must be 1 or more.")
    if args.workers > 1 and not settings.is_shared_broker:
        return _fail(
            "--workers above 1 needs a shared broker: the memory:// broker lives in one process. "
            "Set THIRDSPACE_BROKER_URL=redis://... or run one worker (the default)."
        )
    if args.workers > 1 and settings.is_sqlite:
        return _fail(
            "--workers above 1 needs PostgreSQL: SQLite takes one writer at a time, so more processes "
            "only wait on each other. Set THIRDSPACE_DATABASE_URL=postgresql+asyncpg://... or run one worker."
        )
    settings.secret_key()
    if not _migrated(settings):
        return _fail(NOT_MIGRATED)
    unreachable = _broker_unreachable(settings)
    if unreachable:
        return _fail(unreachable)
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker writes its metrics there and any worker's /metrics adds them up (app/metrics.py);
        # a new folder per start, so no dead worker's counts linger. Set before the workers import.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="thirdspace-metrics-")
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        **SERVER_OPTIONS,
        log_config=LOG_CONFIG,
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    return 0


def _broker_unreachable(settings: Settings) -> str | None:
    """One sentence when the Redis broker does not answer a PING, checked before any worker starts (a
    failure inside uvicorn's start-up would print a traceback per worker instead)."""
    if not settings.is_shared_broker:
        return None
    import redis

    client = redis.Redis.from_url(settings.BROKER_URL, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        return (
            f"the broker at THIRDSPACE_BROKER_URL does not answer ({type(error).__name__}). "
            "Start Redis, or check the URL (redis://host:6379/0), then run serve again."
        )
    finally:
        client.close()
    return None


def _migrate(settings: Settings) -> int:
    from app.migrate import head_revision, upgrade, upgrade_report

    before = upgrade(settings.DATABASE_URL)
    print(upgrade_report(before, head_revision(settings.DATABASE_URL)))
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if not args.password_stdin:
        raise ConfigError("pass --password-stdin and the password on standard input.")
    password = sys.stdin.readline().rstrip("\r\n")
    # 8 characters at least: argon2 makes guessing slow, but not a three-letter password.
    if len(password) < 8:
        raise ConfigError("the password must be at least 8 characters long.")
    return password


def _user(settings: Settings, args: argparse.Namespace) -> int:
    from app.auth import service as auth_service
    from app.auth.models import Role
    from app.db import Database

    password = _read_password(args)
    if not _migrated(settings):
        return _fail(NOT_MIGRATED)

    async def run() -> str:
        database = Database(settings.DATABASE_URL)
        try:
            async with database.session() as db:
                if args.user_command == "add":
                    account = await auth_service.create_account(
                        db, email=args.email, password=password, role=Role(args.role)
                    )
                    message = f"Created {account.role} account {account.email}."
                else:
                    found = await auth_service.get_by_email(db, email=args.email)
                    if found is None:
                        raise ConfigError(f"no account for {args.email}.")
                    await auth_service.set_password(db, account=found, password=password)
                    message = f"Set a new password for {found.email}."
                await db.commit()
                return message
        finally:
            await database.dispose()

    try:
        print(asyncio.run(run()))
    except auth_service.AccountExists as exists:
        return _fail(
            f"{exists} Use `thirdspace user password EMAIL --password-stdin` to change its password."
        )
    return 0


def _demo(settings: Settings) -> int:
    from app.demo import ensure_demo

    if not _migrated(settings):
        return _fail(NOT_MIGRATED)
    password = settings.DEMO_PASSWORD or secrets.token_urlsafe(12)
    report = asyncio.run(ensure_demo(settings, password=password))
    print(report)
    return 0


def _export(settings: Settings, args: argparse.Namespace) -> int:
    from app.db import Database
    from app.research import audit, export
    from app.sessions.models import LiveSession

    if not _migrated(settings):
        return _fail(NOT_MIGRATED)
    target = Path(args.output)
    as_csv = target.suffix.lower() == ".csv"

    async def run() -> int:
        database = Database(settings.DATABASE_URL)
        try:
            async with database.session() as db:
                live = await db.get(LiveSession, args.session_id)
                if live is None:
                    raise ConfigError(f"no session has the id {args.session_id}.")
                audit.record(db, session_id=live.id, action="export", detail={"file": target.name})
                await db.commit()
            chunks = (
                export.stream_responses(database, session_id=args.session_id)
                if as_csv
                else export.stream_zip(database, session_id=args.session_id)
            )
            written = 0
            # The command line's own event loop: nothing else waits on it while the file is written.
            with target.open("wb") as out:  # noqa: ASYNC230
                async for chunk in chunks:
                    out.write(chunk)
                    written += len(chunk)
            return written
        finally:
            await database.dispose()

    written = asyncio.run(run())
    what = "responses.csv" if as_csv else "the research bundle"
    print(f"Wrote {what} of session {args.session_id} to {target} ({written:,} bytes).")
    return 0


def _purge(settings: Settings, args: argparse.Namespace) -> int:
    from app.db import Database
    from app.research import audit, retention

    if not _migrated(settings):
        return _fail(NOT_MIGRATED)

    async def run() -> list[retention.Purged]:
        database = Database(settings.DATABASE_URL)
        try:
            async with database.session() as db:
                reports = []
                for live in await retention.due(db):
                    report = await retention.purge_session(db, live=live, dry_run=args.dry_run)
                    if not args.dry_run:
                        audit.record(
                            db, session_id=live.id, action="purge", detail={"deleted": report.deleted}
                        )
                    reports.append(report)
                await db.commit()
                return reports
        finally:
            await database.dispose()

    reports = asyncio.run(run())
    verb = "Would delete" if args.dry_run else "Deleted"
    if not reports:
        print("No session is past its retention period: nothing to purge.")
    for report in reports:
        counts = ", ".join(f"{n} {name.replace('_', ' ')} rows" for name, n in report.deleted.items())
        print(f"{verb} from session {report.session_id} ({report.title!r}): {counts}.")
    return 0


def _delete(settings: Settings, args: argparse.Namespace) -> int:
    from app.db import Database
    from app.research import audit, retention
    from app.sessions.models import LiveSession

    if not _migrated(settings):
        return _fail(NOT_MIGRATED)
    if not args.yes:
        return _fail("deleting a session cannot be undone: add --yes to delete it.")

    async def run() -> str:
        database = Database(settings.DATABASE_URL)
        try:
            async with database.session() as db:
                live = await db.get(LiveSession, args.session_id)
                if live is None:
                    raise ConfigError(f"no session has the id {args.session_id}.")
                title = live.title
                audit.record(db, session_id=live.id, action="session.delete")
                await retention.delete_session(db, live=live)
                await db.commit()
                return title
        finally:
            await database.dispose()

    title = asyncio.run(run())
    print(f"Deleted session {args.session_id} ({title!r}) and everything in it.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="thirdspace", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--proxy-headers", action="store_true", help="trust X-Forwarded-* from --forwarded-allow-ips"
    )
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1")

    sub.add_parser("migrate", help="bring the database to the latest schema")

    user = sub.add_parser("user", help="manage accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="create an account")
    add.add_argument("email")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--role", choices=["facilitator", "researcher", "admin"], default="facilitator")
    password = user_sub.add_parser("password", help="set an account's password")
    password.add_argument("email")
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )

    sub.add_parser("demo", help="create a demo facilitator and a demo session, and print their links")

    export = sub.add_parser("export", help="write a session's research bundle (.zip) or responses.csv (.csv)")
    export.add_argument("session_id")
    export.add_argument(
        "-o", "--output", required=True, help="FILE.zip for the bundle, FILE.csv for responses"
    )

    purge = sub.add_parser("purge", help="delete raw data of sessions past their retention period")
    purge.add_argument("--dry-run", action="store_true", help="say what would be deleted, delete nothing")

    delete = sub.add_parser("delete", help="delete a session and everything in it")
    delete.add_argument("session_id")
    delete.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")
    cli_session.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as invalid:
        problems = "; ".join(
            f"THIRDSPACE_{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in invalid.errors()
        )
        return _fail(f"a setting is invalid: {problems}")
    try:
        if args.command == "serve":
            return _serve(settings, args)
        if args.command == "migrate":
            return _migrate(settings)
        if args.command == "user":
            return _user(settings, args)
        if args.command == "export":
            return _export(settings, args)
        if args.command == "purge":
            return _purge(settings, args)
        if args.command == "delete":
            return _delete(settings, args)
        if args.command == "session":
            if not _migrated(settings):
                return _fail(NOT_MIGRATED)
            return cli_session.run(settings, args)
        return _demo(settings)
    except ConfigError as error:
        return _fail(str(error))


if __name__ == "__main__":
    sys.exit(main())
