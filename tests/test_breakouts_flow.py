"""Issue 10, done when: two breakout rounds with 11 participants over real sockets (a real uvicorn on a
free port). Sizes balanced; a late joiner placed in the smallest group; a reconnect keeps its group; a
note reaches its group's phones and the console and no other group; a private message reaches the
console and no presenter socket; per-group results honour k (every group at or above k: the roll-up is
the sum of the groups; one group below k: no group's result, only the roll-up). k = 3."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.factories import Api, Socket

K = 3


async def _round_state(phone: Socket, round_id: str | None) -> dict[str, Any]:
    """The phone's next round.state about this round (or, with None, back in the plenary)."""
    while True:
        message = await phone.expect("round.state")
        shown = message["data"]["round"]
        if (shown["id"] if shown else None) == round_id:
            return message["data"]


async def _got(phone: Socket, type_: str, since: int) -> dict[str, Any]:
    """The first `type_` message since log position `since`: already read (while waiting for an ack,
    say), or the next to come."""
    for message in phone.log[since:]:
        if message["type"] == type_:
            return message
    return await phone.expect(type_)


async def test_two_rounds_with_eleven_participants(live_api: Api) -> None:
    api = live_api
    auth = await api.facilitator()
    session = await api.create_session(auth, min_group=K)
    sid = session["id"]
    question = await api.open_question(auth, session, kind="choice", prompt="Which?", options=["A", "B"])
    console = await api.console(auth, session)
    presenter = await api.presenter(auth, session)
    joins = [await api.join(session) for _ in range(10)]
    phones = [await api.phone(session, joined) for joined in joins]
    for phone in phones:
        assert (await phone.expect("round.state"))["data"] == {"round": None}

    # Round 1: three random groups of ten people: 4, 3, 3.
    r = await api.client.post(
        f"/api/sessions/{sid}/rounds",
        json={
            "mode": "random",
            "groups": 3,
            "prompt": "Talk about **buses**",
            "question_id": question["id"],
            "seconds": 600,
        },
        headers=auth,
    )
    assert r.status_code == 201, r.text
    round1 = r.json()
    assert sorted(g["size"] for g in round1["groups"]) == [3, 3, 4]
    assert "<strong>buses</strong>" in round1["prompt_html"]
    group_of: dict[int, str] = {}
    for i, phone in enumerate(phones):
        state = await _round_state(phone, round1["id"])
        assert state["round"]["question"]["id"] == question["id"]
        group_of[i] = state["round"]["group"]["id"]
    assert sorted(Counter(group_of.values()).values()) == [3, 3, 4]
    assert (await console.expect("round.state"))["data"] == {"round": None}  # on connect
    console_round = (await _round_state(console, round1["id"]))["round"]
    assert sorted(g["size"] for g in console_round["groups"]) == [3, 3, 4]

    # A late joiner lands in a smallest group at once (before its socket connects).
    smallest = {g["id"] for g in round1["groups"] if g["size"] == 3}
    late = await api.join(session)
    r = await api.client.get(f"/api/sessions/{sid}/rounds/{round1['id']}", headers=auth)
    sizes = {g["id"]: g["size"] for g in r.json()["groups"]}
    assert sorted(sizes.values()) == [3, 4, 4]
    late_group = next(g for g in smallest if sizes[g] == 4)
    phones.append(await api.phone(session, late))
    joins.append(late)
    group_of[10] = (await _round_state(phones[10], round1["id"]))["round"]["group"]["id"]
    assert group_of[10] == late_group

    # A reconnect (the same token) returns to its group.
    await phones[0].close()
    phones[0] = await api.phone(session, joins[0])
    again = await _round_state(phones[0], round1["id"])
    assert again["round"]["group"]["id"] == group_of[0]

    # A note reaches its group's phones and the console, and no other group.
    for phone in phones:
        await phone.drain(0.2)
    await console.drain(0.2)
    writer = 0
    same = [i for i in group_of if group_of[i] == group_of[writer]]
    others = [i for i in group_of if group_of[i] != group_of[writer]]
    marks = {i: len(phones[i].log) for i in group_of}
    await phones[writer].acked("note", {"round_id": round1["id"], "text": "More buses at night"}, "n1")
    for i in same:
        note = (await _got(phones[i], "note.new", marks[i]))["data"]
        assert (note["text"], note["plus"]) == ("More buses at night", 0)
    seen = (await console.expect("note.new"))["data"]
    assert (seen["group_id"], seen["round_id"], seen["text"]) == (
        group_of[writer],
        round1["id"],
        note["text"],
    )
    # A +1 from a groupmate reaches the group too.
    marks = {i: len(phones[i].log) for i in group_of}
    await phones[same[1]].acked("plus", {"note_id": note["id"]}, "p1")
    for i in same:
        assert (await _got(phones[i], "note.plus", marks[i]))["data"] == {"id": note["id"], "plus": 1}
    for i in others:
        await phones[i].drain(0.3)
        assert not [m for m in phones[i].log if m["type"].startswith("note.")], phones[i].log

    # A private message reaches the console, acknowledged, and no presenter socket.
    await phones[5].acked("private", {"text": "I found the last session upsetting."}, "pm1")
    private = (await console.expect("private.new"))["data"]
    assert private["text"] == "I found the last session upsetting." and private["at"]
    await presenter.drain(0.5)
    assert not [m for m in presenter.log if m["type"].startswith(("private", "note"))]
    assert "upsetting" not in str(presenter.log)

    # Every group at or above k: per-group results shown, and the roll-up is their sum.
    a, b = (o["id"] for o in question["options"])
    for i, phone in enumerate(phones):
        await phone.acked(
            "answer", {"question_id": question["id"], "value": {"choices": [a if i % 3 else b]}}, f"a{i}"
        )
    # The console's live count of who responded, per group (a count, not a result).
    detail = (await api.client.get(f"/api/sessions/{sid}/rounds/{round1['id']}", headers=auth)).json()
    assert [g["answered"] for g in detail["groups"]] == [g["size"] for g in detail["groups"]]
    assert (await api.patch_question(auth, session, question, open=False)).status_code == 200
    r = await api.client.get(
        f"/api/sessions/{sid}/rounds/{round1['id']}/results",
        params={"question_id": question["id"]},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    results = r.json()
    assert results["reason"] is None and len(results["groups"]) == 3
    rollup = results["rollup"]
    assert rollup["n"] == 11 == sum(g["result"]["n"] for g in results["groups"])
    for option in (a, b):
        assert rollup["summary"]["counts"][option] == sum(
            g["result"]["summary"]["counts"][option] for g in results["groups"]
        )
    by_group = Counter(group_of.values())
    for g in results["groups"]:
        assert g["result"]["n"] == by_group[g["id"]]
        one = await api.client.get(
            f"/api/sessions/{sid}/questions/{question['id']}/results", params={"group": g["id"]}, headers=auth
        )
        assert one.status_code == 200 and one.json()["group_id"] == g["id"]
        assert one.json()["summary"] == g["result"]["summary"]

    # Close round 1: every phone back in the plenary; closing twice is 409.
    r = await api.client.patch(
        f"/api/sessions/{sid}/rounds/{round1['id']}", json={"open": False}, headers=auth
    )
    assert r.status_code == 200 and r.json()["open"] is False
    for phone in phones:
        assert (await _round_state(phone, None)) == {"round": None}
    r = await api.client.patch(
        f"/api/sessions/{sid}/rounds/{round1['id']}", json={"open": False}, headers=auth
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "round_closed"

    # Round 2: reshuffled by group size (4 a group: 4, 4, 3), and a new question.
    question2 = await api.open_question(auth, session, kind="choice", prompt="Again?", options=["Yes", "No"])
    r = await api.client.post(
        f"/api/sessions/{sid}/rounds",
        json={"mode": "random", "group_size": 4, "question_id": question2["id"]},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    round2 = r.json()
    assert round2["number"] == 2 and sorted(g["size"] for g in round2["groups"]) == [3, 4, 4]
    group2 = {
        i: (await _round_state(phone, round2["id"]))["round"]["group"]["id"] for i, phone in enumerate(phones)
    }
    # One group answers with only k-1 of its members; everyone else answers.
    small = next(g["id"] for g in round2["groups"] if g["size"] == 3)
    quiet = next(i for i in group2 if group2[i] == small)
    yes = question2["options"][0]["id"]
    for i, phone in enumerate(phones):
        if i != quiet:
            await phone.acked(
                "answer", {"question_id": question2["id"], "value": {"choices": [yes]}}, f"b{i}"
            )
    assert (await api.patch_question(auth, session, question2, open=False)).status_code == 200
    r = await api.client.get(
        f"/api/sessions/{sid}/rounds/{round2['id']}/results",
        params={"question_id": question2["id"]},
        headers=auth,
    )
    results = r.json()
    assert results["groups"] is None
    assert results["reason"]["code"] == "group_below_k" and "1 of 3 groups" in results["reason"]["message"]
    assert results["rollup"]["n"] == 10 and results["rollup"]["hidden"] is False
    for g in round2["groups"]:
        one = (
            await api.client.get(
                f"/api/sessions/{sid}/questions/{question2['id']}/results",
                params={"group": g["id"]},
                headers=auth,
            )
        ).json()
        assert (one["hidden"], one["summary"], one["reason"]["code"]) == (True, None, "group_below_k")
    for phone in [*phones, console, presenter]:
        await phone.close()
