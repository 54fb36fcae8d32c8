"""The HTML faces: join, phone, login, console, presenter."""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Annotated, Any
from urllib.parse import quote

import segno
from fastapi import APIRouter, Form, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy import text

from app import metrics
from app.api.auth import login as api_login
from app.api.sessions import links, session_public
from app.auth import security
from app.auth import service as auth_service
from app.auth.deps import CSRF_COOKIE, LOGIN_COOKIE, account_from_token
from app.auth.models import Account, Role
from app.db import Db
from app.errors import AppError, ErrorPublic
from app.polls import sections as sections_service
from app.sessions import service as sessions_service
from app.sessions import sheet
from app.sessions.deps import participant_cookie
from app.sessions.models import LiveSession

router = APIRouter(include_in_schema=False)

COLLECTED = (
    "What is kept: your answers to this session's questions, the time each answer was given or changed, "
    "the notes and +1s you give in breakout groups (your group and the facilitators see notes; no name "
    "is shown), the private messages you send to the research team (only the facilitators and "
    "researchers read them), and, if there is an information sheet, which version you agreed to and "
    "when. Research exports "
    "leave the times out unless the facilitator chose minutes since the start before the first answer; "
    "they never hold the time of day. You get a withdrawal code: with it you can remove everything you "
    "gave, during the session or after it, at /withdraw. What is not kept: your name, e-mail address, "
    "IP address, device or browser. Your answers are linked only to a random code held in this browser "
    "for this session, so the facilitator cannot tell who you are, and your answers here cannot be "
    "linked to any other session. Results are shown only once at least {k} people have answered."
)


def _render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    response: Response = request.app.state.templates.TemplateResponse(
        request, template, context, status_code=status_code
    )
    return response


async def _page_account(request: Request, db: Db) -> tuple[Account, str] | None:
    token = request.cookies.get(LOGIN_COOKIE)
    account = await account_from_token(db, request.app.state.secret_key, token) if token else None
    return (
        (account, security.csrf_token_for(request.app.state.secret_key, token)) if account and token else None
    )


def _to_login(request: Request) -> Response:
    return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)


@router.get("/favicon.ico")
async def favicon() -> Response:
    return Response(status_code=204)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Alive: the process answers (a liveness check)."""
    return {"status": "ok"}


# 2 s: a database that takes longer for SELECT 1 is not one to send people to.
READY_TIMEOUT_SECONDS = 2.0


@router.get("/readyz", responses={503: {"model": ErrorPublic, "description": "Not ready: see the message."}})
async def readyz(request: Request) -> Response:
    """Ready: the database answers, and the broker when one is configured (a readiness check for a
    proxy or an orchestrator; 503 `not_ready` naming what is down)."""
    app = request.app
    down = []
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), app.state.database.read_session() as db:
            await db.execute(text("SELECT 1"))
    except Exception:
        down.append("the database")
    shared = app.state.settings.BROKER_URL != "memory://"
    if shared and not app.state.hub.broker_up:
        down.append("the broker (Redis)")
    if down:
        error = AppError(503, "not_ready", f"Not ready: {' and '.join(down)} cannot be reached.")
        return JSONResponse(error.body(), status_code=503)
    return JSONResponse({"status": "ready", "database": "ok", "broker": "ok" if shared else "none"})


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics_page() -> Response:
    """Prometheus metrics (text format): sockets, answers, writer batches, fan-out, hub lag."""
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)


@router.get("/", response_class=HTMLResponse)
async def join_page(request: Request) -> Response:
    return _render(request, "join.html", {"code": "", "autostart": False})


@router.get("/withdraw", response_class=HTMLResponse)
async def withdraw_page(request: Request) -> Response:
    """Withdraw with the five-word code, during or after a session (ETHICS 5)."""
    return _render(request, "withdraw.html", {})


@router.get("/j/{code}", response_class=HTMLResponse)
async def join_link(request: Request, code: str) -> Response:
    """Where a QR code or join link lands: the code is filled in and sent."""
    code = code if code.isdigit() and len(code) == 8 else ""
    return _render(request, "join.html", {"code": code, "autostart": bool(code)})


@router.get("/s/{session_id}", response_class=HTMLResponse)
async def phone_page(request: Request, db: Db, session_id: str) -> Response:
    """A participant's phone: information sheet, then the live question."""
    token = request.cookies.get(participant_cookie(session_id))
    participant = (
        await sessions_service.participant_by_token(db, session_id=session_id, token=token) if token else None
    )
    live = await db.get(LiveSession, session_id) if participant else None
    if participant is None or live is None:
        return RedirectResponse("/", status_code=303)
    page_data = {
        "session": {"id": live.id, "title": live.title},
        "consent": {
            "required": live.consent_version is not None,
            "text": live.consent_text or "",
            "html": sheet.render(live.consent_text),
            "version": live.consent_version,
        },
        "consented": not sessions_service.needs_consent(live, participant),
        "collected": COLLECTED.format(k=live.min_group),
    }
    return _render(request, "phone.html", {"page_data": page_data, "title": live.title})


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/console") -> Response:
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = _render(request, "login.html", {"error": None, "next": _safe_next(next), "csrf_token": csrf})
    _set_csrf_cookie(request, response, csrf)
    return response


