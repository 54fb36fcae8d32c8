"""Reconnecting with ?last_seq=N (CONTRACT, "Connecting and catching up"), on memory:// and on Redis:
the missed events meant for the socket, in order, then the current results; a snapshot when they are
not all kept or N is ahead of the session."""

from __future__ import annotations

from typing import Any

import pytest
from websockets.asyncio.client import connect

from app.config import Settings
from tests.conftest import REDIS_URL
from tests.factories import Api, Socket, choice


@pytest.fixture(params=["memory", "redis"])
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    if request.param == "redis":
        settings.BROKER_URL = REDIS_URL
        settings.BROKER_PREFIX = request.getfixturevalue("redis_prefix")
    return settings


async def reconnect(api: Api, path: str, headers: dict[str, str], last_seq: Any) -> Socket:
    assert api.live is not None
    ws = await connect(
        f"{api.live.ws}{path}?last_seq={last_seq}", additional_headers=headers, compression=None
    )
    return Socket(ws)


# Messages about this phone alone (its round and group, what it already sent): sent on every connect,
# after the catch-up or the snapshot, never numbered or kept in the replay log.
PER_PHONE = frozenset({"round.state", "answers.mine"})


async def received(sock: Socket, quiet: float = 0.5) -> list[dict[str, Any]]:
    """What a reconnected socket got, less the per-phone messages (asserted apart where they matter)."""
    await sock.drain(quiet)
    return [m for m in sock.log if m["type"] not in PER_PHONE]


def seqs(messages: list[dict[str, Any]]) -> list[int]:
    return [m["seq"] for m in messages if "seq" in m]


