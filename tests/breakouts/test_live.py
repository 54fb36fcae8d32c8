"""Breakout rounds over real sockets (app/breakouts/live.py, app/breakouts/service.py): every bad input
of issue 10 refused with a clear error and nothing recorded, and what phones and consoles see of
self-select, declining, moves, broadcasts, time and closing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from app.breakouts import service
from app.breakouts.models import BreakoutMember, BreakoutNote, NotePlus, PrivateMessage
from tests.factories import Api, Socket


async def _count(api: Api, model: Any) -> int:
    async with api.app.state.database.read_session() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def _state(phone: Socket, round_id: str | None) -> dict[str, Any]:
    while True:
        shown = (await phone.expect("round.state"))["data"]["round"]
        if (shown["id"] if shown else None) == round_id:
            return dict(shown) if shown else {}


class Room:
    """A session with phones connected, and helpers to start rounds."""

    def __init__(self, api: Api, auth: dict[str, str], session: dict[str, Any], phones: list[Socket]) -> None:
        self.api = api
        self.auth = auth
        self.session = session
        self.phones = phones

    @property
    def sid(self) -> str:
        return str(self.session["id"])

    async def start(self, **body: Any) -> dict[str, Any]:
        r = await self.api.client.post(f"/api/sessions/{self.sid}/rounds", json=body, headers=self.auth)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def patch(self, round_: dict[str, Any], **body: Any) -> Any:
        return await self.api.client.patch(
            f"/api/sessions/{self.sid}/rounds/{round_['id']}", json=body, headers=self.auth
        )


async def _room(api: Api, phones: int, **settings: Any) -> Room:
    auth = await api.facilitator()
    session = await api.create_session(auth, **settings)
    sockets = [await api.phone(session) for _ in range(phones)]
    for phone in sockets:
        await phone.expect("round.state")
    return Room(api, auth, session, sockets)


async def _refused(phone: Socket, type_: str, data: Any, id_: str, code: str) -> dict[str, Any]:
    reply = await phone.request(type_, data, id_)
    assert reply["type"] == f"{type_}.error", reply
    assert reply["data"]["code"] == code, reply
    assert reply["data"]["message"]
    return reply


class TestNotes:
    async def test_bad_notes_are_refused_and_nothing_is_recorded(self, live_api: Api) -> None:
        room = await _room(live_api, 4)
        first = await room.start(mode="random", groups=2)
        states = [await _state(p, first["id"]) for p in room.phones]
        p0 = room.phones[0]
        await _refused(p0, "note", {"round_id": first["id"], "text": "   "}, "e1", "empty_text")
        await _refused(p0, "note", {"round_id": first["id"], "text": "x" * 281}, "e2", "text_too_long")
        await _refused(p0, "note", {"round_id": "nope", "text": "hi"}, "e3", "unknown_round")
        await _refused(p0, "note", {"round_id": first["id"]}, "e4", "malformed_note")
        # A round one is not in: a round of another session.
        other = await _room(live_api, 2)
        foreign = await other.start(mode="random", groups=1)
        await _refused(p0, "note", {"round_id": foreign["id"], "text": "hi"}, "e5", "unknown_round")
        # In the plenary (declined), one has no group to write to.
        await p0.acked("group.decline", {"round_id": first["id"]}, "d1")
        await _refused(p0, "note", {"round_id": first["id"], "text": "hi"}, "e6", "not_in_group")
        assert await _count(live_api, BreakoutNote) == 0
        assert states[0]["group"] is not None

    async def test_a_note_of_280_characters_is_taken(self, live_api: Api) -> None:
        room = await _room(live_api, 2)
        first = await room.start(mode="random", groups=1)
        await _state(room.phones[0], first["id"])
        await room.phones[0].acked("note", {"round_id": first["id"], "text": "é" * 280}, "n1")
        assert await _count(live_api, BreakoutNote) == 1

    async def test_a_repeated_note_id_is_acked_and_stored_once(self, live_api: Api) -> None:
        room = await _room(live_api, 2)
        first = await room.start(mode="random", groups=1)
        await _state(room.phones[0], first["id"])
        for _ in range(2):
            await room.phones[0].acked("note", {"round_id": first["id"], "text": "Once"}, "same")
        assert await _count(live_api, BreakoutNote) == 1

    async def test_a_note_in_a_closed_round_is_refused(self, live_api: Api) -> None:
        room = await _room(live_api, 2)
        first = await room.start(mode="random", groups=1)
        assert (await room.patch(first, open=False)).status_code == 200
        await _refused(room.phones[0], "note", {"round_id": first["id"], "text": "late"}, "x", "round_closed")
        assert await _count(live_api, BreakoutNote) == 0


class TestPlus:
    async def test_a_second_plus_is_refused(self, live_api: Api) -> None:
        room = await _room(live_api, 2)
        first = await room.start(mode="random", groups=1)
        a, b = room.phones
        for phone in room.phones:
            await _state(phone, first["id"])
        ack = await a.request("note", {"round_id": first["id"], "text": "Idea"}, "n1")
        note = (await b.expect("note.new"))["data"]
        # The author's ack names the new note, so its phone knows the note is its own at once.
        assert (ack["type"], ack["data"]) == ("note.ack", {"id": "n1", "note_id": note["id"]}), ack
        replay = await a.request("note", {"round_id": first["id"], "text": "Idea"}, "n1")
        assert replay["type"] == "note.ack" and replay["data"] == {"id": "n1"}, replay
        await b.acked("plus", {"note_id": note["id"]}, "p1")
        await b.acked("plus", {"note_id": note["id"]}, "p1")  # the same id: its ack again
        await _refused(b, "plus", {"note_id": note["id"]}, "p2", "already_plussed")
        await _refused(a, "plus", {"note_id": note["id"]}, "p3", "own_note")
        assert await _count(live_api, NotePlus) == 1

    async def test_a_plus_on_another_groups_note_is_refused(self, live_api: Api) -> None:
        room = await _room(live_api, 2)
        first = await room.start(mode="random", groups=2)
        a, b = room.phones
        await a.acked("note", {"round_id": first["id"], "text": "Mine"}, "n1")
        async with live_api.app.state.database.read_session() as db:
            note_id = await db.scalar(select(BreakoutNote.id))
        await _refused(b, "plus", {"note_id": note_id}, "p1", "unknown_note")
        await _refused(b, "plus", {"note_id": "missing"}, "p2", "unknown_note")
        assert await _count(live_api, NotePlus) == 0


class TestPrivate:
    async def test_over_the_limit_is_refused_and_nothing_recorded(self, live_api: Api) -> None:
        room = await _room(live_api, 1)
        phone = room.phones[0]
        await _refused(phone, "private", {"text": "x" * 2001}, "m1", "text_too_long")
        await _refused(phone, "private", {"text": ""}, "m2", "empty_text")
        await _refused(phone, "private", {"text": 5}, "m3", "malformed_private")
        assert await _count(live_api, PrivateMessage) == 0
        await phone.acked("private", {"text": "y" * 2000}, "m4")
        assert await _count(live_api, PrivateMessage) == 1

    async def test_without_an_id_it_is_refused(self, live_api: Api) -> None:
        room = await _room(live_api, 1)
        await room.phones[0].send("private", {"text": "hello"})
        error = await room.phones[0].expect("error")
        assert error["data"]["code"] == "missing_id"
        assert await _count(live_api, PrivateMessage) == 0

    async def test_before_consent_it_is_refused(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, consent_text="We record your answers.")
        phone = await live_api.phone(session)
        await _refused(phone, "private", {"text": "hi"}, "m1", "consent_required")
        assert await _count(live_api, PrivateMessage) == 0

    async def test_the_console_inbox_lists_them_newest_first(self, live_api: Api) -> None:
        room = await _room(live_api, 1)
        for i in range(2):
            await room.phones[0].acked("private", {"text": f"message {i}"}, f"m{i}")
        r = await live_api.client.get(f"/api/sessions/{room.sid}/private-messages", headers=room.auth)
        assert [m["text"] for m in r.json()["messages"]] == ["message 1", "message 0"]


class TestSelfSelect:
    async def test_choosing_a_full_group_is_refused(self, live_api: Api) -> None:
        room = await _room(live_api, 3)
        first = await room.start(mode="self", names=["Red", "Blue"], cap=1)
        a, b, c = room.phones
        shown = await _state(a, first["id"])
        assert shown["group"] is None and [g["name"] for g in shown["groups"]] == ["Red", "Blue"]
        red, blue = (g["id"] for g in first["groups"])
        await a.acked("group.choose", {"round_id": first["id"], "group_id": red}, "c1")
        assert (await _state(a, first["id"]))["group"]["name"] == "Red"
        await _refused(b, "group.choose", {"round_id": first["id"], "group_id": red}, "c2", "group_full")
        await b.acked("group.choose", {"round_id": first["id"], "group_id": blue}, "c3")
        await _refused(
            c, "group.choose", {"round_id": first["id"], "group_id": "nope"}, "c4", "unknown_group"
        )
        async with live_api.app.state.database.read_session() as db:
            placed = set(
                await db.scalars(select(BreakoutMember.group_id).where(BreakoutMember.group_id.is_not(None)))
            )
        assert placed == {red, blue}
        r = await live_api.client.get(f"/api/sessions/{room.sid}/rounds/{first['id']}", headers=room.auth)
        assert [g["size"] for g in r.json()["groups"]] == [1, 1] and r.json()["plenary"] == 1

    async def test_choosing_in_a_dealt_round_is_refused(self, live_api: Api) -> None:
        room = await _room(live_api, 2)
        first = await room.start(mode="random", groups=2)
        group = first["groups"][0]["id"]
        await _refused(
            room.phones[0],
            "group.choose",
            {"round_id": first["id"], "group_id": group},
            "c1",
            "not_self_select",
        )


class TestDecline:
    async def test_declining_keeps_the_phone_in_the_plenary_and_rejoining_places_it(
        self, live_api: Api
    ) -> None:
        room = await _room(live_api, 3)
        first = await room.start(mode="random", groups=1)
        phone = room.phones[0]
        await _state(phone, first["id"])
        await phone.acked("group.decline", {"round_id": first["id"]}, "d1")
        shown = await _state(phone, first["id"])
        assert shown["group"] is None and shown["declined"] is True
        r = await live_api.client.get(f"/api/sessions/{room.sid}/rounds/{first['id']}", headers=room.auth)
        assert (r.json()["groups"][0]["size"], r.json()["plenary"]) == (2, 1)
        await phone.acked("group.rejoin", {"round_id": first["id"]}, "r1")
        assert (await _state(phone, first["id"]))["group"]["id"] == first["groups"][0]["id"]


class TestArrival:
    async def test_a_phone_left_out_of_a_round_opening_as_it_arrived_is_placed_by_that_change(
        self, live_api: Api, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A phone's socket that read "no round open" is told so without another read; if a round then
        opens whose placement missed the phone (on PostgreSQL, a round committed just after the phone's
        read, whose placement ran before the phone's row was visible), the round's change places it."""
        room = await _room(live_api, 2)
        joined = await live_api.join(room.session)
        newcomer_id = await live_api.participant_id(joined)
        newcomer = await live_api.phone(room.session, joined)
        assert (await newcomer.expect("round.state"))["data"] == {"round": None}
        everyone = service.eligible

        async def missing_the_newcomer(db: Any, *, live: Any) -> list[str]:
            return [pid for pid in await everyone(db, live=live) if pid != newcomer_id]

        monkeypatch.setattr(service, "eligible", missing_the_newcomer)
        first = await room.start(mode="random", groups=2)
        shown = await _state(newcomer, first["id"])
        assert shown["group"] is not None
        async with live_api.app.state.database.read_session() as db:
            member = await db.get(BreakoutMember, (first["id"], newcomer_id))
        assert member is not None and member.group_id == shown["group"]["id"]


