"""create_app(): the lifespan builds the database, hub, writer, results ticker and presence; the
faces are included; static files are mounted."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import errors, metrics, pages, sockets
from app.api import auth as auth_api
from app.api import breakouts as breakouts_api
from app.api import entries as entries_api
from app.api import participants as participants_api
from app.api import question_edits as question_edits_api
from app.api import research as research_api
from app.api import sessions as sessions_api
from app.api import structure as structure_api
from app.auth.ratelimit import FailureLimiter, JoinBudget, JoinLimiter
from app.breakouts.live import BreakoutLive
from app.config import ConfigError, Settings, get_settings
from app.countdown import Countdowns
from app.db import Database
from app.gcpolicy import FullCollections
from app.limits import BodyLimit, BoundedCache
from app.migrate import schema_is_current
from app.polls import service as polls_service
from app.polls.results import PhoneResultsGate, ResultsTicker
from app.polls.writer import AnswerWriter
from app.realtime import channels
from app.realtime.hub import BrokerUnavailable, Hub, backend_for
from app.realtime.presence import Presence
from app.sessions.headcount import headcount, presence_message
from app.sessions.joins import JoinWriter, OpenSessionsByCode
from app.sessions.models import LiveSession

HERE = Path(__file__).parent
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


class SecurityHeaders:
    """Pure ASGI (no BaseHTTPMiddleware cost on the join burst): adds the security headers to every
    HTTP response. Pages carry no inline script or style, so the policy forbids both."""

    HEADERS = [
        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def join_budget(settings: Settings) -> JoinBudget:
    return JoinBudget(
        per_address=settings.JOIN_WRONG_CODES_PER_HOUR,
        per_join=settings.JOIN_WRONG_CODES_PER_JOIN,
        max_per_address=settings.JOIN_WRONG_CODES_MAX_PER_HOUR,
        global_max=settings.JOIN_WRONG_CODES_GLOBAL_PER_HOUR,
        over_budget_delay=settings.JOIN_OVER_BUDGET_DELAY_SECONDS,
        over_global_delay=settings.JOIN_OVER_GLOBAL_BUDGET_DELAY_SECONDS,
    )


def _sample(app: FastAPI) -> dict[str, Any]:
    """The gauges of app/metrics.py, read from this process's hub, presence and writers."""
    hub: Hub = app.state.hub
    # Read-only looks at the hub's subscriptions: each open socket holds exactly one, on its session's
    # channels; the process's own listeners (results ticker, breakouts) listen elsewhere.
    subscriptions = {
        sub
        for channel, subs in hub._subscribers.items()
        if channel.startswith(channels.SESSION_PREFIX)
        for sub in subs
    }
    presence = app.state.presence
    return {
        "sockets": len(subscriptions),
        "participants": sum(presence._counts.values()),
        "hub_lag": max((len(sub._items) for sub in subscriptions), default=0),
        "queued": {w.name: w.queued for w in (app.state.writer, app.state.joins)},
    }


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.check_supported()
        app.state.secret_key = settings.secret_key()
        database = Database(settings.DATABASE_URL)
        if not await schema_is_current(database.engine):
            await database.dispose()
            raise ConfigError(
                "The database is not migrated to the latest schema: run `thirdspace migrate` first."
            )
        hub = Hub(
            backend_for(settings.BROKER_URL, prefix=settings.BROKER_PREFIX, log_max=settings.REPLAY_LOG_MAX),
            queue_max=settings.SOCKET_QUEUE_MAX,
            # No results to phones after the facilitator hid them, whatever the ticker read before.
            gate_factory=PhoneResultsGate,
        )
        try:
            await hub.start()
        except BrokerUnavailable as error:
            await database.dispose()
            raise ConfigError(str(error)) from error

        async def report_presence(session_id: str, count: int) -> None:
            async with database.read_session() as db:
                live = await db.get(LiveSession, session_id)
                counted = await headcount(db, live=live) if live is not None else None
            await hub.publish(
                channels.presenters(session_id),
                "presence",
                presence_message(count, counted),
                seq_key=session_id,
            )

        app.state.database = database
        app.state.snapshots = BoundedCache(settings.SNAPSHOT_CACHE_MAX)
        app.state.snapshot_reads = {}  # snapshots being read now: app/sockets.py `_snapshot`
        app.state.hub = hub
        app.state.writer = AnswerWriter(
            database, hub, batch_max=settings.WRITER_BATCH_MAX, queue_max=settings.WRITER_QUEUE_MAX
        )
        app.state.ticker = ResultsTicker(database, hub, tick_seconds=settings.RESULTS_TICK_SECONDS)
        app.state.presence = Presence(report_presence, store=hub.presence_store)
        shared = hub.shared_counts
        if shared is not None:
            # Every process counts wrong join codes together, under one key an hour.
            app.state.join_limiter = JoinLimiter(join_budget(settings), counts=shared, hour_keys=shared)
        app.state.joins = JoinWriter(
            database, batch_max=settings.WRITER_BATCH_MAX, queue_max=settings.JOIN_QUEUE_MAX
        )
        app.state.open_sessions = OpenSessionsByCode(database)
        app.state.breakouts = BreakoutLive(database, hub, batch_max=settings.WRITER_BATCH_MAX)
        await app.state.breakouts.start()
        await app.state.joins.start()
        await app.state.writer.start()
        await app.state.ticker.start()
        await app.state.presence.start()
        app.state.sampler = metrics.Sampler(functools.partial(_sample, app))
        await app.state.sampler.start()
        app.state.countdowns = Countdowns(database, hub)
        await app.state.countdowns.start()
        app.state.collections = FullCollections(settings.GC_FULL_COLLECTION_SECONDS)
        await app.state.collections.start()
        # Word-cloud dictionaries take up to 1.6 s to load: load those open questions need, off the loop.
        warming = asyncio.create_task(polls_service.load_word_cloud_languages(database), name="warm-words")
        try:
            yield
        finally:
            warming.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await warming
            await app.state.collections.stop()
            await app.state.sampler.stop()
            # uvicorn has closed every socket with 1012 by now; commit what they sent (each writer gives
            # up after a bounded wait, so a stuck database cannot hang the shutdown).
            await asyncio.gather(app.state.breakouts.stop(), app.state.writer.stop(), app.state.joins.stop())
            await app.state.countdowns.stop()
            await app.state.presence.stop()
            await app.state.ticker.stop()
            await hub.stop()
            await database.dispose()

    app = FastAPI(title="Thirdspace", version="1", description=API_DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    app.state.join_limiter = JoinLimiter(join_budget(settings))
    app.state.login_limiter = FailureLimiter(
        allowed=settings.LOGIN_FAILURES_ALLOWED, window_seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS
    )
    app.state.withdraw_limiter = FailureLimiter(
        allowed=settings.WITHDRAW_FAILURES_ALLOWED, window_seconds=settings.WITHDRAW_FAILURE_WINDOW_SECONDS
    )
    errors.install(app)

    async def broker_unavailable(request: Request, exc: Exception) -> Response:
        # Redis is away (the join limit counts there): nothing was done; the client tries again.
        return errors.render(
            request,
            errors.AppError(
                503,
                "broker_unavailable",
                "The service is reconnecting to its message broker; nothing was done. Try again in a few "
                "seconds.",
                headers={"Retry-After": "5"},
            ),
        )

    app.add_exception_handler(BrokerUnavailable, broker_unavailable)

    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(sockets.PhoneSocketsFirst)  # added last: the outermost of these three

    # Routes are matched in order: what every phone calls (the join, its socket) first.
    app.include_router(participants_api.router)
    app.include_router(sockets.router)
    app.include_router(auth_api.router)
    app.include_router(structure_api.router)
    app.include_router(sessions_api.router)
    app.include_router(question_edits_api.router)
    app.include_router(entries_api.router)
    app.include_router(research_api.router)
    app.include_router(breakouts_api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


API_DESCRIPTION = """Live polling for facilitated events that take anonymity seriously. JSON in and out;
ids are opaque strings; times are ISO 8601 UTC. Every error has one shape, `{"error": {"code",
"message", "fields"?}}` (ErrorPublic). The full reference, websockets included, is docs/protocol.md."""


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's OpenAPI, less the validation error it documents on routes that take no body: their
    path parameters are plain strings, so they never answer 422 (and every error is ErrorPublic)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for operations in schema["paths"].values():
        for operation in operations.values():
            if "requestBody" not in operation:
                operation["responses"].pop("422", None)
    schemas = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{unused}" not in json.dumps(schema):
            schemas.pop(unused, None)
    app.openapi_schema = schema
    return schema
