"""Per-group results of a round's question under ETHICS 10 (app/breakouts/service.py:group_results): no
group, and no remainder of people in no group, can be read by subtracting from the session's roll-up.

Two ways round the k check an audit found, each a test here: answers from the main room (people in no
group) counted in the roll-up and in no group, and a member moved between two reads of the results
taking their answer with them. Answers count in the group their author was in when they gave them
(`breakout_attribution`), and the main room's answers are checked as one more group."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import func, select

from app.research import retention
from app.sessions.models import LiveSession
from tests.factories import Api, choice

K = 3


class Room:
    """A session with k = 3, joined participants, an open choice question, and a round to drive."""

    def __init__(self, api: Api, auth: dict[str, str], session: dict[str, Any], question: dict[str, Any]):
        self.api = api
        self.auth = auth
        self.session = session
        self.question = question
        self.people: list[dict[str, Any]] = []
        self.round_id = ""
        self.sent = 0

    @property
    def sid(self) -> str:
        return str(self.session["id"])

    async def start(self, groups: int, **body: Any) -> dict[str, Any]:
        r = await self.api.client.post(
            f"/api/sessions/{self.sid}/rounds",
            json={"mode": "manual", "groups": groups, "question_id": self.question["id"], **body},
            headers=self.auth,
        )
        assert r.status_code == 201, r.text
        self.round_id = r.json()["id"]
        return await self.detail()

    async def detail(self) -> dict[str, Any]:
        r = await self.api.client.get(f"/api/sessions/{self.sid}/rounds/{self.round_id}", headers=self.auth)
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def move(self, tile: str, group_id: str | None) -> dict[str, Any]:
        r = await self.api.client.post(
            f"/api/sessions/{self.sid}/rounds/{self.round_id}/moves",
            json={"tile": tile, "group_id": group_id},
            headers=self.auth,
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def to_main_room(self, count: int) -> dict[str, Any]:
        """Move `count` members, each from the largest group, to the main room."""
        detail = await self.detail()
        for _ in range(count):
            largest = max(detail["groups"], key=lambda g: g["size"])
            detail = await self.move(largest["members"][0], None)
        return detail

    async def give(self, person: dict[str, Any], value: Any, type_: str = "answer") -> None:
        """Any answer (or comment, with type_) of the person, through the app's writer."""
        self.sent += 1
        outcome = await self.api.submit(person, self.question, value, f"m{self.sent}", type_=type_)
        assert outcome.ok, outcome

    async def answer(self, person: dict[str, Any], option: int | None) -> None:
        """The person's answer (None: "prefer not to answer"), through the app's writer."""
        self.sent += 1
        value = None if option is None else choice(self.question, option)
        outcome = await self.api.submit(person, self.question, value, f"m{self.sent}")
        assert outcome.ok, outcome

    async def close_question(self) -> None:
        r = await self.api.patch_question(self.auth, self.session, self.question, open=False)
        assert r.status_code == 200, r.text

    async def results(self, question: dict[str, Any] | None = None) -> dict[str, Any]:
        r = await self.api.client.get(
            f"/api/sessions/{self.sid}/rounds/{self.round_id}/results",
            params={"question_id": (question or self.question)["id"]},
            headers=self.auth,
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def one_group(self, group_id: str) -> dict[str, Any]:
        r = await self.api.client.get(
            f"/api/sessions/{self.sid}/questions/{self.question['id']}/results",
            params={"group": group_id},
            headers=self.auth,
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def report(self) -> dict[str, Any]:
        r = await self.api.client.put(
            f"/api/sessions/{self.sid}/report",
            json={"show": "results", "round_id": self.round_id},
            headers=self.auth,
        )
        assert r.status_code == 200, r.text
        return dict(r.json())


async def _room(api: Api, people: int, **body: Any) -> Room:
    """The room with an open question: a choice of A or B, or the question `body` creates."""
    auth = await api.quick_facilitator()
    session = await api.create_session(auth, min_group=K)
    question = await api.open_question(
        auth, session, **(body or {"kind": "choice", "prompt": "Which?", "options": ["A", "B"]})
    )
    room = Room(api, auth, session, question)
    room.people = [await api.join(session) for _ in range(people)]
    return room


def _by_group(results: dict[str, Any]) -> dict[str, tuple[int, dict[str, int]]]:
    """Each shown group's name -> (n, counts)."""
    return {g["name"]: (g["result"]["n"], g["result"]["summary"]["counts"]) for g in results["groups"] or []}


def _counts(room: Room, a: int, b: int) -> dict[str, int]:
    first, second = (o["id"] for o in room.question["options"])
    return {first: a, second: b}


async def _attributions(api: Api) -> int:
    from app.breakouts.models import BreakoutAttribution

    async with api.app.state.database.read_session() as db:
        return int(await db.scalar(select(func.count()).select_from(BreakoutAttribution)) or 0)


class TestMainRoom:
    async def test_fewer_than_k_answers_from_the_main_room_hide_every_group(self, api: Api) -> None:
        # The audit's case: 7 people, two groups of 3 and one person moved to the main room; all answer.
        # Shown per group, the roll-up minus the two groups would be the main room's one answer.
        room = await _room(api, 7)
        await room.start(groups=2)
        detail = await room.to_main_room(1)
        assert sorted(g["size"] for g in detail["groups"]) == [3, 3] and detail["plenary"] == 1
        for i, person in enumerate(room.people):
            await room.answer(person, i % 2)
        await room.close_question()

        results = await room.results()
        assert results["groups"] is None
        assert results["reason"]["code"] == "rest_below_k"
        assert (
            "main room" in results["reason"]["message"] and f"fewer than {K}" in results["reason"]["message"]
        )
        assert results["rollup"]["n"] == 7 and results["rollup"]["hidden"] is False
        # One group asked for alone, and the presenter's report-back, follow the same rule.
        for group in detail["groups"]:
            one = await room.one_group(group["id"])
            assert (one["hidden"], one["summary"], one["reason"]["code"]) == (True, None, "rest_below_k")
        shown = await room.report()
        assert shown["groups"] is None and shown["reason"]["code"] == "rest_below_k"
        # The console's round counts who responded from the main room (a count, not a result).
        detail = await room.detail()
        assert [g["answered"] for g in detail["groups"]] == [3, 3] and detail["plenary_answered"] == 1

    async def test_prefer_not_to_answer_in_the_main_room_counts_as_a_main_room_answer(self, api: Api) -> None:
        # The roll-up's `declined` minus the groups' would say the one person in the main room declined.
        room = await _room(api, 7)
        await room.start(groups=2)
        await room.to_main_room(1)
        main = [i for i in range(len(room.people)) if await _in_main_room(room, i)]
        assert len(main) == 1
        for i, person in enumerate(room.people):
            await room.answer(person, None if i in main else 0)
        await room.close_question()
        results = await room.results()
        assert results["groups"] is None and results["reason"]["code"] == "rest_below_k"

    async def test_a_comment_alone_from_the_main_room_counts_as_something_given(self, api: Api) -> None:
        # The roll-up's comments minus the groups' would be the main room's one comment.
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=K)
        question = await api.open_question(
            auth, session, kind="choice", prompt="Which?", options=["A", "B"], comments=True
        )
        room = Room(api, auth, session, question)
        room.people = [await api.join(session) for _ in range(7)]
        await room.start(groups=2)
        await room.to_main_room(1)
        for i, person in enumerate(room.people):
            if await _in_main_room(room, i):
                assert (await api.submit(person, question, "From the side", f"c{i}", type_="comment")).ok
            else:
                await room.answer(person, 0)
        detail = await room.detail()
        assert detail["plenary_answered"] == 1
        await room.close_question()
        results = await room.results()
        assert results["groups"] is None and results["reason"]["code"] == "rest_below_k"

    @pytest.mark.parametrize("main_room", [0, K])
    async def test_no_main_room_answers_or_at_least_k_show_the_groups(self, api: Api, main_room: int) -> None:
        room = await _room(api, 2 * K + main_room)
        await room.start(groups=2)
        detail = await room.to_main_room(main_room)
        assert [g["size"] for g in detail["groups"]] == [K, K] and detail["plenary"] == main_room
        for i, person in enumerate(room.people):
            await room.answer(person, i % 2)
        await room.close_question()

        results = await room.results()
        assert results["reason"] is None, results["reason"]
        shown = _by_group(results)
        assert [n for n, _ in shown.values()] == [K, K]
        assert results["rollup"]["n"] == 2 * K + main_room
        assert (await room.report())["groups"] is not None
        for group in detail["groups"]:
            assert (await room.one_group(group["id"]))["hidden"] is False

    async def test_answers_given_after_the_round_closed_count_in_the_main_room(self, api: Api) -> None:
        # Everyone answered in a group; after the round, one changes their answer in the main room: that
        # answer was not given in a group, so it leaves the group (4 -> 3) and the main room holds fewer
        # than k.
        room = await _room(api, 8)
        await room.start(groups=2)
        for person in room.people:
            await room.answer(person, 0)
        r = await api.client.patch(
            f"/api/sessions/{room.sid}/rounds/{room.round_id}", json={"open": False}, headers=room.auth
        )
        assert r.status_code == 200, r.text
        await room.answer(room.people[0], 1)
        await room.close_question()
        results = await room.results()
        assert results["groups"] is None and results["reason"]["code"] == "rest_below_k"


async def _in_main_room(room: Room, index: int) -> bool:
    """Whether people[index] is in no group of the round (tiles are anonymous: ask the database)."""
    from app.breakouts.models import BreakoutMember

    pid = await room.api.participant_id(room.people[index])
    async with room.api.app.state.database.read_session() as db:
        member = await db.get(BreakoutMember, (room.round_id, pid))
    assert member is not None
    return member.group_id is None


class TestAnswersStayWhereTheyWereGiven:
    async def test_a_move_after_the_question_closed_changes_no_group_result(self, api: Api) -> None:
        # The audit's case: read, move one member, read again; the difference would be their answer.
        room = await _room(api, 8)
        detail = await room.start(groups=2)
        for i, person in enumerate(room.people):
            await room.answer(person, i % 2)
        await room.close_question()
        before = await room.results()
        assert before["reason"] is None

        g0, g1 = detail["groups"]
        await room.move(g0["members"][0], g1["id"])
        after_move = await room.results()
        await room.move(g1["members"][0], None)
        after_main_room = await room.results()
        assert _by_group(after_move) == _by_group(before)
        assert _by_group(after_main_room) == _by_group(before)
        assert after_main_room["reason"] is None
        # The report-back and one group alone read the same.
        reported = (await room.report())["groups"]
        assert {g["name"]: (g["result"]["n"], g["result"]["summary"]) for g in reported} == {
            g["name"]: (g["result"]["n"], g["result"]["summary"]) for g in before["groups"]
        }
        one = await room.one_group(g0["id"])
        assert one["n"] == next(g for g in before["groups"] if g["id"] == g0["id"])["result"]["n"]

    async def test_an_answer_counts_in_the_group_its_author_was_in_when_giving_it(self, api: Api) -> None:
        room = await _room(api, 8)
        detail = await room.start(groups=2, names=["Red", "Blue"])
        red, blue = detail["groups"]
        tiles = await _tiles_by_person(room)
        in_red = [i for i, t in tiles.items() if t in red["members"]]
        in_blue = [i for i, t in tiles.items() if t in blue["members"]]
        # Moved before answering: counts in the group moved to.
        early = in_blue.pop()
        await room.move(tiles[early], red["id"])
        in_red.append(early)
        # Red answers A except one, who answers B and is then moved to Blue, and one who answers A, goes
        # to the main room and stays there: both still count in Red.
        leaver, stayer = in_red[0], in_red[1]
        for i in in_red:
            await room.answer(room.people[i], 1 if i == leaver else 0)
        for i in in_blue:
            await room.answer(room.people[i], 0)
        await room.move(tiles[leaver], blue["id"])
        await room.move(tiles[stayer], None)
        # One who answered in Red, moved to Blue, and changed their answer there counts in Blue.
        changer = in_red[2]
        await room.move(tiles[changer], blue["id"])
        await room.answer(room.people[changer], 1)
        detail = await room.detail()
        assert [g["size"] for g in detail["groups"]] == [2, 5] and detail["plenary"] == 1
        assert [g["answered"] for g in detail["groups"]] == [4, 4] and detail["plenary_answered"] == 0
        await room.close_question()

        results = await room.results()
        assert results["reason"] is None, results["reason"]
        assert _by_group(results) == {"Red": (4, _counts(room, 3, 1)), "Blue": (4, _counts(room, 3, 1))}

    async def test_answers_before_the_round_started_count_in_the_main_room(self, api: Api) -> None:
        # Given before there were groups: in no group (here fewer than k, so no group is shown; each
        # group of 4 has at least 3 answers given in it).
        room = await _room(api, 8)
        await room.answer(room.people[0], 0)
        await room.start(groups=2)
        for person in room.people[1:]:
            await room.answer(person, 0)
        detail = await room.detail()
        assert sum(g["answered"] for g in detail["groups"]) == 7 and detail["plenary_answered"] == 1
        await room.close_question()
        assert (await room.results())["reason"]["code"] == "rest_below_k"


async def _tiles_by_person(room: Room) -> dict[int, str]:
    """people[i] -> their tile in the round (the test may know; the console never does)."""
    from app.breakouts.models import BreakoutMember

    out = {}
    async with room.api.app.state.database.read_session() as db:
        for i, person in enumerate(room.people):
            member = await db.get(BreakoutMember, (room.round_id, await room.api.participant_id(person)))
            assert member is not None
            out[i] = member.tile
    return out


class TestOneRoundPerQuestion:
    async def test_a_question_is_the_group_question_of_one_round_only(self, api: Api) -> None:
        # A later round keeping the groups and asking the same question again would move each answer
        # to its author's new group: refused, with what to do instead.
        room = await _room(api, 6)
        first = await room.start(groups=2)
        r = await api.client.patch(
            f"/api/sessions/{room.sid}/rounds/{first['id']}", json={"open": False}, headers=room.auth
        )
        assert r.status_code == 200, r.text
        r = await api.client.post(
            f"/api/sessions/{room.sid}/rounds",
            json={"mode": "manual", "keep_groups_of": first["id"], "question_id": room.question["id"]},
            headers=room.auth,
        )
        assert r.status_code == 409, r.text
        error = r.json()["error"]
        assert error["code"] == "question_in_round"
        assert "new question" in error["message"] and "round 1" in error["message"]
        assert set(error["fields"]) == {"question_id"}
        # Asked again as a new question (Duplicate), the round starts.
        r = await api.client.post(
            f"/api/sessions/{room.sid}/questions/{room.question['id']}/duplicate", headers=room.auth
        )
        assert r.status_code in (200, 201), r.text
        again = r.json()
        r = await api.client.post(
            f"/api/sessions/{room.sid}/rounds",
            json={"mode": "manual", "keep_groups_of": first["id"], "question_id": again["id"]},
            headers=room.auth,
        )
        assert r.status_code == 201, r.text

    async def test_results_by_group_are_for_the_rounds_own_question(self, api: Api) -> None:
        # Another question was not answered in these groups: its answers have no group to count in.
        room = await _room(api, 6)
        other = await api.open_question(
            room.auth, room.session, kind="choice", prompt="Other?", options=["X", "Y"]
        )
        await room.start(groups=2)
        for i, person in enumerate(room.people):
            assert (await api.submit(person, other, choice(other, 0), f"o{i}")).ok
        assert (await api.patch_question(room.auth, room.session, other, open=False)).status_code == 200
        results = await room.results(other)
        assert results["groups"] is None and results["reason"]["code"] == "not_round_question"
        assert results["rollup"]["n"] == 6


class TestRemoval:
    async def test_withdrawal_reset_and_purge_remove_the_attributions(self, api: Api) -> None:
        room = await _room(api, 6)
        await room.start(groups=2)
        for person in room.people:
            await room.answer(person, 0)
        assert await _attributions(api) == 6
        r = await api.client.post("/api/withdraw", json={"code": room.people[0]["withdrawal_code"]})
        assert r.status_code == 200, r.text
        assert await _attributions(api) == 5
        r = await api.client.post(
            f"/api/sessions/{room.sid}/questions/{room.question['id']}/reset", headers=room.auth
        )
        assert r.status_code == 200, r.text
        assert await _attributions(api) == 0
        for person in room.people[1:]:
            await room.answer(person, 1)
        assert await _attributions(api) == 5
        async with api.app.state.database.session() as db:
            live = await db.get(LiveSession, room.sid)
            assert live is not None
            report = await retention.purge_session(db, live=live, dry_run=False)
            await db.commit()
        assert report.deleted["breakout_attribution"] == 5
        assert await _attributions(api) == 0


async def _places(room: Room) -> dict[str | None, list[dict[str, Any]]]:
    """Each group's name (None: the main room) -> the people in it now."""
    detail = await room.detail()
    names = {tile: g["name"] for g in detail["groups"] for tile in g["members"]}
    out: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for i, tile in (await _tiles_by_person(room)).items():
        out[names.get(tile)].append(room.people[i])
    return out


def _words(result: dict[str, Any]) -> dict[str, int]:
    return {w["text"]: w["count"] for w in result["summary"]["words"]}


def _group_words(results: dict[str, Any]) -> dict[str, dict[str, int]]:
    assert results["reason"] is None, results["reason"]
    return {g["name"]: _words(g["result"]) for g in results["groups"]}


class TestNestedItems:
    """Inside a shown result, a word, a scale statement and the comments each have their own k. A part
    hidden in one group (or in the main room) and shown in the others would be the roll-up minus those
    others, so such an item is hidden in every group: the same all-or-nothing rule as for whole groups."""

    async def cloud(self, api: Api, people: int, main_room: int = 0) -> tuple[Room, dict[Any, Any]]:
        room = await _room(api, people, kind="wordcloud", prompt="One word", max_entries=3)
        await room.start(groups=2, names=["A", "B"])
        await room.to_main_room(main_room)
        return room, await _places(room)

    async def test_a_word_below_k_in_one_group_is_hidden_in_every_group(self, api: Api) -> None:
        # k = 3: the roll-up shows "tea" 4 times, A 3 times; B's 1 (hidden) would be 4 - 3.
        room, places = await self.cloud(api, 6)
        for person in places["A"]:
            await room.give(person, {"words": ["tea", "cake"]})
        first, *others = places["B"]
        await room.give(first, {"words": ["tea"]})
        for person in others:
            await room.give(person, {"words": ["coffee"]})
        await room.close_question()

        results = await room.results()
        assert _words(results["rollup"]) == {"tea": 4, "cake": 3}
        # Only the word some part holds 1..k-1 of goes: A's cake (none in B) still shows.
        assert _group_words(results) == {"A": {"cake": 3}, "B": {}}
        # The report-back and one group asked for alone read the same.
        reported = (await room.report())["groups"]
        assert {g["name"]: _words(g["result"]) for g in reported} == {"A": {"cake": 3}, "B": {}}
        a = next(g for g in results["groups"] if g["name"] == "A")
        assert _words(await room.one_group(a["id"])) == {"cake": 3}

    async def test_a_statement_rated_by_fewer_than_k_in_one_group_is_hidden_in_every_group(
        self, api: Api
    ) -> None:
        room = await _room(api, 6, kind="scale", prompt="How?", statements=["S1", "S2"], points=5)
        s1, s2 = (s["id"] for s in room.question["statements"])
        await room.start(groups=2, names=["A", "B"])
        places = await _places(room)
        for person in places["A"]:
            await room.give(person, {"ratings": {s1: 4, s2: 5}})
        first, *others = places["B"]
        await room.give(first, {"ratings": {s2: 1}})
        for person in others:
            await room.give(person, {"ratings": {s1: 2, s2: 3}})
        await room.close_question()

        results = await room.results()
        assert results["reason"] is None, results["reason"]
        statements = results["rollup"]["summary"]["statements"]
        assert (statements[s1]["n"], statements[s2]["n"]) == (5, 6)
        shown = {g["name"]: g["result"]["summary"]["statements"] for g in results["groups"]}
        # S1: A's 3 ratings are hidden too, else B's 2 would be the roll-up minus A.
        assert shown["A"][s1] is None and shown["B"][s1] is None
        assert (shown["A"][s2]["n"], shown["A"][s2]["mean"]) == (3, 5)
        assert (shown["B"][s2]["n"], shown["B"][s2]["mean"]) == (3, 7 / 3)

    async def test_a_word_below_k_in_the_main_room_is_hidden_in_every_group(self, api: Api) -> None:
        # Both groups show tea 3 times; the main room's 1 would be the roll-up's 7 minus 3 and 3.
        room, places = await self.cloud(api, 9, main_room=K)
        assert [len(places[name]) for name in ("A", "B", None)] == [K, K, K]
        for person in places["A"] + places["B"]:
            await room.give(person, {"words": ["tea"]})
        first, *others = places[None]
        await room.give(first, {"words": ["tea"]})
        for person in others:
            await room.give(person, {"words": ["coffee"]})
        await room.close_question()

        results = await room.results()
        assert _words(results["rollup"]) == {"tea": 7}
        assert _group_words(results) == {"A": {}, "B": {}}

    async def test_comments_from_fewer_than_k_in_one_group_are_hidden_in_every_group(self, api: Api) -> None:
        room = await _room(api, 6, kind="choice", prompt="Which?", options=["A", "B"], comments=True)
        await room.start(groups=2, names=["A", "B"])
        places = await _places(room)
        for person in places["A"] + places["B"]:
            await room.answer(person, 0)
        for person in places["A"] + places["B"][:1]:
            await room.give(person, "A comment", type_="comment")
        await room.close_question()

        results = await room.results()
        assert results["rollup"]["comments"]["n"] == 4 and not results["rollup"]["comments"]["hidden"]
        assert len(results["rollup"]["comments"]["entries"]) == 4
        shown = {g["name"]: g["result"]["comments"] for g in results["groups"]}
        assert shown == {
            "A": {"n": 3, "hidden": True, "entries": []},
            "B": {"n": 1, "hidden": True, "entries": []},
        }

    @pytest.mark.parametrize("main_room", [0, K])
    async def test_a_word_with_k_or_none_in_every_part_shows_in_each_group(
        self, api: Api, main_room: int
    ) -> None:
        room, places = await self.cloud(api, 2 * K + main_room, main_room=main_room)
        for person in places["A"] + places[None]:
            await room.give(person, {"words": ["tea"]})
        for person in places["B"]:
            await room.give(person, {"words": ["tea", "coffee"]})
        await room.close_question()

        results = await room.results()
        assert _words(results["rollup"]) == {"tea": 2 * K + main_room, "coffee": K}
        assert _group_words(results) == {"A": {"tea": K}, "B": {"tea": K, "coffee": K}}
