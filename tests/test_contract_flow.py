"""The CONTRACT flow over real sockets against a real server process (`thirdspace serve`)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import ServerProcess
from tests.factories import PASSWORD


async def _next(ws: ClientConnection, type_: str, timeout: float = 5) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] == type_:
            return dict(message)


async def test_contract_flow(server_process: ServerProcess) -> None:
    server = server_process
    async with httpx.AsyncClient(base_url=server.http) as http:
        r = await http.post(
            "/api/auth/token", data={"username": "facilitator@example.org", "password": PASSWORD}
        )
        assert r.status_code == 200
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = await http.post(
            "/api/sessions", json={"title": "Contract", "settings": {"min_group": 5}}, headers=auth
        )
        assert r.status_code == 201
        session = r.json()
        assert len(session["code"]) == 8 and session["code"].isdigit()
        r = await http.post(
            f"/api/sessions/{session['id']}/questions",
            json={"kind": "choice", "prompt": "Most important area?", "options": ["A", "B", "C", "D"]},
            headers=auth,
        )
        assert r.status_code == 201
        question = r.json()
        options = [o["id"] for o in question["options"]]
        assert (
            await http.put(
                f"/api/sessions/{session['id']}/current", json={"question_id": question["id"]}, headers=auth
            )
        ).status_code == 200
        r = await http.patch(
            f"/api/sessions/{session['id']}/questions/{question['id']}", json={"open": True}, headers=auth
        )
        assert r.json()["open"] is True

        presenter = await connect(f"{server.ws}/ws/presenter/{session['id']}", additional_headers=auth)
        snapshot = await _next(presenter, "session.state")
        assert snapshot["data"]["current"]["id"] == question["id"]
        results_seen: list[dict[str, Any]] = []

        async def watch() -> None:
            while True:
                message = json.loads(await presenter.recv())
                if message["type"] == "poll.results":
                    message["received_at"] = time.perf_counter()
                    results_seen.append(message)

        watcher = asyncio.create_task(watch())

        phones = []
        for _ in range(6):
            # Six phones: none sends the participant cookie of another (that would continue as it).
            http.cookies.clear()
            joined = (await http.post("/api/join", json={"code": session["code"]})).json()
            ws = await connect(
                f"{server.ws}/ws/participant/{session['id']}",
                additional_headers={"Authorization": f"Bearer {joined['participant_token']}"},
            )
            assert (await _next(ws, "session.state"))["data"]["snapshot"] is True
            phones.append(ws)

        picks = [0, 0, 1, 1, 2, 3]
        sent_at: dict[int, float] = {}
        for i, (ws, pick) in enumerate(zip(phones, picks, strict=True)):
            sent_at[i] = time.perf_counter()
            await ws.send(
                json.dumps(
                    {
                        "type": "answer",
                        "id": f"a{i}",
                        "data": {"question_id": question["id"], "value": {"choices": [options[pick]]}},
                    }
                )
            )
            ack = await _next(ws, "answer.ack")
            assert ack["data"] == {"id": f"a{i}"}
            assert "seq" not in ack

        # The fifth answer completes k: the presenter gets a shown result made of at least 5 answers.
        deadline = time.perf_counter() + 5
        while not any(not m["data"]["hidden"] for m in results_seen) and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        first_shown = next(m for m in results_seen if not m["data"]["hidden"])
        assert first_shown["data"]["n"] >= 5
        latency_ms = (first_shown["received_at"] - sent_at[4]) * 1000
        print(f"\nanswer -> presenter latency (5th answer to first shown result): {latency_ms:.1f} ms")

        # One phone changes its answer; then an id is sent again, and an older id after a newer answer.
        await phones[5].send(
            json.dumps(
                {
                    "type": "answer",
                    "id": "b5",
                    "data": {"question_id": question["id"], "value": {"choices": [options[0]]}},
                }
            )
        )
        assert (await _next(phones[5], "answer.ack"))["data"]["id"] == "b5"
        await phones[5].send(
            json.dumps(
                {
                    "type": "answer",
                    "id": "b5",
                    "data": {"question_id": question["id"], "value": {"choices": [options[1]]}},
                }
            )
        )
        assert (await _next(phones[5], "answer.ack"))["data"]["id"] == "b5"
        await phones[5].send(
            json.dumps(
                {
                    "type": "answer",
                    "id": "a5",
                    "data": {"question_id": question["id"], "value": {"choices": [options[3]]}},
                }
            )
        )
        assert (await _next(phones[5], "answer.ack"))["data"]["id"] == "a5"

        r = await http.patch(
            f"/api/sessions/{session['id']}/questions/{question['id']}", json={"open": False}, headers=auth
        )
        assert r.json()["closed"] is True
        deadline = time.perf_counter() + 5
        while time.perf_counter() < deadline and not (results_seen and results_seen[-1]["data"]["n"] == 6):
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        watcher.cancel()
        final = results_seen[-1]["data"]
        assert final["n"] == 6
        assert final["hidden"] is False
        assert final["summary"]["counts"] == {options[0]: 3, options[1]: 2, options[2]: 1, options[3]: 0}
        assert final["summary"]["declined"] == 0
        api_result = (
            await http.get(f"/api/sessions/{session['id']}/questions/{question['id']}/results", headers=auth)
        ).json()
        assert api_result == final
        for ws in phones:
            await ws.close()
        await presenter.close()
