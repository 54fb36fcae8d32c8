"""A workshop against a real `thirdspace serve` (tests.conftest.ServerProcess): a facilitator, an open
choice question, phones that join, and phone sockets that send answers and read their replies."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import ServerProcess
from tests.factories import PASSWORD


@dataclass
class Workshop:
    server: ServerProcess
    auth: dict[str, str]
    session: dict[str, Any]
    question: dict[str, Any]
    tokens: list[str] = field(default_factory=list)

    @property
    def options(self) -> list[str]:
        return [o["id"] for o in self.question["options"]]

    async def counts(self) -> dict[str, int]:
        """The exact counts, from the results route once the question is closed (no k step)."""
        async with httpx.AsyncClient(base_url=self.server.http) as http:
            base = f"/api/sessions/{self.session['id']}/questions/{self.question['id']}"
            r = await http.get(f"{base}/results", headers=self.auth)
            assert r.status_code == 200, r.text
            return dict(r.json()["summary"]["counts"])

    async def close_question(self) -> None:
        async with httpx.AsyncClient(base_url=self.server.http) as http:
            base = f"/api/sessions/{self.session['id']}/questions/{self.question['id']}"
            r = await http.patch(base, json={"open": False}, headers=self.auth)
            assert r.status_code == 200, r.text

    async def phone(self, index: int) -> ClientConnection:
        """Phone `index`'s socket, after the session.state snapshot."""
        ws = await connect(
            f"{self.server.ws}/ws/participant/{self.session['id']}",
            additional_headers={"Authorization": f"Bearer {self.tokens[index]}"},
            open_timeout=10,
        )
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert first["type"] == "session.state", first
        return ws


async def login(server: ServerProcess) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=server.http) as http:
        r = await http.post(
            "/api/auth/token", data={"username": "facilitator@example.org", "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def open_workshop(
    server: ServerProcess, *, phones: int, options: int = 3, kind: str = "choice"
) -> Workshop:
    """A session (k = 3) with one open, current question (a choice of `options`, or `open` free text),
    and `phones` participants joined."""
    auth = await login(server)
    async with httpx.AsyncClient(base_url=server.http, timeout=30) as http:
        new = {"title": "Break", "settings": {"min_group": 3}}
        r = await http.post("/api/sessions", json=new, headers=auth)
        assert r.status_code == 201, r.text
        session = r.json()
        base = f"/api/sessions/{session['id']}"
        body: dict[str, Any] = {"kind": kind, "prompt": "Which?"}
        if kind == "choice":
            body["options"] = [f"Option {i}" for i in range(options)]
        r = await http.post(f"{base}/questions", json=body, headers=auth)
        assert r.status_code == 201, r.text
        question = r.json()
        await http.put(f"{base}/current", json={"question_id": question["id"]}, headers=auth)
        await http.patch(f"{base}/questions/{question['id']}", json={"open": True}, headers=auth)
        workshop = Workshop(server, auth, session, question)
        for _ in range(phones):
            # One at a time: the client would send the previous participant's cookie (a returning phone).
            http.cookies.clear()
            r = await http.post("/api/join", json={"code": session["code"]})
            assert r.status_code == 200, r.text
            workshop.tokens.append(r.json()["participant_token"])
    return workshop


def answer_message(workshop: Workshop, option_id: str, id_: str) -> str:
    return json.dumps(
        {
            "type": "answer",
            "id": id_,
            "data": {"question_id": workshop.question["id"], "value": {"choices": [option_id]}},
        }
    )