class TestPhoneCatchUp:
    async def test_ten_missed_events_arrive_in_order(self, live_api: Api) -> None:
        """Break test 4: disconnect a phone, publish 10 events, reconnect with ?last_seq=: exactly
        those 10 arrive, in order, as a phone that stayed saw them (results are not visible to phones
        here, so none follow)."""
        auth = await live_api.quick_facilitator()
        session = await live_api.create_session(auth, min_group=3)
        first = await live_api.live_question(auth, session)
        second = await live_api.create_question(auth, session)
        joined = await live_api.join(session)
        away = await live_api.phone(session, joined)
        stays = await live_api.phone(session)
        await away.drain(0.3)
        await stays.drain(0.1)
        last_seq = max(seqs(away.log))
        await away.close()
        before = len(stays.log)

        for i in range(10):
            await live_api.make_current(auth, session, second if i % 2 == 0 else first)
        await stays.drain(0.5)
        missed = stays.log[before:]
        assert [m["type"] for m in missed] == ["session.state"] * 10, (
            last_seq,
            [(m["type"], m.get("seq"), m["data"].get("snapshot")) for m in away.log],
            [(m["type"], m.get("seq"), m["data"].get("snapshot")) for m in stays.log],
        )

        back = await reconnect(
            live_api,
            f"/ws/participant/{session['id']}",
            {"Authorization": f"Bearer {joined['participant_token']}"},
            last_seq,
        )
        got = await received(back)
        await back.close()
        await stays.close()
        assert got == missed
        assert all("snapshot" not in m["data"] for m in got)

    async def test_visible_results_follow_the_missed_events(self, live_api: Api) -> None:
        auth = await live_api.quick_facilitator()
        session = await live_api.create_session(auth, min_group=3)
        first = await live_api.live_question(auth, session)
        second = await live_api.create_question(auth, session)
        await live_api.patch_question(auth, session, first, results_visible=True)
        joined = await live_api.join(session)
        away = await live_api.phone(session, joined)
        stays = await live_api.phone(session)
        await away.drain(0.3)
        await stays.drain(0.1)
        last_seq = max(seqs(away.log))
        await away.close()
        before = len(stays.log)
        await live_api.make_current(auth, session, second)
        await live_api.make_current(auth, session, first)
        await stays.drain(0.5)
        missed = stays.log[before:]
        back = await reconnect(
            live_api,
            f"/ws/participant/{session['id']}",
            {"Authorization": f"Bearer {joined['participant_token']}"},
            last_seq,
        )
        got = await received(back)
        await back.close()
        await stays.close()
        brief = [(m["type"], m.get("seq"), m["data"].get("snapshot")) for m in (*away.log, *stays.log, *got)]
        assert got[: len(missed)] == missed, (last_seq, brief)
        (current,) = got[len(missed) :]
        assert current["type"] == "poll.results"
        assert current["data"]["question_id"] == first["id"]
        assert current["seq"] >= missed[-1]["seq"]

    async def test_nothing_missed_sends_only_the_results_when_visible(self, live_api: Api) -> None:
        auth = await live_api.quick_facilitator()
        session = await live_api.create_session(auth, min_group=3)
        await live_api.live_question(auth, session)
        joined = await live_api.join(session)
        phone = await live_api.phone(session, joined)
        await phone.drain(0.3)
        last_seq = max(seqs(phone.log))
        await phone.close()
        back = await reconnect(
            live_api,
            f"/ws/participant/{session['id']}",
            {"Authorization": f"Bearer {joined['participant_token']}"},
            last_seq,
        )
        got = await received(back)
        await back.close()
        assert got == []  # results are not visible to phones, and nothing happened
        # ...but the phone is told its round again (none here), as on every connect.
        assert [m["data"] for m in back.log if m["type"] == "round.state"] == [{"round": None}]

    async def test_a_gap_older_than_the_log_gets_a_snapshot(self, live_api: Api) -> None:
        # REPLAY_LOG_MAX is read at start: shrink the running backend's log to 3 events instead.
        live_api.app.state.hub._backend._log_max = 3
        auth = await live_api.quick_facilitator()
        session = await live_api.create_session(auth, min_group=3)
        first = await live_api.live_question(auth, session)
        second = await live_api.create_question(auth, session)
        joined = await live_api.join(session)
        phone = await live_api.phone(session, joined)
        await phone.drain(0.3)
        last_seq = max(seqs(phone.log))
        await phone.close()
        for i in range(5):
            await live_api.make_current(auth, session, second if i % 2 == 0 else first)
        back = await reconnect(
            live_api,
            f"/ws/participant/{session['id']}",
            {"Authorization": f"Bearer {joined['participant_token']}"},
            last_seq,
        )
        got = await received(back)
        await back.close()
        assert got[0]["type"] == "session.state" and got[0]["data"]["snapshot"] is True
        assert got[0]["data"]["current"]["id"] == second["id"]
        assert got[0]["seq"] >= last_seq + 5

    async def test_results_hidden_meanwhile_are_not_replayed(self, live_api: Api) -> None:
        auth = await live_api.quick_facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        await live_api.patch_question(auth, session, question, results_visible=True)
        joined = await live_api.join(session)
        phone = await live_api.phone(session, joined)
        await phone.drain(0.3)
        last_seq = max(seqs(phone.log))
        await phone.close()
        voters = [await live_api.phone(session) for _ in range(3)]
        for i, voter in enumerate(voters):
            await voter.answer(question, choice(question, 0), f"v{i}")
        await voters[0].expect("poll.results")
        await live_api.patch_question(auth, session, question, results_visible=False)
        back = await reconnect(
            live_api,
            f"/ws/participant/{session['id']}",
            {"Authorization": f"Bearer {joined['participant_token']}"},
            last_seq,
        )
        got = await received(back)
        await back.close()
        for voter in voters:
            await voter.close()
        # The results shown while visible are replayed, then the hide; nothing after it shows results.
        hide = next(i for i, m in enumerate(got) if m["type"] == "session.state")
        assert got[hide]["data"]["current"]["results_visible"] is False
        assert all(m["type"] != "poll.results" for m in got[hide:])

    async def test_a_malformed_last_seq_is_refused_and_gets_a_snapshot(self, live_api: Api) -> None:
        auth = await live_api.quick_facilitator()
        session = await live_api.create_session(auth)
        await live_api.live_question(auth, session)
        joined = await live_api.join(session)
        back = await reconnect(
            live_api,
            f"/ws/participant/{session['id']}",
            {"Authorization": f"Bearer {joined['participant_token']}"},
            "-3",
        )
        got = await received(back)
        await back.close()
        assert got[0]["type"] == "session.state" and got[0]["data"]["snapshot"] is True
        (refusal,) = [m for m in got if m["type"] == "error"]
        assert refusal["data"]["code"] == "malformed_last_seq"
        assert "whole number" in refusal["data"]["message"]


class TestPresenterCatchUp:
    async def test_missed_results_arrive_then_the_current_results(self, live_api: Api) -> None:
        auth = await live_api.quick_facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        screen = await live_api.presenter(auth, session)
        await screen.drain(0.3)
        last_seq = max(seqs(screen.log))
        await screen.close()
        voters = [await live_api.phone(session) for _ in range(3)]
        for i, voter in enumerate(voters):
            await voter.answer(question, choice(question, 1), f"v{i}")
        back = await reconnect(live_api, f"/ws/presenter/{session['id']}", auth, last_seq)
        for voter in voters:
            await voter.close()
        got = await received(back, quiet=0.8)
        await back.close()
        assert all("snapshot" not in m["data"] for m in got)
        results = [m for m in got if m["type"] == "poll.results"]
        assert results, got
        assert results[-1]["data"]["n"] == 3
        assert seqs(got) == sorted(seqs(got))
