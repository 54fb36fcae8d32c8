"""Breakout notes and private messages in the research bundle (redacted, pseudonymous, with their
group), responses.csv's `group`, and withdrawal and purge removing them (ETHICS 5, 7, 13, 15)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from sqlalchemy import func, select

from app.breakouts.models import BreakoutNote, NotePlus, PrivateMessage
from app.research import retention
from app.sessions.models import LiveSession
from tests.factories import Api, Socket
from tests.research.conftest import rows


async def _bundle(api: Api, auth: dict[str, str], session: dict[str, Any]) -> dict[str, bytes]:
    r = await api.client.get(f"/api/sessions/{session['id']}/export.zip", headers=auth)
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def _group_of(phone: Socket, round_id: str) -> str:
    while True:
        shown = (await phone.expect("round.state"))["data"]["round"]
        if shown and shown["id"] == round_id:
            return str(shown["group"]["id"])


async def _count(api: Api, model: Any) -> int:
    async with api.app.state.database.read_session() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_notes_and_private_messages_are_exported_redacted_and_withdrawn(live_api: Api) -> None:
    api = live_api
    auth = await api.facilitator()
    session = await api.create_session(auth, min_group=3)
    question = await api.open_question(auth, session, kind="choice", prompt="Which?", options=["A", "B"])
    joins = [await api.join(session) for _ in range(4)]
    phones = [await api.phone(session, joined) for joined in joins]
    r = await api.client.post(
        f"/api/sessions/{session['id']}/rounds",
        json={"mode": "random", "groups": 1, "names": ["Blue"], "question_id": question["id"]},
        headers=auth,
    )
    round_id = r.json()["id"]
    for phone in phones:
        await _group_of(phone, round_id)
    a = question["options"][0]["id"]
    for i, phone in enumerate(phones):
        await phone.acked("answer", {"question_id": question["id"], "value": {"choices": [a]}}, f"a{i}")
    await phones[0].acked("note", {"round_id": round_id, "text": "Ring me on 07700 900123"}, "n1")
    await phones[1].acked("note", {"round_id": round_id, "text": "=SUM(A1) idea"}, "n2")
    note = (await phones[2].expect("note.new"))["data"]
    await phones[2].acked("plus", {"note_id": note["id"]}, "p1")
    await phones[0].acked("private", {"text": "Write to me at someone@example.org please"}, "m1")
    await phones[3].acked("private", {"text": "Thank you"}, "m2")

    bundle = await _bundle(api, auth, session)
    responses = rows(bundle["responses.csv"])
    assert {r["group"] for r in responses} == {"round 1: Blue"}
    notes = [c for c in rows(bundle["comments.csv"]) if c["source"] == "note"]
    assert sorted(n["text"] for n in notes) == ["'=SUM(A1) idea", "Ring me on [phone]"]
    assert {n["group"] for n in notes} == {"round 1: Blue"}
    assert {n["question_id"] for n in notes} == {question["id"]}
    assert sorted(n["votes"] for n in notes) == ["0", "1"]
    private = rows(bundle["private_messages.csv"])
    assert sorted(p["text"] for p in private) == ["Thank you", "Write to me at [email] please"]
    respondents = {r["respondent"] for r in responses}
    assert {p["respondent"] for p in private} <= respondents
    assert {n["respondent"] for n in notes} <= respondents
    package = json.loads(bundle["datapackage.json"])
    comments_schema = next(r for r in package["resources"] if r["name"] == "comments")["schema"]
    assert [f["name"] for f in comments_schema["fields"]][-1] == "group"
    assert b"someone@example.org" not in b"".join(bundle.values())

    # Withdrawal with the code takes the participant's note, +1s and private message out.
    r = await api.client.post("/api/withdraw", json={"code": joins[0]["withdrawal_code"]})
    assert r.status_code == 200, r.text
    bundle = await _bundle(api, auth, session)
    notes = [c for c in rows(bundle["comments.csv"]) if c["source"] == "note"]
    assert [n["text"] for n in notes] == ["'=SUM(A1) idea"]
    assert [p["text"] for p in rows(bundle["private_messages.csv"])] == ["Thank you"]
    r = await api.client.get(f"/api/sessions/{session['id']}/rounds/{round_id}", headers=auth)
    assert [n["text"] for n in r.json()["groups"][0]["notes"]] == ["=SUM(A1) idea"]
    inbox = await api.client.get(f"/api/sessions/{session['id']}/private-messages", headers=auth)
    assert [m["text"] for m in inbox.json()["messages"]] == ["Thank you"]
    # The group's phones get their board again without the withdrawn note.
    while True:
        shown = (await phones[1].expect("round.state"))["data"]["round"]
        if [n["text"] for n in shown["group"]["notes"]] == ["=SUM(A1) idea"]:
            break

    # Purge takes the rest, and says how many of each it deleted.
    async with api.app.state.database.session() as db:
        live = await db.get(LiveSession, session["id"])
        assert live is not None
        report = await retention.purge_session(db, live=live, dry_run=False)
        await db.commit()
    assert (
        report.deleted["breakout_note"],
        report.deleted["private_message"],
        report.deleted["note_plus"],
    ) == (
        1,
        1,
        0,
    )
    assert (
        await _count(api, BreakoutNote),
        await _count(api, PrivateMessage),
        await _count(api, NotePlus),
    ) == (
        0,
        0,
        0,
    )


async def test_responses_group_is_the_group_the_answer_was_given_in(api: Api) -> None:
    # responses.csv's `group` is frozen when the answer is given: moves afterwards change nothing, and
    # an answer from the main room has no group.
    auth = await api.quick_facilitator()
    session = await api.create_session(auth, min_group=3)
    sid = session["id"]
    question = await api.open_question(auth, session, kind="choice", prompt="Which?", options=["A", "B"])
    people = [await api.join(session) for _ in range(7)]
    r = await api.client.post(
        f"/api/sessions/{sid}/rounds",
        json={"mode": "manual", "groups": 2, "names": ["Red", "Blue"], "question_id": question["id"]},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    round_id = r.json()["id"]

    async def move(tile: str, group_id: str | None) -> dict[str, Any]:
        r = await api.client.post(
            f"/api/sessions/{sid}/rounds/{round_id}/moves",
            json={"tile": tile, "group_id": group_id},
            headers=auth,
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    detail = (await api.client.get(f"/api/sessions/{sid}/rounds/{round_id}", headers=auth)).json()
    red, blue = detail["groups"]
    detail = await move(red["members"][0], None)
    assert [g["size"] for g in detail["groups"]] == [3, 3] and detail["plenary"] == 1
    for i, person in enumerate(people):
        assert (await api.submit(person, question, {"choices": [question["options"][0]["id"]]}, f"a{i}")).ok

    def groups(bundle: dict[str, bytes]) -> dict[str, int]:
        counted: dict[str, int] = {}
        for row in rows(bundle["responses.csv"]):
            counted[row["group"]] = counted.get(row["group"], 0) + 1
        return counted

    expected = {"round 1: Red": 3, "round 1: Blue": 3, "": 1}
    assert groups(await _bundle(api, auth, session)) == expected
    detail = await move(detail["groups"][0]["members"][0], blue["id"])
    await move(detail["unplaced"][0], red["id"])
    assert groups(await _bundle(api, auth, session)) == expected