@router.post("/login", response_class=HTMLResponse)
async def login_submit(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/console",
) -> Response:
    """The login form: double-submit CSRF check, then the same check as the token route."""
    expected = request.cookies.get(CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        raise AppError(403, "csrf_failed", "The login form expired; reload the page and try again.")
    try:
        token = await api_login(request, email=username, password=password)
    except AppError as error:
        if error.status not in (401, 429):
            raise
        csrf = secrets.token_urlsafe(24)
        response = _render(
            request,
            "login.html",
            {"error": error.message, "next": _safe_next(next), "csrf_token": csrf},
            status_code=error.status,
        )
        if error.headers:
            response.headers.update(error.headers)
        _set_csrf_cookie(request, response, csrf)
        return response
    response = RedirectResponse(_safe_next(next), status_code=303)
    settings = request.app.state.settings
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=settings.ACCESS_TOKEN_SECONDS,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
    _set_csrf_cookie(request, response, security.csrf_token_for(request.app.state.secret_key, token))
    return response


@router.post("/logout")
async def logout(request: Request, db: Db, csrf_token: Annotated[str, Form()] = "") -> Response:
    found = await _page_account(request, db)
    if found is not None and not secrets.compare_digest(found[1], csrf_token):
        raise AppError(
            403, "csrf_failed", "This form lacks the page's CSRF token; reload the page and try again."
        )
    if found is not None:
        # The cookie is deleted below, and the token it held ends too (a copy of it is worth nothing).
        token = request.cookies[LOGIN_COOKIE]
        parsed = security.read_access_token(request.app.state.secret_key, token)
        if parsed is not None:
            await auth_service.revoke_token(db, token=token, expires_at=parsed.expires_at)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(LOGIN_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


@router.get("/console", response_class=HTMLResponse)
async def console_index(request: Request, db: Db) -> Response:
    found = await _page_account(request, db)
    if found is None:
        return _to_login(request)
    account, csrf = found
    sessions = [
        {
            "id": s.id,
            "title": s.title,
            "code": s.code,
            "closed": s.closed,
            "created_at": s.created_at.isoformat(),
        }
        for s in await sessions_service.list_owned(db, owner=account)
    ]
    readable = [
        {"id": s.id, "title": s.title, "closed": s.closed}
        for s in await sessions_service.list_shared(db, account=account)
    ]
    return _render(
        request,
        "console_index.html",
        {
            "user": {"email": account.email},
            "sessions": sessions,
            "shared_with_me": readable,
            "csrf_token": csrf,
            # A researcher reads what is shared with them; the forms to make sessions would only be refused.
            "can_create": account.role in (Role.facilitator.value, Role.admin.value),
        },
    )


@router.get("/console/{session_id}", response_class=HTMLResponse)
async def console_page(request: Request, db: Db, session_id: str) -> Response:
    found = await _page_account(request, db)
    if found is None:
        return _to_login(request)
    account, csrf = found
    live = await sessions_service.get_owned(db, session_id=session_id, owner=account)
    session = jsonable_encoder(await session_public(request, db, live))
    return _render(
        request,
        "console.html",
        {
            "page_data": {"session": session},
            "csrf_token": csrf,
            "user": {"email": account.email},
            "title": live.title,
        },
    )


@router.get("/presenter/{session_id}", response_class=HTMLResponse)
async def presenter_page(request: Request, db: Db, session_id: str) -> Response:
    found = await _page_account(request, db)
    if found is None:
        return _to_login(request)
    account, csrf = found
    # The facilitator, or a researcher they added (who sees results as any screen does, under k).
    live = await sessions_service.get_readable(db, session_id=session_id, account=account)
    join_url = links(request, live)["join_url"]
    # No fixed size: the SVG keeps its viewBox and fills the presenter's side panel.
    qr_svg = segno.make(join_url, error="m").svg_inline(border=2, dark="#000", light="#fff", omitsize=True)
    page_data = {
        "session": {
            "id": live.id,
            "title": live.title,
            "code": live.code,
            "join_url": join_url,
            "join_host_parts": join_host_parts(request.app.state.settings.PUBLIC_URL),
            "min_group": live.min_group,
        },
        "sections": {s.id: s.title for s in await sections_service.list_sections(db, session_id=live.id)},
    }
    return _render(
        request,
        "presenter.html",
        {"page_data": page_data, "qr_svg": qr_svg, "csrf_token": csrf, "title": live.title},
    )


def join_host_parts(public_url: str) -> list[str]:
    """The join address as the presenter shows it: host and path without the scheme (the page at "/"
    asks for the code), in parts that may wrap only after a "/", never inside a word."""
    bare = public_url.split("://", 1)[-1].rstrip("/")
    parts: list[str] = []
    for piece in re.split(r"(?<=/)", bare):
        if piece:
            parts.append(piece)
    return parts or [bare]


def _safe_next(target: str) -> str:
    """Only paths on this site: never an open redirect."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/console"
    return target


def _set_csrf_cookie(request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        value,
        httponly=False,
        samesite="strict",
        secure=request.app.state.settings.secure_cookies,
    )
