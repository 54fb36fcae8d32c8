"""When the database fails, the log says so without carrying what people sent (ETHICS 2): no
participant ids, no answer values, no token hashes. The failures are real: SQLite triggers in the
served database refuse the writes, and `thirdspace serve`'s own log is read afterwards."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import ServerProcess
from tests.factories import PASSWORD

# SQLAlchemy prints a failed statement's bound values as "[parameters: (...)]" unless told not to.
PARAMETERS_SHOWN = "[parameters:"
# Every sha256 (token hashes) and every 32-hex id; ids of sessions and questions are allowed below.
HEX64 = re.compile(r"[0-9a-f]{64}")
HEX32 = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


def _refuse_writes_to(server: ServerProcess, table: str) -> None:
    """A trigger that fails every insert into `table`, as a full disk or a broken file would."""
    if server.database_url.startswith("sqlite"):
        server.sql(
            f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'writes to {table} are failing'); END"
        )
        return
    server.sql(
        "CREATE OR REPLACE FUNCTION refuse_writes() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'writes to % are failing', TG_TABLE_NAME; END $$"
    )
    server.sql(
        f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION refuse_writes()"
    )


def _participant_ids(server: ServerProcess) -> list[str]:
    return [row[0] for row in server.sql("SELECT id FROM participant")]


async def _answer(ws: ClientConnection, question_id: str, option_id: str, id_: str) -> dict[str, Any]:
    await ws.send(
        json.dumps(
            {
                "type": "answer",
                "id": id_,
                "data": {"question_id": question_id, "value": {"choices": [option_id]}},
            }
        )
    )
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if message["type"] in ("answer.ack", "answer.error"):
            return dict(message)


async def test_failed_writes_log_no_ids_answers_or_token_hashes(server_process: ServerProcess) -> None:
    server = server_process
    async with httpx.AsyncClient(base_url=server.http) as http:
        r = await http.post(
            "/api/auth/token", data={"username": "facilitator@example.org", "password": PASSWORD}
        )
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        session = (
            await http.post(
                "/api/sessions", json={"title": "Logs", "settings": {"min_group": 3}}, headers=auth
            )
        ).json()
        base = f"/api/sessions/{session['id']}"
        question = (
            await http.post(
                f"{base}/questions",
                json={"kind": "choice", "prompt": "Q", "options": ["A", "B", "C"]},
                headers=auth,
            )
        ).json()
        await http.put(f"{base}/current", json={"question_id": question["id"]}, headers=auth)
        await http.patch(f"{base}/questions/{question['id']}", json={"open": True}, headers=auth)
        tokens = []
        for _ in range(3):
            http.cookies.clear()
            tokens.append(
                (await http.post("/api/join", json={"code": session["code"]})).json()["participant_token"]
            )
        options = [o["id"] for o in question["options"]]

        # The results ticker fails: k answers are in, but the shown result cannot be stored.
        _refuse_writes_to(server, "result_state")
        sockets = [
            await connect(
                f"{server.ws}/ws/participant/{session['id']}",
                additional_headers={"Authorization": f"Bearer {token}"},
            )
            for token in tokens
        ]
        for i, ws in enumerate(sockets):
            assert (await _answer(ws, question["id"], options[0], f"first-{i}"))["type"] == "answer.ack"

        # The answer writer fails: a changed answer cannot be stored (its items carry the option id).
        _refuse_writes_to(server, "answer_item")
        reply = await _answer(sockets[0], question["id"], options[2], "changed-0")
        assert reply["type"] == "answer.error" and reply["data"]["code"] == "server_error"

        # The join writer fails: the new participant's id and token hash cannot be stored.
        _refuse_writes_to(server, "participant")
        http.cookies.clear()
        r = await http.post("/api/join", json={"code": session["code"]})
        assert r.status_code == 500, r.text

        # Let the ticker retry the failing question for a while.
        await asyncio.sleep(2.0)
        for ws in sockets:
            await ws.close()

    log = server.log()
    assert "writes to result_state are failing" in log, log
    assert "writes to answer_item are failing" in log, log
    assert "writes to participant are failing" in log, log
    assert PARAMETERS_SHOWN not in log, log
    leaked = [hexes for hexes in HEX64.findall(log)]
    assert leaked == [], f"sha256-like values (token hashes) in the log: {leaked}"
    for token in tokens:
        assert token not in log
        assert hashlib.sha256(token.encode()).hexdigest() not in log
    for participant_id in _participant_ids(server):
        assert participant_id not in log
    allowed = {session["id"], question["id"]}
    assert set(HEX32.findall(log)) <= allowed, "an id other than the session's or question's is in the log"
    for option_id in options:
        assert option_id not in log, f"an answer's option id {option_id} is in the log"
    assert '"choices"' not in log

    # The failing question is retried with a back-off, its traceback logged once, then a line a retry.
    ticker_tracebacks = log.count("results for a question could not be computed")
    assert ticker_tracebacks == 1, log
    retries = log.count("results for a question still cannot be computed")
    assert 1 <= retries <= 6, f"{retries} retry lines in 2 s: no back-off?\n{log}"
