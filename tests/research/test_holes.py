"""Issue 9's holes, each with the test that failed before its fix: withdrawing while a question is open
(the decline half is in tests/polls/test_results_unit.py::TestRemoval), the phone's statement of what is
kept, and a results tick racing the facilitator's "hide results"."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.polls.results import _step, publish_results
from tests.factories import Api, choice
from tests.polls.test_results_unit import K, Poll


class TestWithdrawalWhileOpen:
    """Withdrawing is one participant's change towards the next step, which then reflects it; the
    withdrawal alone never moves the shown result (ETHICS 9: it would show whose answer left)."""

    @pytest.fixture
    async def poll(self, api: Api) -> Poll:
        await api.app.state.ticker.stop()
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=K)
        question = await api.live_question(auth, session, options=["A", "B", "C"])
        return Poll(api, auth, session, question)

    async def _withdraw(self, poll: Poll, person: dict[str, Any]) -> None:
        r = await poll.api.client.post("/api/withdraw", json={"code": person["withdrawal_code"]})
        assert r.status_code == 200, r.text
        assert r.json() == {"withdrawn": True}

    async def test_a_withdrawal_alone_never_moves_the_shown_result(self, poll: Poll) -> None:
        for option in (0, 0, 0, 1):
            await poll.answer(option)
        await poll.step()
        before = await poll.shown()
        assert before["summary"]["counts"] == poll.counts(3, 1, 0)
        await self._withdraw(poll, poll.people[3])
        assert (await poll.step()).changed is False
        assert await poll.shown() == before

    async def test_a_withdrawal_counts_as_one_change_and_the_step_reflects_it(self, poll: Poll) -> None:
        for option in (0, 0, 0, 1):
            await poll.answer(option)
        await poll.step()
        await self._withdraw(poll, poll.people[3])
        await poll.answer(1, person=poll.people[0])
        await poll.answer(1, person=poll.people[1])
        # Three participants changed (two answers, one withdrawal): the step moves, without the leaver.
        assert (await poll.step()).changed is True
        shown = await poll.shown()
        assert (shown["n"], shown["summary"]["counts"]) == (3, poll.counts(1, 2, 0))

    async def test_the_phone_button_is_the_same_withdrawal(self, poll: Poll) -> None:
        for option in (0, 0, 0, 1):
            await poll.answer(option)
        await poll.step()
        before = await poll.shown()
        person = poll.people[3]
        r = await poll.api.client.post(
            f"/api/sessions/{poll.session['id']}/withdraw",
            headers={"Authorization": f"Bearer {person['participant_token']}"},
        )
        assert r.status_code == 200, r.text
        assert (await poll.step()).changed is False
        assert await poll.shown() == before
        await poll.answer(1, person=poll.people[0])
        await poll.answer(1, person=poll.people[1])
        assert (await poll.step()).changed is True
        assert (await poll.shown())["summary"]["counts"] == poll.counts(1, 2, 0)

    async def test_withdrawing_after_close_recomputes_the_exact_result(self, poll: Poll) -> None:
        for option in (0, 0, 0, 1, 1):
            await poll.answer(option)
        r = await poll.api.patch_question(poll.auth, poll.session, poll.question, open=False)
        assert r.status_code == 200
        assert (await poll.shown())["summary"]["counts"] == poll.counts(3, 2, 0)
        await self._withdraw(poll, poll.people[4])
        assert (await poll.shown())["summary"]["counts"] == poll.counts(3, 1, 0)


class TestStatementOfWhatIsKept:
    async def test_the_phone_says_answer_times_are_stored(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        joined = await api.join(session)
        page = await api.client.get(
            f"/s/{session['id']}", headers={"Authorization": f"Bearer {joined['participant_token']}"}
        )
        assert page.status_code == 200, page.text
        assert "the time each answer was given or changed" in page.text


class TestNoTickAfterHide:
    """A results tick computed while results were visible must not reach phones once the facilitator has
    hidden them: the ticker read the question before the hide, and published after it."""

    async def test_a_tick_published_after_the_hide_never_reaches_phones(self, live_api: Api) -> None:
        api = live_api
        await api.app.state.ticker.stop()  # this test plays the ticker, to place its publish exactly
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=3)
        question = await api.live_question(auth, session, options=["A", "B"])
        r = await api.patch_question(auth, session, question, results_visible=True)
        assert r.status_code == 200
        phone = await api.phone(session)
        for i in range(3):
            outcome = await api.submit(await api.join(session), question, choice(question, 0), f"a{i}")
            assert outcome.ok
        # The ticker's step: it reads the question while results are visible...
        step = await _step(api.app.state.database, question["id"])
        assert step is not None and step.changed and step.question.results_visible
        # ...the facilitator hides them (committed, session.state sent)...
        r = await api.patch_question(auth, session, question, results_visible=False)
        assert r.status_code == 200
        # ...and the ticker publishes what it computed.
        await publish_results(api.app.state.hub, question=step.question, result=step.shown)
        await phone.drain(0.5)
        types = [m["type"] for m in phone.log]
        hidden_at = next(
            i
            for i, m in enumerate(phone.log)
            if m["type"] == "session.state" and m["data"]["current"]["results_visible"] is False
        )
        assert "poll.results" not in types[hidden_at:], types
        await phone.close()

    async def test_results_still_reach_phones_while_visible(self, live_api: Api) -> None:
        api = live_api
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=3)
        question = await api.live_question(auth, session, options=["A", "B"])
        assert (await api.patch_question(auth, session, question, results_visible=True)).status_code == 200
        phone = await api.phone(session)
        for i in range(3):
            outcome = await api.submit(await api.join(session), question, choice(question, 1), f"b{i}")
            assert outcome.ok
        deadline = asyncio.get_running_loop().time() + 5
        while True:
            message = await phone.expect("poll.results")
            if not message["data"]["hidden"] or asyncio.get_running_loop().time() > deadline:
                break
        assert message["data"]["n"] == 3 and message["data"]["hidden"] is False
        await phone.close()
