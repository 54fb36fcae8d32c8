"""Graceful shutdown of a real `thirdspace serve`: SIGTERM closes every socket with 1012 (reconnect
now), commits the answers in hand, and the process ends in bounded time. What was acked is kept; what
was not is resent with the same id after the restart and counted once."""

from __future__ import annotations

import asyncio
import json
import time

from websockets.exceptions import ConnectionClosed

from tests.conftest import ServerProcess
from tests.workshop import answer_message, open_workshop

PHONES = 6
# uvicorn waits up to 5 s for connections (timeout_graceful_shutdown), the writers up to 10 s each (in
# parallel): far less than this unless something hangs.
SHUTDOWN_BOUND_SECONDS = 25


class TestGracefulShutdown:
    async def test_sigterm_closes_sockets_with_1012_and_keeps_the_answers_in_hand(
        self, server_process: ServerProcess
    ) -> None:
        server = server_process
        workshop = await open_workshop(server, phones=PHONES)
        options = workshop.options
        sockets = [await workshop.phone(i) for i in range(PHONES)]
        # Everyone answers option 0 and waits for the ack.
        for i, ws in enumerate(sockets):
            await ws.send(answer_message(workshop, options[0], f"first-{i}"))
        for ws in sockets:
            while json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] != "answer.ack":
                pass
        # Then everyone changes to option 1, and the server is told to stop without waiting for acks.
        for i, ws in enumerate(sockets):
            await ws.send(answer_message(workshop, options[1], f"second-{i}"))
        started = time.monotonic()
        stopping = asyncio.create_task(asyncio.to_thread(server.stop, wait_seconds=SHUTDOWN_BOUND_SECONDS))

        acked: set[str] = set()
        for ws in sockets:
            try:
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), SHUTDOWN_BOUND_SECONDS))
                    if message["type"] == "answer.ack":
                        acked.add(message["data"]["id"])
            except ConnectionClosed:
                pass
            assert ws.close_code == 1012, (ws.close_code, ws.close_reason)
        await stopping
        elapsed = time.monotonic() - started
        assert elapsed < SHUTDOWN_BOUND_SECONDS - 5, f"shutdown took {elapsed:.1f} s"
        assert server.proc is not None and server.proc.returncode is not None
        assert "Application shutdown complete" in server.log(), server.log()
        assert "gave up after" not in server.log()

        # Start again: each phone resends what it has no ack for, with the same id.
        server.start()
        sockets = [await workshop.phone(i) for i in range(PHONES)]
        for i, ws in enumerate(sockets):
            if f"second-{i}" not in acked:
                await ws.send(answer_message(workshop, options[1], f"second-{i}"))
                while (message := json.loads(await asyncio.wait_for(ws.recv(), 10)))["type"] != "answer.ack":
                    assert message["type"] != "answer.error", message
            await ws.close()
        await workshop.close_question()
        counts = await workshop.counts()
        assert counts[options[1]] == PHONES
        assert counts[options[0]] == 0
        assert sum(counts.values()) == PHONES
