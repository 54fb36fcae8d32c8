"""The console socket (/ws/console): the presenter's authentication and snapshot, everything the
presenter gets, and the moderation queue live (entry.new, entry.changed), which presenters and phones
never get; and what phones are not told (a word cloud's hidden words)."""

from __future__ import annotations

import asyncio

from tests.factories import Api
from tests.test_sockets import _closed_with


class TestAuth:
    async def test_another_accounts_session_is_closed_1008(self, live_api: Api) -> None:
        owner = await live_api.facilitator()
        session = await live_api.create_session(owner)
        assert live_api.live is not None
        code = await _closed_with(
            f"{live_api.live.ws}/ws/console/{session['id']}", await live_api.facilitator()
        )
        assert code == 1008

    async def test_participant_token_is_closed_1008(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth)
        joined = await live_api.join(session)
        assert live_api.live is not None
        code = await _closed_with(
            f"{live_api.live.ws}/ws/console/{session['id']}",
            {"Authorization": f"Bearer {joined['participant_token']}"},
        )
        assert code == 1008

    async def test_foreign_origin_is_closed_1008(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth)
        assert live_api.live is not None
        code = await _closed_with(
            f"{live_api.live.ws}/ws/console/{session['id']}", auth, origin="http://evil.example"
        )
        assert code == 1008


class TestMessages:
    async def test_snapshot_results_and_presence_like_a_presenter(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth)
        question = await live_api.live_question(auth, session)
        console = await live_api.console(auth, session)
        state = await console.recv()
        assert (state["type"], state["data"]["snapshot"], state["data"]["current"]["id"]) == (
            "session.state",
            True,
            question["id"],
        )
        assert (await console.recv())["type"] == "poll.results"
        assert (await console.expect("presence"))["data"] == {"participants": 0, "joined": 0, "agreed": 0}
        await console.close()

    async def test_entries_reach_the_console_only(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        wall = await live_api.open_question(auth, session, kind="open", prompt="Tell us", moderated=True)
        console = await live_api.console(auth, session)
        presenter = await live_api.presenter(auth, session)
        phone = await live_api.phone(session)
        other = await live_api.phone(session)
        await phone.acked("answer", {"question_id": wall["id"], "value": {"text": "More benches"}}, "e1")
        new = await console.expect("entry.new")
        assert isinstance(new["seq"], int)
        entry = new["data"]["entry"]
        assert new["data"]["question_id"] == wall["id"]
        assert (entry["text"], entry["status"], entry["comment"], entry["flagged"]) == (
            "More benches",
            "pending",
            False,
            False,
        )
        r = await live_api.moderate(auth, session, wall, entry["id"], status="approved")
        assert r.status_code == 200
        changed = await console.expect("entry.changed")
        assert changed["data"] == {"question_id": wall["id"], "entry": {**entry, "status": "approved"}}
        await asyncio.sleep(0.3)
        for sock in (presenter, phone, other):
            await sock.drain()
            assert not [m for m in sock.log if m["type"].startswith("entry.")]
        for sock in (console, presenter, phone, other):
            await sock.close()

    async def test_phones_are_not_told_the_hidden_words(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        cloud = await live_api.live_question(auth, session)  # a choice first, then the cloud is current
        cloud = await live_api.open_question(auth, session, kind="wordcloud", prompt="One word")
        await live_api.make_current(auth, session, cloud)
        phone = await live_api.phone(session)
        console = await live_api.console(auth, session)
        r = await live_api.patch_question(auth, session, cloud, hidden_words=["Slur"])
        assert r.status_code == 200
        for_console = await console.expect("session.state")
        while for_console["data"].get("snapshot"):
            for_console = await console.expect("session.state")
        assert for_console["data"]["current"]["hidden_words"] == ["Slur"]
        for_phone = await phone.expect("session.state")
        assert for_phone["data"]["current"]["id"] == cloud["id"]
        assert "hidden_words" not in for_phone["data"]["current"]
        assert for_phone["seq"] != for_console["seq"]
        # A phone that connects now gets a snapshot without them too.
        late = await live_api.phone(session)
        assert "hidden_words" not in late.log[0]["data"]["current"]
        await phone.drain()
        assert "Slur" not in repr(phone.log) and "slur" not in repr(phone.log)
        for sock in (phone, console, late):
            await sock.close()