class TestFacilitator:
    async def test_a_move_takes_the_phone_to_its_new_group(self, live_api: Api) -> None:
        room = await _room(live_api, 2)
        first = await room.start(mode="manual", groups=2)
        initial = [(await _state(p, first["id"]))["group"]["id"] for p in room.phones]
        r = await live_api.client.get(f"/api/sessions/{room.sid}/rounds/{first['id']}", headers=room.auth)
        groups = r.json()["groups"]
        tile = groups[0]["members"][0]
        r = await live_api.client.post(
            f"/api/sessions/{room.sid}/rounds/{first['id']}/moves",
            json={"tile": tile, "group_id": groups[1]["id"]},
            headers=room.auth,
        )
        assert r.status_code == 200, r.text
        assert [g["size"] for g in r.json()["groups"]] == [0, 2]
        moved = room.phones[initial.index(groups[0]["id"])]
        assert (await _state(moved, first["id"]))["group"]["id"] == groups[1]["id"]

    async def test_a_broadcast_reaches_every_group(self, live_api: Api) -> None:
        room = await _room(live_api, 2)
        first = await room.start(mode="random", groups=2)
        for phone in room.phones:
            await _state(phone, first["id"])
        r = await room.patch(first, broadcast="Five minutes left")
        assert r.status_code == 200
        for phone in room.phones:
            message = (await phone.expect("round.message"))["data"]
            assert message == {"round_id": first["id"], "text": "Five minutes left"}

    async def test_adding_time_moves_the_countdown(self, live_api: Api) -> None:
        room = await _room(live_api, 1)
        first = await room.start(mode="random", groups=1, seconds=60)
        before = (await _state(room.phones[0], first["id"]))["ends_at"]
        r = await room.patch(first, add_seconds=120)
        assert r.status_code == 200
        after = (await _state(room.phones[0], first["id"]))["ends_at"]
        assert after > before

    async def test_auto_close_closes_the_round_at_zero(self, live_api: Api) -> None:
        room = await _room(live_api, 1)
        first = await room.start(mode="random", groups=1, seconds=10, auto_close=True)
        await _state(room.phones[0], first["id"])
        r = await room.patch(first, add_seconds=-3600)
        assert r.status_code == 200
        assert await asyncio.wait_for(_state(room.phones[0], None), 5) == {}
        r = await live_api.client.get(f"/api/sessions/{room.sid}/rounds/{first['id']}", headers=room.auth)
        assert r.json()["open"] is False

    async def test_a_later_round_can_keep_the_groups(self, live_api: Api) -> None:
        room = await _room(live_api, 4)
        first = await room.start(mode="random", groups=2, links=["https://meet.example/a"])
        before = [(await _state(p, first["id"]))["group"]["name"] for p in room.phones]
        assert (await room.patch(first, open=False)).status_code == 200
        second = await room.start(mode="random", keep_groups_of=first["id"])
        after = [(await _state(p, second["id"]))["group"] for p in room.phones]
        assert [g["name"] for g in after] == before
        assert {g["link"] for g in after} == {"https://meet.example/a", None}

    async def test_the_report_reaches_the_presenter(self, live_api: Api) -> None:
        room = await _room(live_api, 2)
        first = await room.start(mode="random", groups=1)
        await room.phones[0].acked("note", {"round_id": first["id"], "text": "Share this"}, "n1")
        presenter = await live_api.presenter(room.auth, room.session)
        r = await live_api.client.put(
            f"/api/sessions/{room.sid}/report",
            json={"show": "board", "round_id": first["id"], "group_id": first["groups"][0]["id"]},
            headers=room.auth,
        )
        assert r.status_code == 200, r.text
        shown = (await presenter.expect("report.show"))["data"]
        assert shown["group"]["notes"][0]["text"] == "Share this"
