"""A withdrawal leaves nothing of the participant on a live screen (ETHICS 5), over real sockets: a
presenter's report-back (a group's board, or chosen notes) is sent again without the notes they wrote
and without their +1s, and an open console's inbox is told to drop their private messages
(`private.removed`). Report-back that shows nothing of theirs is left alone."""

from __future__ import annotations

from typing import Any

from tests.factories import Api, Socket


class Room:
    """A session of phones (each with its join, for the withdrawal code) in one open round."""

    def __init__(self, api: Api, auth: dict[str, str], session: dict[str, Any]) -> None:
        self.api = api
        self.auth = auth
        self.session = session
        self.joins: list[dict[str, Any]] = []
        self.phones: list[Socket] = []
        self.groups: list[str] = []
        self.round: dict[str, Any] = {}

    @property
    def sid(self) -> str:
        return str(self.session["id"])

    async def note(self, person: int, text: str) -> str:
        """Person writes a note; its id, from their board as the facilitator reads it."""
        await self.phones[person].acked("note", {"round_id": self.round["id"], "text": text}, f"n-{text}")
        r = await self.api.client.get(
            f"/api/sessions/{self.sid}/rounds/{self.round['id']}", headers=self.auth
        )
        return next(str(n["id"]) for g in r.json()["groups"] for n in g["notes"] if n["text"] == text)

    async def report(self, **body: Any) -> None:
        r = await self.api.client.put(f"/api/sessions/{self.sid}/report", json=body, headers=self.auth)
        assert r.status_code == 200, r.text

    async def withdraw(self, person: int) -> None:
        r = await self.api.client.post("/api/withdraw", json={"code": self.joins[person]["withdrawal_code"]})
        assert r.json() == {"withdrawn": True}, r.text

    async def close(self, *others: Socket) -> None:
        for sock in (*self.phones, *others):
            await sock.close()


async def _room(api: Api, people: int, groups: int) -> Room:
    auth = await api.facilitator()
    room = Room(api, auth, await api.create_session(auth, min_group=3))
    for _ in range(people):
        joined = await api.join(room.session)
        room.joins.append(joined)
        room.phones.append(await api.phone(room.session, joined))
    r = await api.client.post(
        f"/api/sessions/{room.sid}/rounds", json={"mode": "random", "groups": groups}, headers=auth
    )
    assert r.status_code == 201, r.text
    room.round = r.json()
    for phone in room.phones:
        while True:
            shown = (await phone.expect("round.state"))["data"]["round"]
            if shown and shown["id"] == room.round["id"]:
                room.groups.append(shown["group"]["id"])
                break
    return room


async def _shown(presenter: Socket) -> dict[str, Any]:
    return dict((await presenter.expect("report.show"))["data"])


def _notes(shown: dict[str, Any]) -> list[tuple[str, int]]:
    notes = shown["group"]["notes"] if shown["show"] == "board" else shown["notes"]
    return [(n["text"], n["plus"]) for n in notes]


async def test_a_shown_board_loses_the_withdrawn_notes_and_plus_ones(live_api: Api) -> None:
    room = await _room(live_api, 3, groups=1)
    await room.note(0, "Mine")
    theirs = await room.note(1, "Theirs")
    await room.phones[0].acked("plus", {"note_id": theirs}, "p1")
    presenter = await live_api.presenter(room.auth, room.session)
    await room.report(show="board", round_id=room.round["id"], group_id=room.groups[0])
    assert sorted(_notes(await _shown(presenter))) == [("Mine", 0), ("Theirs", 1)]
    await room.withdraw(0)
    shown = await _shown(presenter)
    assert (shown["show"], shown["group"]["id"]) == ("board", room.groups[0])
    assert _notes(shown) == [("Theirs", 0)]
    # The request is kept: a later withdrawal shows the board again from what is left.
    await room.withdraw(1)
    assert _notes(await _shown(presenter)) == []
    await room.close(presenter)


async def test_chosen_notes_lose_the_withdrawn_ones_and_an_empty_choice_clears_the_screen(
    live_api: Api,
) -> None:
    room = await _room(live_api, 3, groups=1)
    mine = await room.note(0, "Mine")
    theirs = await room.note(1, "Theirs")
    await room.phones[0].acked("plus", {"note_id": theirs}, "p1")
    presenter = await live_api.presenter(room.auth, room.session)
    await room.report(show="notes", note_ids=[theirs, mine])
    assert _notes(await _shown(presenter)) == [("Theirs", 1), ("Mine", 0)]
    console = await live_api.console(room.auth, room.session)
    # The phone's own "Withdraw my answers" is the same withdrawal.
    r = await live_api.client.post(
        f"/api/sessions/{room.sid}/withdraw",
        headers={"Authorization": f"Bearer {room.joins[0]['participant_token']}"},
    )
    assert r.status_code == 200, r.text
    assert _notes(await _shown(presenter)) == [("Theirs", 0)]
    assert _notes(await _shown(console)) == [("Theirs", 0)]  # consoles get report-back too
    await room.withdraw(1)
    assert await _shown(presenter) == {"show": None}
    await room.close(presenter, console)


async def test_report_back_without_their_notes_is_left_alone(live_api: Api) -> None:
    room = await _room(live_api, 6, groups=2)
    leaver = 0
    other_group = next(g for g in room.groups if g != room.groups[leaver])
    writer = room.groups.index(other_group)
    await room.note(leaver, "Mine")
    kept = await room.note(writer, "Elsewhere")
    presenter = await live_api.presenter(room.auth, room.session)
    for body in (
        {"show": "board", "round_id": room.round["id"], "group_id": other_group},
        {"show": "notes", "note_ids": [kept]},
    ):
        await room.report(**body)
        assert _notes(await _shown(presenter)) == [("Elsewhere", 0)]
    await room.withdraw(leaver)
    await presenter.drain(0.5)
    assert [m["type"] for m in presenter.log].count("report.show") == 2
    await room.close(presenter)


async def test_an_open_console_drops_the_withdrawn_private_messages(live_api: Api) -> None:
    room = await _room(live_api, 3, groups=1)
    console = await live_api.console(room.auth, room.session)
    presenter = await live_api.presenter(room.auth, room.session)
    await room.phones[0].acked("private", {"text": "Please remove me"}, "m1")
    await room.phones[0].acked("private", {"text": "And this"}, "m2")
    await room.phones[1].acked("private", {"text": "Staying"}, "m3")
    ids: dict[str, str] = {}
    while len(ids) < 3:
        message = (await console.expect("private.new"))["data"]
        ids[message["text"]] = message["id"]
    await room.withdraw(0)
    removed = await console.expect("private.removed")
    assert removed["data"] == {"ids": sorted([ids["Please remove me"], ids["And this"]])}
    assert isinstance(removed["seq"], int)
    r = await live_api.client.get(f"/api/sessions/{room.sid}/private-messages", headers=room.auth)
    assert [m["id"] for m in r.json()["messages"]] == [ids["Staying"]]
    # A withdrawal with no private message sends no removal; no presenter hears of any of it.
    await room.withdraw(2)
    await console.drain(0.5)
    assert [m["type"] for m in console.log].count("private.removed") == 1
    await presenter.drain(0.3)
    assert not [m for m in presenter.log if m["type"].startswith("private")]
    await room.close(console, presenter)
