"""The websocket faces over a real uvicorn: snapshots, answers and their acks, every refusal."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any, cast

import pytest
from fastapi import WebSocket
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app import sockets
from tests.factories import Api, Socket, choice


async def _closed_with(ws_url: str, headers: dict[str, str] | None = None, origin: str | None = None) -> int:
    """Connect and return the close code the server sends."""
    kwargs: dict[str, object] = {"additional_headers": headers or {}, "compression": None}
    if origin is not None:
        kwargs["origin"] = origin
    async with connect(ws_url, **kwargs) as ws:  # type: ignore[arg-type]
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


class TestParticipantSocketAuth:
    async def test_no_credential_is_closed_1008(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth)
        assert live_api.live is not None
        code = await _closed_with(f"{live_api.live.ws}/ws/participant/{session['id']}")
        assert code == 1008

    async def test_wrong_token_is_closed_1008(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth)
        assert live_api.live is not None
        code = await _closed_with(
            f"{live_api.live.ws}/ws/participant/{session['id']}", {"Authorization": "Bearer not-a-token"}
        )
        assert code == 1008

    async def test_token_of_another_session_is_closed_1008(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth)
        other = await live_api.create_session(auth)
        joined = await live_api.join(other)
        assert live_api.live is not None
        code = await _closed_with(
            f"{live_api.live.ws}/ws/participant/{session['id']}",
            {"Authorization": f"Bearer {joined['participant_token']}"},
        )
        assert code == 1008

    async def test_foreign_origin_is_closed_1008(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth)
        joined = await live_api.join(session)
        assert live_api.live is not None
        code = await _closed_with(
            f"{live_api.live.ws}/ws/participant/{session['id']}",
            {"Authorization": f"Bearer {joined['participant_token']}"},
            origin="http://evil.example",
        )
        assert code == 1008

    async def test_cookie_without_origin_is_closed_1008(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth)
        joined = await live_api.join(session)
        assert live_api.live is not None
        code = await _closed_with(
            f"{live_api.live.ws}/ws/participant/{session['id']}",
            {"Cookie": f"ts_p_{session['id']}={joined['participant_token']}"},
        )
        assert code == 1008

    async def test_cookie_with_own_origin_is_accepted(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth)
        joined = await live_api.join(session)
        assert live_api.live is not None
        async with connect(
            f"{live_api.live.ws}/ws/participant/{session['id']}",
            additional_headers={"Cookie": f"ts_p_{session['id']}={joined['participant_token']}"},
            origin=live_api.live.http,  # type: ignore[arg-type]
            compression=None,
        ) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert first["type"] == "session.state"
        assert first["data"]["snapshot"] is True

    @pytest.mark.parametrize("tail", ["/more", "/"])
    async def test_a_longer_path_is_no_phone_socket(self, live_api: Api, tail: str) -> None:
        # sockets.PhoneSocketsFirst takes exactly what the route matches; the router refuses the rest.
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth)
        joined = await live_api.join(session)
        assert live_api.live is not None
        with pytest.raises(InvalidStatus) as refused:
            async with connect(
                f"{live_api.live.ws}/ws/participant/{session['id']}{tail}",
                additional_headers={"Authorization": f"Bearer {joined['participant_token']}"},
                compression=None,
            ):
                pass
        assert refused.value.response.status_code == 403


class TestPresenterSocketAuth:
    async def test_another_accounts_session_is_closed_1008(self, live_api: Api) -> None:
        owner = await live_api.facilitator()
        session = await live_api.create_session(owner)
        stranger = await live_api.facilitator()
        assert live_api.live is not None
        code = await _closed_with(f"{live_api.live.ws}/ws/presenter/{session['id']}", stranger)
        assert code == 1008

    async def test_participant_token_is_closed_1008(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth)
        joined = await live_api.join(session)
        assert live_api.live is not None
        code = await _closed_with(
            f"{live_api.live.ws}/ws/presenter/{session['id']}",
            {"Authorization": f"Bearer {joined['participant_token']}"},
        )
        assert code == 1008

    async def test_snapshot_then_results_then_presence(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth)
        question = await live_api.live_question(auth, session)
        presenter = await live_api.presenter(auth, session)
        state = await presenter.recv()
        assert state["type"] == "session.state"
        assert state["data"]["snapshot"] is True
        assert state["data"]["current"]["id"] == question["id"]
        assert isinstance(state["seq"], int)
        results = await presenter.recv()
        assert results["type"] == "poll.results"
        assert results["data"] == {"question_id": question["id"], "n": 0, "hidden": True, "summary": None}
        # The results forced by opening the question may still arrive (with a later seq) before it.
        presence = await presenter.expect("presence")
        assert presence == {"type": "presence", "data": {"participants": 0, "joined": 0, "agreed": 0}}
        await presenter.close()


class TestMessages:
    async def test_malformed_json_gets_error_and_socket_stays_open(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        phone = await live_api.phone(session)
        await phone.ws.send("{not json")
        error = await phone.expect("error")
        assert error["data"]["code"] == "malformed_json"
        assert "seq" not in error
        assert (await phone.answer(question, choice(question, 0), "after"))["type"] == "answer.ack"

    async def test_unknown_type_gets_error_and_socket_stays_open(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        phone = await live_api.phone(session)
        await phone.send("vote", {"question_id": question["id"]}, "x1")
        error = await phone.expect("error")
        assert error["data"]["code"] == "unknown_type"
        assert (await phone.answer(question, choice(question, 0), "after"))["type"] == "answer.ack"

    async def test_message_over_64_kib_is_closed_1009(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth)
        question = await live_api.live_question(auth, session)
        phone = await live_api.phone(session)
        await phone.expect("round.state")  # after session.state on connect (issue 10)
        await phone.send("answer", {"question_id": question["id"], "value": {"text": "x" * 70_000}}, "big")
        with pytest.raises(ConnectionClosed) as closed:
            while True:  # what was queued before (answers.mine), then the close
                await asyncio.wait_for(phone.ws.recv(), 5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009


async def _refusal(phone: Socket, question: dict[str, object], value: object, id_: str) -> dict[str, object]:
    reply = await phone.answer(question, value, id_)  # type: ignore[arg-type]
    assert reply["type"] == "answer.error", reply
    data = dict(reply["data"])
    assert data["id"] == id_
    assert isinstance(data["message"], str) and data["message"]
    return data


class TestAnswerRefusals:
    """Each refusal is an answer.error with the phone's id, a code and a sentence; nothing is recorded."""

    async def test_question_not_open(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.create_question(auth, session)
        phone = await live_api.phone(session)
        assert (await _refusal(phone, question, choice(question, 0), "a"))["code"] == "question_not_open"

    async def test_question_closed(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        await live_api.patch_question(auth, session, question, open=False)
        phone = await live_api.phone(session)
        assert (await _refusal(phone, question, choice(question, 0), "a"))["code"] == "question_closed"

    async def test_question_of_another_session(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        other = await live_api.create_session(auth, min_group=3)
        foreign = await live_api.live_question(auth, other)
        phone = await live_api.phone(session)
        assert (await _refusal(phone, foreign, choice(foreign, 0), "a"))["code"] == "unknown_question"

    async def test_unknown_option(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        phone = await live_api.phone(session)
        assert (await _refusal(phone, question, {"choices": ["nope"]}, "a"))["code"] == "unknown_option"

    async def test_two_choices_on_single_choice(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        phone = await live_api.phone(session)
        value = {"choices": [question["options"][0]["id"], question["options"][1]["id"]]}
        assert (await _refusal(phone, question, value, "a"))["code"] == "too_many_choices"

    async def test_two_choices_on_multiple_choice_is_accepted(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session, multiple=True)
        phone = await live_api.phone(session)
        value = {"choices": [question["options"][0]["id"], question["options"][1]["id"]]}
        assert (await phone.answer(question, value, "a"))["type"] == "answer.ack"

    async def test_wrong_value_shape(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        phone = await live_api.phone(session)
        assert (await _refusal(phone, question, {"choices": "o1"}, "a"))["code"] == "invalid_answer"

    async def test_missing_question_id(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        await live_api.live_question(auth, session)
        phone = await live_api.phone(session)
        await phone.send("answer", {"value": None}, "a")
        reply = await phone.expect("answer.error")
        assert reply["data"]["code"] == "malformed_answer"
        assert reply["data"]["id"] == "a"

    async def test_before_consent(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3, consent_text="We keep your answers.")
        question = await live_api.live_question(auth, session)
        joined = await live_api.join(session)
        phone = await live_api.phone(session, joined)
        assert (await _refusal(phone, question, choice(question, 0), "a"))["code"] == "consent_required"
        assert (await live_api.consent(session, joined)).status_code == 200
        # A refused id is not kept: sent again after consent, it is judged afresh.
        assert (await phone.answer(question, choice(question, 0), "a"))["type"] == "answer.ack"

    async def test_session_closed(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        phone = await live_api.phone(session)
        r = await live_api.client.patch(f"/api/sessions/{session['id']}", json={"closed": True}, headers=auth)
        assert r.status_code == 200
        assert (await _refusal(phone, question, choice(question, 0), "a"))["code"] == "session_closed"

    async def test_refusals_record_nothing(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        phones = [await live_api.phone(session) for _ in range(3)]
        for i, phone in enumerate(phones):
            await _refusal(phone, question, {"choices": ["nope"]}, f"bad{i}")
        await live_api.patch_question(auth, session, question, open=False)
        result = await live_api.results(auth, session, question)
        assert result["n"] == 0
        assert result["hidden"] is True


class TestReplays:
    async def test_same_id_again_gets_ack_and_changes_nothing(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        phones = [await live_api.phone(session) for _ in range(3)]
        for i, phone in enumerate(phones):
            await phone.answer(question, choice(question, 0), f"a{i}")
        # The first phone sends a new answer, then replays its first id with a different value.
        await phones[0].answer(question, choice(question, 1), "b0")
        replay = await phones[0].answer(question, choice(question, 2), "a0")
        assert replay["type"] == "answer.ack"
        await live_api.patch_question(auth, session, question, open=False)
        counts = (await live_api.results(auth, session, question))["summary"]["counts"]
        assert [counts[o["id"]] for o in question["options"]] == [2, 1, 0]

    async def test_replayed_id_survives_a_restart(self, live_api: Api) -> None:
        """Receipts are in the database: a new writer (as after a restart) still recognises the id."""
        from app.polls.writer import AnswerWriter

        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        joined = await live_api.join(session)
        phone = await live_api.phone(session, joined)
        await phone.answer(question, choice(question, 0), "first")
        await phone.answer(question, choice(question, 1), "second")
        app = live_api.app
        fresh = AnswerWriter(app.state.database, app.state.hub, batch_max=10)
        await fresh.start()
        async with app.state.database.read_session() as db:
            from app.sessions import service as sessions_service

            participant = await sessions_service.participant_by_token(
                db, session_id=session["id"], token=joined["participant_token"]
            )
        assert participant is not None
        outcome = await fresh.submit(
            session_id=session["id"],
            participant_id=participant.id,
            client_id="first",
            question_id=question["id"],
            value=choice(question, 2),
        )
        await fresh.stop()
        assert outcome.ok
        async with app.state.database.read_session() as db:
            from app.polls.models import Answer

            answer = await db.get(Answer, (question["id"], participant.id))
        assert answer is not None
        assert answer.value == choice(question, 1)


class TestLiveResults:
    async def test_presenter_gets_results_once_k_answered_then_exact_at_close(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        presenter = await live_api.presenter(auth, session)
        phones = [await live_api.phone(session) for _ in range(4)]
        await phones[0].answer(question, choice(question, 0), "p0")
        await phones[1].answer(question, choice(question, 0), "p1")
        await asyncio.sleep(0.3)
        shown = [m for m in presenter.log if m["type"] == "poll.results"]
        await phones[2].answer(question, choice(question, 1), "p2")
        moved = await presenter.expect("poll.results")
        while moved["data"]["hidden"]:
            moved = await presenter.expect("poll.results")
        assert moved["data"]["n"] == 3
        assert all(m["data"]["hidden"] for m in shown)
        # One more answer: fewer than k changes since the last move, so nothing moves...
        await phones[3].answer(question, choice(question, 2), "p3")
        await asyncio.sleep(0.4)
        assert (await live_api.results(auth, session, question))["n"] == 3
        # ...until the question closes, when the result is exact.
        await live_api.patch_question(auth, session, question, open=False)
        final = await presenter.expect("poll.results")
        while final["data"]["n"] != 4:
            final = await presenter.expect("poll.results")
        counts = final["data"]["summary"]["counts"]
        assert [counts[o["id"]] for o in question["options"]] == [2, 1, 1]

    async def test_identical_resends_never_move_the_shown_result(self, live_api: Api) -> None:
        """Issue 6, item 2, as a room would see it: k = 3, three phones answer A (shown A:3); two send A
        again (a new id each Send), the third switches to B. A:2, B:1 on the screen would show who
        switched, so nothing may move until k participants have really changed."""
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        presenter = await live_api.presenter(auth, session)
        phones = [await live_api.phone(session) for _ in range(3)]
        for i, phone in enumerate(phones):
            await phone.answer(question, choice(question, 0), f"first{i}")
        shown = await presenter.expect("poll.results")
        while shown["data"]["hidden"]:
            shown = await presenter.expect("poll.results")
        a, b, c = (o["id"] for o in question["options"])
        assert shown["data"]["summary"]["counts"] == {a: 3, b: 0, c: 0}
        await phones[0].answer(question, choice(question, 0), "again0")
        await phones[1].answer(question, choice(question, 0), "again1")
        await phones[2].answer(question, choice(question, 1), "switch2")
        await asyncio.sleep(0.5)  # five ticks of the results ticker
        after = [m for m in presenter.log if m["type"] == "poll.results"][-1]
        assert after["data"]["summary"]["counts"] == {a: 3, b: 0, c: 0}
        assert (await live_api.results(auth, session, question))["summary"]["counts"] == {a: 3, b: 0, c: 0}

    async def test_phone_gets_results_only_when_visible(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        phones = [await live_api.phone(session) for _ in range(3)]
        for i, phone in enumerate(phones):
            await phone.answer(question, choice(question, 0), f"a{i}")
        await asyncio.sleep(0.4)
        assert not [m for m in phones[0].log if m["type"] == "poll.results"]
        r = await live_api.patch_question(auth, session, question, results_visible=True)
        assert r.status_code == 200
        state = await phones[0].expect("session.state")
        assert state["data"]["current"]["results_visible"] is True
        results = await phones[0].expect("poll.results")
        assert results["data"]["n"] == 3
        assert results["data"]["hidden"] is False

    async def test_raising_k_above_n_takes_a_shown_result_off_the_screens(self, live_api: Api) -> None:
        """Issue 6, item 2, as screens see it: closed with n = 3 under k = 3, then k is raised to 5. The
        presenter and a phone showing results each get a `poll.results` that no longer shows it (reading
        the route alone would leave the screens showing what they were sent under the old k)."""
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        r = await live_api.patch_question(auth, session, question, results_visible=True)
        assert r.status_code == 200, r.text
        presenter = await live_api.presenter(auth, session)
        phones = [await live_api.phone(session) for _ in range(3)]
        for i, phone in enumerate(phones):
            await phone.acked(
                "answer", {"question_id": question["id"], "value": choice(question, i % 2)}, f"a{i}"
            )
        await live_api.patch_question(auth, session, question, open=False)

        async def next_result(socket: Socket, hidden: bool) -> dict[str, Any]:
            while True:
                got = await socket.expect("poll.results")
                if got["data"]["question_id"] == question["id"] and got["data"]["hidden"] is hidden:
                    return dict(got["data"])

        for screen in (presenter, phones[0]):
            shown = await next_result(screen, hidden=False)
            a, b, c = (o["id"] for o in question["options"])
            assert (shown["n"], shown["summary"]["counts"]) == (3, {a: 2, b: 1, c: 0})
        r = await live_api.client.patch(
            f"/api/sessions/{session['id']}", json={"settings": {"min_group": 5}}, headers=auth
        )
        assert r.status_code == 200, r.text
        for screen in (presenter, phones[0]):
            assert await next_result(screen, hidden=True) == {
                "question_id": question["id"],
                "n": 3,
                "hidden": True,
                "summary": None,
            }
        for socket in (presenter, *phones):
            await socket.close()

    async def test_burst_of_50_coalesces_and_ends_exact(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=5)
        question = await live_api.live_question(auth, session)
        presenter = await live_api.presenter(auth, session)
        phones = [await live_api.phone(session) for _ in range(50)]
        await asyncio.gather(
            *(phone.answer(question, choice(question, i % 3), f"burst{i}") for i, phone in enumerate(phones))
        )
        await asyncio.sleep(0.5)
        await live_api.patch_question(auth, session, question, open=False)
        final = await presenter.expect("poll.results")
        while final["data"]["n"] != 50:
            final = await presenter.expect("poll.results")
        await asyncio.sleep(0.3)
        while True:
            try:
                await presenter.recv(timeout=0.2)
            except TimeoutError:
                break
        results = [m for m in presenter.log if m["type"] == "poll.results"]
        assert len(results) < 50 / 5
        assert results[-1]["data"]["n"] == 50
        counts = results[-1]["data"]["summary"]["counts"]
        assert [counts[o["id"]] for o in question["options"]] == [17, 17, 16]

    async def test_broker_loss_closes_sockets_1012_and_results_keep_flowing(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        phone = await live_api.phone(session)
        live_api.app.state.hub._lost()  # what a backend reports when its broker connection drops
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await phone.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1012
        await asyncio.sleep(0.3)  # the ticker subscribes again after a tick
        presenter = await live_api.presenter(auth, session)
        for i in range(3):
            await (await live_api.phone(session)).answer(question, choice(question, 0), f"after{i}")
        shown = await presenter.expect("poll.results")
        while shown["data"]["hidden"]:
            shown = await presenter.expect("poll.results")
        assert shown["data"]["n"] == 3

    async def test_presence_counts_phones(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth)
        presenter = await live_api.presenter(auth, session)
        await presenter.expect("presence")
        phones = [await live_api.phone(session) for _ in range(3)]
        presence = await presenter.expect("presence", timeout=3)
        while presence["data"]["participants"] != 3:
            presence = await presenter.expect("presence", timeout=3)
        await phones[0].close()
        presence = await presenter.expect("presence", timeout=3)
        assert presence["data"]["participants"] == 2


class TestSessionState:
    async def test_current_change_reaches_phones_with_growing_seq(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth)
        first = await live_api.create_question(auth, session)
        second = await live_api.create_question(auth, session)
        phone = await live_api.phone(session)
        snapshot_seq = phone.log[0]["seq"]
        await live_api.make_current(auth, session, first)
        one = await phone.expect("session.state")
        await live_api.make_current(auth, session, second)
        two = await phone.expect("session.state")
        assert one["data"]["current"]["id"] == first["id"]
        assert two["data"]["current"]["id"] == second["id"]
        assert snapshot_seq < one["seq"] < two["seq"]
        await live_api.make_current(auth, session, None)
        none = await phone.expect("session.state")
        assert none["data"]["current"] is None

    async def test_reconnect_with_last_seq_ahead_of_the_session_gets_a_snapshot(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth)
        question = await live_api.live_question(auth, session)
        joined = await live_api.join(session)
        assert live_api.live is not None
        async with connect(
            f"{live_api.live.ws}/ws/participant/{session['id']}?last_seq=1000000",
            additional_headers={"Authorization": f"Bearer {joined['participant_token']}"},
        ) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert first["type"] == "session.state"
        assert first["data"]["snapshot"] is True
        assert first["data"]["current"]["id"] == question["id"]

    async def test_snapshot_plus_events_equals_fresh_snapshot(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth)
        question = await live_api.create_question(auth, session)
        phone = await live_api.phone(session)
        await live_api.make_current(auth, session, question)
        await live_api.patch_question(auth, session, question, open=True)
        await live_api.patch_question(auth, session, question, results_visible=True)
        state = await phone.expect("session.state")
        while not state["data"]["current"]["results_visible"]:
            state = await phone.expect("session.state")
        fresh = await live_api.phone(session)
        fresh_state = fresh.log[0]["data"]
        assert {k: v for k, v in fresh_state.items() if k != "snapshot"} == state["data"]


class TestFlowControl:
    async def test_a_17th_answer_waiting_is_refused(self, app: object) -> None:
        """A phone may have 16 answers waiting for the writer; the 17th is refused, not queued. The
        writer here is real but not started, so nothing it holds is answered during the test."""
        from app.polls.writer import AnswerWriter
        from app.realtime.hub import Subscription
        from app.sockets import ANSWERS_IN_FLIGHT, _Phone

        writer = AnswerWriter(app.state.database, app.state.hub, batch_max=10)  # type: ignore[attr-defined]
        sub = Subscription(("phone",), maxsize=100)
        phone = _Phone(sub, writer, "session", "participant")
        for i in range(ANSWERS_IN_FLIGHT + 1):
            message = {"type": "answer", "id": f"a{i}", "data": {"question_id": "q", "value": None}}
            await phone.on_message(json.dumps(message))
        replies = []
        while (text := sub.get_nowait()) is not None:
            replies.append(json.loads(str(text)))
        assert replies == [
            {
                "type": "answer.error",
                "data": {
                    "id": f"a{ANSWERS_IN_FLIGHT}",
                    "code": "too_many_pending",
                    "message": replies[0]["data"]["message"],
                },
            }
        ]
        assert phone.in_flight == ANSWERS_IN_FLIGHT


class _CountedReads:
    """`_read_snapshot` slowed down and counted; the first read fails when `fail_first`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *, fail_first: bool = False) -> None:
        self.real = sockets._read_snapshot
        self.reads = 0
        self.fail_first = fail_first
        monkeypatch.setattr(sockets, "_read_snapshot", self)

    async def __call__(self, *args: Any, **kwargs: Any) -> list[str]:
        self.reads += 1
        await asyncio.sleep(0.05)
        if self.fail_first and self.reads == 1:
            raise RuntimeError("the database went away")
        return await self.real(*args, **kwargs)


async def _snapshots_at_once(api: Api, sockets_arriving: int) -> list[Any]:
    session = await api.create_session(await api.quick_facilitator())
    ws = cast(WebSocket, SimpleNamespace(app=api.app))
    return await asyncio.gather(
        *(sockets._snapshot(ws, session["id"], to_presenter=False) for _ in range(sockets_arriving)),
        return_exceptions=True,
    )


class TestSnapshotReads:
    """A join burst: hundreds of sockets arrive while the seq moves on; they share one read of it."""

    async def test_sockets_arriving_together_read_the_snapshot_once(
        self, api: Api, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        counted = _CountedReads(monkeypatch)
        shown = await _snapshots_at_once(api, 50)
        assert counted.reads == 1
        assert all(one == shown[0] for one in shown)
        assert json.loads(shown[0][1][0])["type"] == "session.state"
        assert api.app.state.snapshot_reads == {}

    async def test_when_the_shared_read_fails_the_others_read_for_themselves(
        self, api: Api, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        counted = _CountedReads(monkeypatch, fail_first=True)
        shown = await _snapshots_at_once(api, 5)
        assert isinstance(shown[0], RuntimeError)
        assert all(not isinstance(one, BaseException) for one in shown[1:])
        assert counted.reads == 5
        assert api.app.state.snapshot_reads == {}
