"""The one error shape, {"error": {"code", "message", "fields"?}}, for JSON routes and for pages."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

_STATUS_CODES = {
    400: ("bad_request", "The request could not be read. Send a JSON body."),
    401: ("not_authenticated", "Log in, or send a valid token."),
    403: ("forbidden", "Your account may not do this."),
    404: ("not_found", "Nothing is here, or it is not yours."),
    405: ("method_not_allowed", "This address does not take that method."),
    409: ("conflict", "The current state does not allow this."),
    413: ("body_too_large", "The request body is too large. Send less."),
    422: ("invalid", "Some fields are invalid; see error.fields."),
    429: ("too_many_attempts", "Too many attempts. Wait a little, then try again."),
    503: ("server_busy", "The server is busy. Wait a few seconds, then try again."),
}


class ErrorDetailPublic(BaseModel):
    code: str = Field(description="Stable; programs should look at it.")
    message: str = Field(description="A sentence a person can act on; it may change.")
    fields: dict[str, str] | None = Field(
        default=None,
        description="Present only when particular fields are at fault: each field as the client named it "
        "(dotted for nested fields and list positions, e.g. `settings.min_group`, `options.2`), with what "
        "is wrong.",
    )


class ErrorPublic(BaseModel):
    """The one shape of every error, from every route."""

    error: ErrorDetailPublic


# What each refusal means, for the OpenAPI (the contract's table of statuses).
_WHEN = {
    400: "The body is not JSON, is not a JSON object, or is missing.",
    401: "No credential, or a wrong or expired one.",
    403: "The credential is valid but its role may not do this, or a cookie write lacks `X-CSRF-Token`.",
    404: "Missing, or not yours.",
    409: "The state forbids it.",
    413: "The body is over the route's limit (`body_too_large`); nothing was read or recorded.",
    422: "Fields are invalid; `error.fields` names them.",
    429: "Too many attempts; `Retry-After` says when to try again.",
    503: "The server is too busy to queue this (`server_busy`); `Retry-After` says when to try again.",
}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
}
_HEADERS: dict[int, dict[str, Any]] = {429: _RETRY_AFTER, 503: _RETRY_AFTER}


def error_responses(*statuses: int, **when: str) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each status it can refuse with, in the one error shape. A keyword
    `s409="..."` says what that status means for this route."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {
            "model": ErrorPublic,
            "description": when.get(f"s{status}", _WHEN[status]),
        }
        if status in _HEADERS:
            response["headers"] = _HEADERS[status]
        responses[status] = response
    return responses


class AppError(Exception):
    """A refusal a person can act on: an HTTP status, a stable code and a sentence."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return {"error": error}


def not_found(what: str = "This") -> AppError:
    return AppError(404, "not_found", f"{what} does not exist, or it is not yours.")


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path.startswith("/ws/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def render(request: Request, error: AppError) -> Response:
    if _wants_html(request):
        templates = request.app.state.templates
        return templates.TemplateResponse(
            request,
            "error.html",
            {"code": error.code, "message": error.message, "status": error.status},
            status_code=error.status,
            headers=error.headers,
        )
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


_SOURCES = ("body", "query", "path", "form", "header", "cookie")
_UNION_TAG_ERRORS = ("union_tag_invalid", "union_tag_not_found")


def _field_name(error: dict[str, Any], body: Any) -> str:
    """The field as the client named it. Pydantic puts a tagged union's tag in the path
    (`choice.options` for `options`), so a path part that is not a key of the body sent is skipped;
    an unknown or missing tag is the discriminator's own field (`kind`)."""
    loc = list(error.get("loc", ()))
    source = loc.pop(0) if loc and loc[0] in _SOURCES else None
    parts: list[str] = []
    node = body if source == "body" else None
    for i, part in enumerate(loc):
        if isinstance(node, dict) and part not in node and i < len(loc) - 1:
            continue
        parts.append(str(part))
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    if error.get("type") in _UNION_TAG_ERRORS:
        parts.append(str(error.get("ctx", {}).get("discriminator", "kind")).strip("'"))
    return ".".join(parts) or "body"


def from_validation(exc: RequestValidationError) -> AppError:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return AppError(400, "malformed_json", "The body is not valid JSON.")
    fields: dict[str, str] = {}
    for e in errors:
        fields.setdefault(_field_name(e, exc.body), str(e.get("msg", "invalid")))
    if set(fields) == {"body"}:
        return AppError(400, "bad_request", "The body is missing or is not a JSON object.", fields=fields)
    return AppError(422, "invalid", "Some fields are invalid; see error.fields.", fields=fields)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this request's path. A literal segment beats a parameter:
    `/api/sessions/import` is the import route's (POST), not a session id's (GET, PATCH, DELETE)."""
    found: list[tuple[int, set[str]]] = []

    def walk(routes: list[BaseRoute]) -> None:
        for route in routes:
            original = getattr(route, "original_router", None)
            if original is not None:  # FastAPI's wrapper of an included router
                walk(original.routes)
                continue
            route_methods = getattr(route, "methods", None)
            if route_methods and route.matches(request.scope)[0] != Match.NONE:
                found.append((len(getattr(route, "param_convertors", {})), set(route_methods)))

    walk(request.app.router.routes)
    fewest = min((params for params, _ in found), default=0)
    return sorted({m for params, methods in found if params == fewest for m in methods})


def install(app: FastAPI) -> None:
    """Route every error through the one shape."""

    async def app_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AppError)
        return render(request, exc)

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return render(request, from_validation(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code, message = _STATUS_CODES.get(exc.status_code, ("error", "The request failed."))
        if isinstance(exc.detail, str) and exc.status_code not in (404, 405) and exc.detail:
            message = exc.detail
        headers = dict(exc.headers) if exc.headers else None
        if exc.status_code == 405:
            # Starlette names the methods of the first route that matched the path; a path served by
            # several routes (GET and PATCH on /api/sessions/{id}) takes all of theirs.
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        return render(request, AppError(exc.status_code, code, message, headers=headers))

    async def unexpected(request: Request, exc: Exception) -> Response:
        return render(
            request, AppError(500, "server_error", "Something went wrong on the server; try again.")
        )

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
