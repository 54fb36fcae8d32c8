"""Small factories that build data through the public API, as a client would."""

from __future__ import annotations

import itertools
import json
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from app.auth import service as auth_service
from app.auth.models import Role

if TYPE_CHECKING:
    from tests.conftest import LiveServer

_emails = itertools.count(1)
PASSWORD = "correct horse battery"


class Api:
    """The contract from a client's side: accounts, sessions, questions, joins, sockets."""

    def __init__(self, client: httpx.AsyncClient, app: FastAPI, live: LiveServer | None = None) -> None:
        self.client = client
        self.app = app
        self.live = live

    async def create_account(self, *, role: Role = Role.facilitator, email: str | None = None) -> str:
        email = email or f"user{next(_emails)}@example.org"
        async with self.app.state.database.session() as db:
            await auth_service.create_account(db, email=email, password=PASSWORD, role=role)
            await db.commit()
        return email

    async def token(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        r = await self.client.post("/api/auth/token", data={"username": email, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    async def facilitator(self, role: Role = Role.facilitator) -> dict[str, str]:
        return await self.token(await self.create_account(role=role))

    async def create_session(self, auth: dict[str, str], **settings: Any) -> dict[str, Any]:
        r = await self.client.post(
            "/api/sessions", json={"title": "Workshop", "settings": settings}, headers=auth
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def create_question(
        self,
        auth: dict[str, str],
        session: dict[str, Any],
        options: list[str] | None = None,
        multiple: bool = False,
    ) -> dict[str, Any]:
        r = await self.client.post(
            f"/api/sessions/{session['id']}/questions",
            json={
                "kind": "choice",
                "prompt": "Which?",
                "options": options or ["A", "B", "C"],
                "multiple": multiple,
            },
            headers=auth,
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def add_question(
        self, auth: dict[str, str], session: dict[str, Any], **body: Any
    ) -> dict[str, Any]:
        """A question of any kind, from the create request's fields."""
        r = await self.client.post(f"/api/sessions/{session['id']}/questions", json=body, headers=auth)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def open_question(
        self, auth: dict[str, str], session: dict[str, Any], **body: Any
    ) -> dict[str, Any]:
        """A question of any kind, opened (not made current)."""
        question = await self.add_question(auth, session, **body)
        r = await self.patch_question(auth, session, question, open=True)
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def entries(
        self, auth: dict[str, str], session: dict[str, Any], question: dict[str, Any]
    ) -> list[dict[str, Any]]:
        r = await self.client.get(
            f"/api/sessions/{session['id']}/questions/{question['id']}/entries", headers=auth
        )
        assert r.status_code == 200, r.text
        return list(r.json()["entries"])

    async def moderate(
        self,
        auth: dict[str, str],
        session: dict[str, Any],
        question: dict[str, Any],
        entry_id: str,
        **body: Any,
    ) -> httpx.Response:
        return await self.client.patch(
            f"/api/sessions/{session['id']}/questions/{question['id']}/entries/{entry_id}",
            json=body,
            headers=auth,
        )

    async def patch_question(
        self, auth: dict[str, str], session: dict[str, Any], question: dict[str, Any], **body: Any
    ) -> httpx.Response:
        return await self.client.patch(
            f"/api/sessions/{session['id']}/questions/{question['id']}", json=body, headers=auth
        )

    async def make_current(
        self, auth: dict[str, str], session: dict[str, Any], question: dict[str, Any] | None
    ) -> None:
        r = await self.client.put(
            f"/api/sessions/{session['id']}/current",
            json={"question_id": question["id"] if question else None},
            headers=auth,
        )
        assert r.status_code == 200, r.text

    async def live_question(
        self, auth: dict[str, str], session: dict[str, Any], **kwargs: Any
    ) -> dict[str, Any]:
        """A question that is current and open."""
        question = await self.create_question(auth, session, **kwargs)
        await self.make_current(auth, session, question)
        r = await self.patch_question(auth, session, question, open=True)
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def join(self, session: dict[str, Any]) -> dict[str, Any]:
        """A new phone joins: without the participant cookie an earlier join of this client left (a
        browser that sends it continues as that participant instead)."""
        self.client.cookies.delete(f"ts_p_{session['id']}")
        r = await self.client.post("/api/join", json={"code": session["code"]})
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def consent(
        self, session: dict[str, Any], joined: dict[str, Any], agree: bool = True
    ) -> httpx.Response:
        return await self.client.post(
            f"/api/sessions/{session['id']}/consent",
            json={"version": joined["consent"]["version"], "agree": agree},
            headers={"Authorization": f"Bearer {joined['participant_token']}"},
        )

    async def results(
        self, auth: dict[str, str], session: dict[str, Any], question: dict[str, Any]
    ) -> dict[str, Any]:
        r = await self.client.get(
            f"/api/sessions/{session['id']}/questions/{question['id']}/results", headers=auth
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    # Sockets (need live_api).

    async def phone(self, session: dict[str, Any], joined: dict[str, Any] | None = None) -> Socket:
        joined = joined or await self.join(session)
        assert self.live is not None, "sockets need the live_api fixture"
        ws = await connect(
            f"{self.live.ws}/ws/participant/{session['id']}",
            additional_headers={"Authorization": f"Bearer {joined['participant_token']}"},
            compression=None,
        )
        sock = Socket(ws)
        state = await sock.expect("session.state")
        assert state["data"]["snapshot"] is True
        return sock

    async def presenter(self, auth: dict[str, str], session: dict[str, Any]) -> Socket:
        assert self.live is not None, "sockets need the live_api fixture"
        ws = await connect(
            f"{self.live.ws}/ws/presenter/{session['id']}", additional_headers=auth, compression=None
        )
        return Socket(ws)

    async def console(self, auth: dict[str, str], session: dict[str, Any]) -> Socket:
        assert self.live is not None, "sockets need the live_api fixture"
        ws = await connect(
            f"{self.live.ws}/ws/console/{session['id']}", additional_headers=auth, compression=None
        )
        return Socket(ws)

    # Below the API: the participant row behind a join, and answers handed straight to the writer.

    async def participant_id(self, joined: dict[str, Any]) -> str:
        """The id of the participant a join created, found by the token's hash as the server finds it."""
        from app.sessions import service as sessions_service

        async with self.app.state.database.read_session() as db:
            participant = await sessions_service.participant_by_token(
                db, session_id=joined["session"]["id"], token=joined["participant_token"]
            )
        assert participant is not None, "no participant holds this token"
        return participant.id

    async def submit(
        self,
        joined: dict[str, Any],
        question: dict[str, Any],
        value: Any,
        client_id: str,
        type_: str = "answer",
    ) -> Any:
        """A message (an answer, upvote or comment) handed to the app's writer as a phone's socket hands
        it over; returns the Outcome."""
        return await self.app.state.writer.submit(
            session_id=joined["session"]["id"],
            participant_id=await self.participant_id(joined),
            client_id=client_id,
            question_id=question["id"],
            value=value,
            type_=type_,
        )

    async def quick_facilitator(self, role: Role = Role.facilitator) -> dict[str, str]:
        """An account and a real signed bearer token without argon2 (about 0.15 s a hash here): for
        tests about sessions rather than logging in. The account's password matches nothing."""
        from app.auth import security
        from app.auth.models import Account

        async with self.app.state.database.session() as db:
            account = Account(email=f"user{next(_emails)}@example.org", password_hash="!", role=role.value)
            db.add(account)
            await db.commit()
        token = security.issue_access_token(self.app.state.secret_key, account.id, 3600)
        return {"Authorization": f"Bearer {token}"}


class Socket:
    """A websocket with helpers to wait for a message type."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.log: list[dict[str, Any]] = []

    async def send(self, type_: str, data: Any, id_: str | None = None) -> None:
        message: dict[str, Any] = {"type": type_, "data": data}
        if id_ is not None:
            message["id"] = id_
        await self.ws.send(json.dumps(message))

    async def answer(self, question: dict[str, Any], value: Any, id_: str) -> dict[str, Any]:
        return await self.request("answer", {"question_id": question["id"], "value": value}, id_)

    async def request(self, type_: str, data: Any, id_: str) -> dict[str, Any]:
        """Send a message with an id and return its reply (`<type>.ack` or `<type>.error`)."""
        await self.send(type_, data, id_)
        reply = await self.expect(f"{type_}.ack", f"{type_}.error")
        assert reply["data"]["id"] == id_
        return reply

    async def acked(self, type_: str, data: Any, id_: str) -> None:
        reply = await self.request(type_, data, id_)
        assert reply["type"] == f"{type_}.ack", reply

    async def recv(self, timeout: float = 5.0) -> dict[str, Any]:
        import asyncio

        message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.log.append(message)
        return dict(message)

    async def expect(self, *types: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next message of one of these types (others are kept in .log and skipped)."""
        import asyncio

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self.recv(max(0.01, deadline - loop.time()))
            if message["type"] in types:
                return message

    async def drain(self, quiet: float = 0.3) -> None:
        """Read what has arrived (into .log) until the socket is quiet for `quiet` seconds."""
        while True:
            try:
                await self.recv(timeout=quiet)
            except TimeoutError:
                return

    async def close(self) -> None:
        await self.ws.close()


def choice(question: dict[str, Any], index: int) -> dict[str, list[str]]:
    return {"choices": [question["options"][index]["id"]]}


def assert_error(
    response: httpx.Response, status: int, code: str, fields: set[str] | None = None
) -> dict[str, Any]:
    """The one error shape: {"error": {"code", "message", "fields"?}}, with this status and code; when
    `fields` is given, error.fields names exactly those fields."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, body
    assert isinstance(error["message"], str) and error["message"], body
    if fields is None:
        assert set(error) == {"code", "message"}, body
    else:
        assert set(error) == {"code", "message", "fields"}, body
        assert set(error["fields"]) == fields, body
    return dict(error)
