"""What the presenter and console count while a question runs (issue 8): who joined and who agreed to
the information sheet, apart; and the live count of responses, which moves one by one before k and
never tells an answer from a "prefer not to answer" (CONTRACT, results object)."""

from __future__ import annotations

from typing import Any

from tests.factories import Api, Socket, choice


async def presence_until(screen: Socket, **wanted: int) -> dict[str, Any]:
    presence = await screen.expect("presence", timeout=3)
    while any(presence["data"].get(key) != value for key, value in wanted.items()):
        presence = await screen.expect("presence", timeout=3)
    return dict(presence["data"])


async def responses_until(screen: Socket, count: int) -> dict[str, Any]:
    message = await screen.expect("poll.responses", timeout=3)
    while message["data"]["responses"] != count:
        message = await screen.expect("poll.responses", timeout=3)
    return dict(message["data"])


class TestJoinedAndAgreed:
    async def test_a_phone_reading_the_sheet_counts_as_joined_not_agreed(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, consent_text="We record your answers anonymously.")
        presenter = await live_api.presenter(auth, session)
        assert (await presenter.expect("presence"))["data"] == {"participants": 0, "joined": 0, "agreed": 0}
        reading = await live_api.join(session)
        assert await presence_until(presenter, joined=1) == {"participants": 0, "joined": 1, "agreed": 0}
        agreeing = await live_api.join(session)
        assert (await live_api.consent(session, agreeing)).status_code == 200
        assert await presence_until(presenter, joined=2, agreed=1) == {
            "participants": 0,
            "joined": 2,
            "agreed": 1,
        }
        # Declining deletes the participant: in neither count.
        assert (await live_api.consent(session, reading, agree=False)).status_code == 200
        assert (await presence_until(presenter, joined=1))["agreed"] == 1
        await presenter.close()

    async def test_without_a_sheet_everyone_who_joined_has_agreed(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth)
        console = await live_api.console(auth, session)
        await console.expect("presence")
        await live_api.join(session)
        await live_api.join(session)
        assert await presence_until(console, joined=2) == {"participants": 0, "joined": 2, "agreed": 2}
        await console.close()


class TestResponses:
    async def test_moves_one_by_one_before_k_and_counts_declines_with_answers(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=5)
        question = await live_api.live_question(auth, session)
        presenter = await live_api.presenter(auth, session)
        assert (await presenter.expect("poll.responses"))["data"] == {
            "question_id": question["id"],
            "responses": 0,
        }
        first, second = await live_api.phone(session), await live_api.phone(session)
        await first.acked("answer", {"question_id": question["id"], "value": choice(question, 0)}, "one")
        assert (await responses_until(presenter, 1))["question_id"] == question["id"]
        await second.acked("answer", {"question_id": question["id"], "value": None}, "two")
        await responses_until(presenter, 2)
        # Changing an answer is no new response.
        await first.acked("answer", {"question_id": question["id"], "value": choice(question, 1)}, "three")
        await presenter.drain(0.8)
        counts = [m["data"]["responses"] for m in presenter.log if m["type"] == "poll.responses"]
        assert counts[-1] == 2 and max(counts) == 2, counts
        assert (await live_api.results(auth, session, question))["hidden"] is True
        await first.close()
        await second.close()
        await presenter.close()

    async def test_a_new_screen_gets_the_count_in_its_snapshot(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        phone = await live_api.phone(session)
        await phone.acked("answer", {"question_id": question["id"], "value": choice(question, 0)}, "a")
        console = await live_api.console(auth, session)
        while (message := await console.recv())["type"] != "poll.responses":
            assert message["type"] in ("session.state", "poll.results")
        assert message["data"] == {"question_id": question["id"], "responses": 1}
        await phone.close()
        await console.close()

    async def test_phones_never_get_the_count(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        await live_api.patch_question(auth, session, question, results_visible=True)
        phone = await live_api.phone(session)
        other = await live_api.phone(session)
        await other.acked("answer", {"question_id": question["id"], "value": choice(question, 0)}, "b")
        await phone.acked("answer", {"question_id": question["id"], "value": choice(question, 0)}, "c")
        seen = []
        try:
            while True:
                seen.append((await phone.recv(timeout=0.8))["type"])
        except TimeoutError:
            pass
        assert "poll.responses" not in seen
        await phone.close()
        await other.close()


class TestAnswersMine:
    async def test_a_phone_reconnecting_is_told_what_it_sent(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        declined = await live_api.open_question(
            auth, session, kind="choice", prompt="Another?", options=["Yes", "No"]
        )
        joined = await live_api.join(session)
        phone = await live_api.phone(session, joined)
        await phone.acked("answer", {"question_id": question["id"], "value": choice(question, 1)}, "a")
        await phone.acked("answer", {"question_id": declined["id"], "value": None}, "b")
        await phone.close()
        again = await live_api.phone(session, joined)
        assert (await again.expect("answers.mine"))["data"] == {
            "answers": {question["id"]: choice(question, 1), declined["id"]: None},
            "entries": {},
            "entry_ids": {},
        }
        # Another participant's answers are not theirs: a phone that sent nothing is told nothing.
        other = await live_api.phone(session)
        await other.drain(0.5)
        assert "answers.mine" not in [m["type"] for m in other.log]
        await other.acked("answer", {"question_id": question["id"], "value": None}, "c")
        await again.close()
        await other.close()

    async def test_a_phone_is_told_which_questions_of_a_qa_are_its_own(self, live_api: Api) -> None:
        """So that it shows no upvote button on them (an upvote of one's own question is refused): the
        ack of a new question names its entry, and `answers.mine` lists them after a reconnect."""
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        qa = await live_api.open_question(auth, session, kind="qa", prompt="Ask")
        joined = await live_api.join(session)
        phone = await live_api.phone(session, joined)
        ack = await phone.request("answer", {"question_id": qa["id"], "value": {"text": "Mine?"}}, "a")
        other = await live_api.phone(session)
        await other.acked("answer", {"question_id": qa["id"], "value": {"text": "Theirs?"}}, "b")
        entries = {e["text"]: e["id"] for e in await live_api.entries(auth, session, qa)}
        assert ack == {"type": "answer.ack", "data": {"id": "a", "entry_id": entries["Mine?"]}}
        await phone.close()
        again = await live_api.phone(session, joined)
        mine = (await again.expect("answers.mine"))["data"]
        assert mine["entries"] == {qa["id"]: ["Mine?"]}
        assert mine["entry_ids"] == {qa["id"]: [entries["Mine?"]]}
        await again.close()
        await other.close()
