"""Break test 2 (issue 11): kill -9 a real `thirdspace serve` during a burst of answers from 50 phones,
start it again; every phone resends what it has no ack for, with the same id. Afterwards the database
holds exactly the acknowledged answers, none twice: on SQLite and on PostgreSQL (`--database`).

The answers are to an `open` question, where every answer is a new entry, so a doubled answer would
show as a second entry with the same text."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from tests.conftest import ServerProcess
from tests.workshop import Workshop, open_workshop

PHONES = 50
# Answers each phone sends, one at a time (each waits for its ack, as the phone page does).
ANSWERS_EACH = 8
# Kill once this many are acked: mid-burst, with about one answer per phone in flight.
KILL_AFTER_ACKS = 120
# The whole test, restart included, must end in this many seconds.
BOUND_SECONDS = 150


@dataclass
class Phone:
    """A phone that keeps its unacknowledged answer and sends it again, same id, after reconnecting."""

    index: int
    workshop: Workshop
    acked: list[str] = field(default_factory=list)
    pending: str | None = None
    sent: int = 0

    def next_id(self) -> str:
        return f"p{self.index}-a{self.sent}"

    async def connect(self) -> ClientConnection:
        """Reconnect with backoff and jitter until the server answers again."""
        delay = 0.2
        while True:
            try:
                return await self.workshop.phone(self.index)
            except (OSError, InvalidHandshake, InvalidStatus, ConnectionClosed, TimeoutError):
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 2.0)

    async def send_and_wait(self, ws: ClientConnection, id_: str) -> None:
        message = {
            "type": "answer",
            "id": id_,
            "data": {"question_id": self.workshop.question["id"], "value": {"text": f"answer {id_}"}},
        }
        await ws.send(json.dumps(message))
        while True:
            reply = json.loads(await ws.recv())
            if reply["type"] == "answer.ack" and reply["data"]["id"] == id_:
                self.acked.append(id_)
                return
            assert reply["type"] != "answer.error", reply

    async def burst(self, ws: ClientConnection) -> None:
        """Send answers until all are sent or the server dies; what was in flight stays pending."""
        with contextlib.suppress(ConnectionClosed, OSError):
            while self.sent < ANSWERS_EACH:
                self.pending = self.next_id()
                self.sent += 1
                await self.send_and_wait(ws, self.pending)
                self.pending = None
                await asyncio.sleep(0.05 * random.random())

    async def recover(self) -> None:
        ws = await self.connect()
        try:
            if self.pending is not None:
                await self.send_and_wait(ws, self.pending)
                self.pending = None
        finally:
            await ws.close()


async def _crash_and_recover(server: ServerProcess) -> tuple[Workshop, list[Phone]]:
    workshop = await open_workshop(server, phones=PHONES, kind="open")
    phones = [Phone(i, workshop) for i in range(PHONES)]
    sockets = [await phone.connect() for phone in phones]
    bursts = [asyncio.create_task(phone.burst(ws)) for phone, ws in zip(phones, sockets, strict=True)]
    while sum(len(p.acked) for p in phones) < KILL_AFTER_ACKS and not all(b.done() for b in bursts):
        await asyncio.sleep(0.01)
    server.kill()
    await asyncio.gather(*bursts)
    for ws in sockets:
        await ws.close()
    in_flight = sum(p.pending is not None for p in phones)
    assert in_flight > 0, "the kill came after the burst: nothing was in flight"
    server.start()
    await asyncio.gather(*(phone.recover() for phone in phones))
    return workshop, phones


class TestKillDuringABurst:
    async def test_the_database_holds_exactly_the_acked_answers_none_twice(
        self, server_process: ServerProcess
    ) -> None:
        server = server_process
        workshop, phones = await asyncio.wait_for(_crash_and_recover(server), BOUND_SECONDS)
        acked = [id_ for phone in phones for id_ in phone.acked]
        assert len(acked) == len(set(acked))
        rows = server.sql(
            "SELECT text FROM entry WHERE question_id = :q AND comment = :c",
            q=workshop.question["id"],
            c=False,
        )
        texts = [row[0] for row in rows]
        assert len(texts) == len(set(texts)), "an answer was stored twice"
        assert sorted(texts) == sorted(f"answer {id_}" for id_ in acked)
        receipts = server.sql(
            "SELECT count(*) FROM answer_receipt r JOIN participant p ON p.id = r.participant_id "
            "WHERE p.session_id = :s",
            s=workshop.session["id"],
        )
        assert receipts[0][0] == len(acked)
