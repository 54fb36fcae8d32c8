"""Every CONTRACT route exists in the app's OpenAPI, and docs/protocol.md documents every route and
socket the app has."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, WebSocketRoute

from app.config import Settings
from app.main import create_app

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = ROOT / "docs" / "protocol.md"
# A row of the contract table in docs/protocol.md: `METHOD /path` | built, or planned (which issue).
CONTRACT_ROW = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE) (/[^` ]*)` \| (built|planned[^|]*) \|$", re.M)
# The contract's 19 routes of version 1: the table must not lose any of them.
CONTRACT_ROUTES = 19


def _shape(path: str) -> str:
    """Path parameters compared by position, not name: the contract says {id}, the code {session_id}."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def _app() -> FastAPI:
    return create_app(Settings(ENVIRONMENT="development", SECRET_KEY="x" * 40))


def _contract_table() -> list[tuple[str, str, str]]:
    """(method, path shape, status) of each route in the protocol's "Contract version 1" section. The
    project checks itself against its own copy of the contract: a clone with nothing beside it passes."""
    text = PROTOCOL.read_text()
    section = text[text.index("## Contract version 1") : text.index("## Every route at a glance")]
    return [(m, _shape(p), status.split(" ")[0]) for m, p, status in CONTRACT_ROW.findall(section)]


class TestContractRoutes:
    def test_protocol_lists_every_contract_route(self) -> None:
        rows = _contract_table()
        assert len({(m, p) for m, p, _ in rows}) == len(rows) == CONTRACT_ROUTES

    def test_built_routes_are_in_openapi_and_planned_ones_are_not(self) -> None:
        openapi = _app().openapi()
        have = {(method.upper(), _shape(path)) for path, item in openapi["paths"].items() for method in item}
        wrong = [
            f"{m} {p} is marked {status}"
            for m, p, status in _contract_table()
            if ((m, p) in have) != (status == "built")
        ]
        assert wrong == []


def _routes(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, looking inside included routers (FastAPI keeps them wrapped)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _routes(inner.routes)
        else:
            yield route


class TestProtocolDoc:
    def test_routes_are_found(self) -> None:
        found = list(_routes(_app().routes))
        assert sum(isinstance(r, APIRoute) for r in found) >= 20
        assert sum(isinstance(r, WebSocketRoute) for r in found) == 3

    def test_every_route_and_socket_is_documented(self) -> None:
        text = PROTOCOL.read_text()
        missing = []
        for route in _routes(_app().routes):
            if isinstance(route, APIRoute):
                missing += [
                    f"{m} {route.path}"
                    for m in sorted(route.methods - {"HEAD"})
                    if f"{m} {route.path}" not in text
                ]
            elif isinstance(route, WebSocketRoute) and route.path not in text:
                missing.append(route.path)
        assert missing == []

    def test_every_message_type_is_documented(self) -> None:
        text = PROTOCOL.read_text()
        sources = "".join(p.read_text() for p in (ROOT / "app").rglob("*.py"))
        types = set(re.findall(r'encode\(\s*"([a-z.]+)"', sources)) | set(
            re.findall(r'"(poll\.results|session\.state|presence|answer\.ack|answer\.error)"', sources)
        )
        assert types, "no message types found: the pattern is stale"
        assert sorted(t for t in types if f"`{t}`" not in text) == []
