"""The k rule: `present()` hides below the k of the moment; `_step` moves the stored result only after k
participants changed their stored contribution since it last moved; `finalise` makes it exact and
nothing overwrites that."""

from __future__ import annotations

from typing import Any

import pytest

from app.polls import results
from app.polls.kinds import choice as choice_kind
from app.polls.models import Question
from app.polls.results import NOTHING_STORED, Stored, _step, present
from app.polls.schemas import ChoiceQuestionCreate, ResultsPublic
from tests.factories import Api, choice

K = 3


def question_of(labels: list[str]) -> Question:
    request = ChoiceQuestionCreate(kind="choice", prompt="Which?", options=labels)
    return Question(
        id="q1",
        session_id="s",
        kind="choice",
        prompt="Which?",
        config=choice_kind.config_from_create(request),
    )


class TestPresent:
    def test_below_k_is_hidden_with_its_n(self) -> None:
        question = question_of(["A", "B"])
        a, b = (o["id"] for o in question.config["options"])
        stored = Stored(n=2, summary={"counts": {a: 2, b: 0}, "declined": 4})
        assert present(question, stored, k=3) == ResultsPublic(
            question_id="q1", n=2, hidden=True, summary=None
        )

    def test_at_k_shows_the_summary(self) -> None:
        question = question_of(["A", "B"])
        a, b = (o["id"] for o in question.config["options"])
        stored = Stored(n=3, summary={"counts": {a: 3, b: 0}, "declined": 1})
        assert present(question, stored, k=3) == ResultsPublic(
            question_id="q1", n=3, hidden=False, summary={"counts": {a: 3, b: 0}, "declined": 1}
        )

    def test_the_same_stored_result_is_hidden_under_a_higher_k(self) -> None:
        question = question_of(["A", "B"])
        a, b = (o["id"] for o in question.config["options"])
        stored = Stored(n=3, summary={"counts": {a: 3, b: 0}, "declined": 1})
        assert present(question, stored, k=4).hidden is True

    def test_declined_answers_do_not_count_towards_k(self) -> None:
        question = question_of(["A", "B"])
        a, b = (o["id"] for o in question.config["options"])
        stored = Stored(n=0, summary={"counts": {a: 0, b: 0}, "declined": 10})
        assert present(question, stored, k=3).hidden is True

    def test_nothing_stored(self) -> None:
        assert present(question_of(["A", "B"]), NOTHING_STORED, k=3).data() == {
            "question_id": "q1",
            "n": 0,
            "hidden": True,
            "summary": None,
        }


class Poll:
    """A session with k=3 and one open question, answered through the app's writer."""

    def __init__(
        self, api: Api, auth: dict[str, str], session: dict[str, Any], question: dict[str, Any]
    ) -> None:
        self.api = api
        self.auth = auth
        self.session = session
        self.question = question
        self.people: list[dict[str, Any]] = []
        self._ids = 0

    async def answer(self, option: int, person: dict[str, Any] | None = None) -> dict[str, Any]:
        """A new participant's answer, or a changed answer of `person`."""
        if person is None:
            person = await self.api.join(self.session)
            self.people.append(person)
        self._ids += 1
        outcome = await self.api.submit(person, self.question, choice(self.question, option), f"c{self._ids}")
        assert outcome.ok, outcome
        return person

    async def step(self) -> results.Step:
        step = await _step(self.api.app.state.database, self.question["id"])
        assert step is not None
        assert not step.raced
        return step

    async def shown(self) -> dict[str, Any]:
        return await self.api.results(self.auth, self.session, self.question)

    def counts(self, *per_option: int) -> dict[str, int]:
        return {o["id"]: c for o, c in zip(self.question["options"], per_option, strict=True)}


@pytest.fixture
async def poll(api: Api) -> Poll:
    # Stop the app's ticker: these tests take every step themselves, so none may race them.
    await api.app.state.ticker.stop()
    auth = await api.quick_facilitator()
    session = await api.create_session(auth, min_group=K)
    question = await api.live_question(auth, session, options=["A", "B", "C"])
    return Poll(api, auth, session, question)


class TestStep:
    async def test_fewer_than_k_participants_stay_hidden(self, poll: Poll) -> None:
        await poll.answer(0)
        await poll.answer(1)
        step = await poll.step()
        assert (step.shown.hidden, step.shown.n, step.changed) == (True, 0, False)
        assert await poll.shown() == {
            "question_id": poll.question["id"],
            "n": 0,
            "hidden": True,
            "summary": None,
        }

    async def test_k_participants_move_it(self, poll: Poll) -> None:
        for option in (0, 0, 1):
            await poll.answer(option)
        step = await poll.step()
        assert step.changed is True
        summary = {"counts": poll.counts(2, 1, 0), "declined": 0}
        assert step.shown.data() == {
            "question_id": poll.question["id"],
            "n": 3,
            "hidden": False,
            "summary": summary,
        }
        assert await poll.shown() == {
            "question_id": poll.question["id"],
            "n": 3,
            "hidden": False,
            "summary": summary,
        }

    async def test_one_more_answer_does_not_move_it(self, poll: Poll) -> None:
        for option in (0, 0, 1):
            await poll.answer(option)
        await poll.step()
        await poll.answer(2)
        step = await poll.step()
        assert step.changed is False
        assert (await poll.shown())["n"] == 3
        assert (await poll.shown())["summary"]["counts"] == poll.counts(2, 1, 0)

    async def test_k_participants_answering_or_changing_move_it(self, poll: Poll) -> None:
        for option in (0, 0, 1):
            await poll.answer(option)
        await poll.step()
        await poll.answer(2)
        await poll.answer(2)
        assert (await poll.step()).changed is False
        await poll.answer(1, person=poll.people[0])  # changed from A to B: the third since the last move
        step = await poll.step()
        assert step.changed is True
        assert (step.shown.n, step.shown.summary) == (5, {"counts": poll.counts(1, 2, 2), "declined": 0})

    async def test_one_participant_changing_k_times_counts_once(self, poll: Poll) -> None:
        for option in (0, 0, 1):
            await poll.answer(option)
        await poll.step()
        for option in (1, 2, 1):
            await poll.answer(option, person=poll.people[0])
        assert (await poll.step()).changed is False
        assert (await poll.shown())["summary"]["counts"] == poll.counts(2, 1, 0)

    async def test_a_step_without_new_answers_changes_nothing(self, poll: Poll) -> None:
        for option in (0, 0, 1):
            await poll.answer(option)
        first = await poll.step()
        again = await poll.step()
        assert again.changed is False
        assert again.shown == first.shown

    async def test_unknown_question_is_none(self, api: Api) -> None:
        assert await _step(api.app.state.database, "0123456789abcdef") is None


class TestFinalise:
    async def test_close_makes_the_result_exact(self, poll: Poll) -> None:
        for option in (0, 0, 1):
            await poll.answer(option)
        await poll.step()
        await poll.answer(2)
        r = await poll.api.patch_question(poll.auth, poll.session, poll.question, open=False)
        assert r.status_code == 200
        assert await poll.shown() == {
            "question_id": poll.question["id"],
            "n": 4,
            "hidden": False,
            "summary": {"counts": poll.counts(2, 1, 1), "declined": 0},
        }

    async def test_later_steps_never_overwrite_a_final_result(self, poll: Poll) -> None:
        for option in (0, 0, 1):
            await poll.answer(option)
        async with poll.api.app.state.database.session() as db:
            question = await db.get(Question, poll.question["id"])
            assert question is not None
            await results.finalise(db, question=question)
            await db.commit()
        final = await poll.shown()
        for _ in range(K):
            await poll.answer(2)
        step = await poll.step()
        assert step.changed is False
        assert await poll.shown() == final
        assert final["n"] == 3


class TestChangesAreChangesOfTheStoredValue:
    """Issue 6 item 2: a resend of the same value (the phone makes a new id on every Send) is no change."""

    async def test_identical_resends_do_not_move_the_shown_result(self, poll: Poll) -> None:
        for _ in range(3):
            await poll.answer(0)
        assert (await poll.step()).changed is True
        assert (await poll.shown())["summary"]["counts"] == poll.counts(3, 0, 0)
        first, second, third = poll.people
        await poll.answer(0, person=first)  # the same A again, under a new id
        await poll.answer(0, person=second)
        await poll.answer(1, person=third)  # the only real change
        await poll.step()
        # A:2, B:1 here would show the room who switched.
        shown = await poll.shown()
        assert (shown["n"], shown["summary"]["counts"]) == (3, poll.counts(3, 0, 0))

    async def test_the_real_change_still_counts_towards_the_next_step(self, poll: Poll) -> None:
        for _ in range(3):
            await poll.answer(0)
        await poll.step()
        first, second, third = poll.people
        await poll.answer(0, person=first)
        await poll.answer(1, person=third)
        await poll.answer(2)
        assert (await poll.step()).changed is False  # two changes (third, a newcomer): below k
        await poll.answer(2, person=second)
        assert (await poll.step()).changed is True
        assert (await poll.shown())["summary"]["counts"] == poll.counts(1, 1, 2)

    async def test_the_same_choices_in_another_order_are_no_change(self, api: Api) -> None:
        await api.app.state.ticker.stop()
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=K)
        question = await api.live_question(auth, session, options=["A", "B", "C"], multiple=True)
        poll = Poll(api, auth, session, question)
        a, b, _ = (o["id"] for o in question["options"])
        people = [await api.join(session) for _ in range(K)]
        for i, person in enumerate(people):
            assert (await api.submit(person, question, {"choices": [a, b]}, f"x{i}")).ok
        await poll.step()
        for i, person in enumerate(people):
            assert (await api.submit(person, question, {"choices": [b, a]}, f"y{i}")).ok
        async with api.app.state.database.read_session() as db:
            state = await db.get(results.ResultState, question["id"])
            assert state is not None
            changes = await results.aggregation.changes_since(
                db, question_id=question["id"], since=state.change_id
            )
        assert changes.participants == 0


class TestRaisingK:
    """Issue 6 item 2: every read of a result honours the session's k now."""

    async def test_closed_result_of_3_is_hidden_once_k_is_raised_to_5(self, poll: Poll) -> None:
        for option in (0, 0, 1):
            await poll.answer(option)
        await poll.api.patch_question(poll.auth, poll.session, poll.question, open=False)
        assert (await poll.shown())["hidden"] is False
        r = await poll.api.client.patch(
            f"/api/sessions/{poll.session['id']}", json={"settings": {"min_group": 5}}, headers=poll.auth
        )
        assert r.status_code == 200, r.text
        assert await poll.shown() == {
            "question_id": poll.question["id"],
            "n": 3,
            "hidden": True,
            "summary": None,
        }

    async def test_open_result_is_hidden_at_once_and_the_step_uses_the_new_k(self, poll: Poll) -> None:
        for option in (0, 0, 1, 2):
            await poll.answer(option)
        await poll.step()
        r = await poll.api.client.patch(
            f"/api/sessions/{poll.session['id']}", json={"settings": {"min_group": 5}}, headers=poll.auth
        )
        assert r.status_code == 200, r.text
        assert (await poll.shown())["hidden"] is True
        await poll.answer(0)
        await poll.step()
        assert (await poll.shown())["hidden"] is True  # one change, not 5: no step, and n = 4 < 5 anyway
        for _ in range(4):
            await poll.answer(1)
        await poll.step()
        shown = await poll.shown()
        assert (shown["n"], shown["hidden"], shown["summary"]["counts"]) == (9, False, poll.counts(3, 5, 1))


class TestRemoval:
    """Issue 9's first hole: declining while a question is open is one participant's change; the step it
    completes reflects the removal, and the removal alone never moves the shown result. Declining after
    a question closed recomputes its exact result at once (issue 6 item 7)."""

    @pytest.fixture
    async def consented(self, api: Api) -> Poll:
        await api.app.state.ticker.stop()
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=K, consent_text="About this study.")
        question = await api.live_question(auth, session, options=["A", "B", "C"])
        return Poll(api, auth, session, question)

    async def _join(self, poll: Poll) -> dict[str, Any]:
        person = await poll.api.join(poll.session)
        assert (await poll.api.consent(poll.session, person)).status_code == 200
        poll.people.append(person)
        return person

    async def test_a_decline_alone_never_moves_the_shown_result(self, consented: Poll) -> None:
        poll = consented
        for option in (0, 0, 0, 1):
            await poll.answer(option, person=await self._join(poll))
        await poll.step()
        before = await poll.shown()
        assert before["summary"]["counts"] == poll.counts(3, 1, 0)
        r = await poll.api.consent(poll.session, poll.people[3], agree=False)
        assert r.status_code == 200
        assert (await poll.step()).changed is False
        assert await poll.shown() == before

    async def test_a_decline_counts_as_one_change_and_the_step_reflects_it(self, consented: Poll) -> None:
        poll = consented
        for option in (0, 0, 0, 1):
            await poll.answer(option, person=await self._join(poll))
        await poll.step()
        assert (await poll.api.consent(poll.session, poll.people[3], agree=False)).status_code == 200
        await poll.answer(1, person=poll.people[0])
        await poll.answer(1, person=poll.people[1])
        # Three participants changed (two answers, one removal): the step moves, without the leaver.
        assert (await poll.step()).changed is True
        shown = await poll.shown()
        assert (shown["n"], shown["summary"]["counts"]) == (3, poll.counts(1, 2, 0))

    async def test_declining_after_close_recomputes_the_exact_result(self, consented: Poll) -> None:
        """Issue 6 item 7: a participant who declines the information sheet after a question closed
        leaves that question's exact result at once (docs/protocol.md, consent), down to hidden when
        fewer than k answers are left."""
        poll = consented
        for option in (0, 0, 0, 1, 1):
            await poll.answer(option, person=await self._join(poll))
        r = await poll.api.patch_question(poll.auth, poll.session, poll.question, open=False)
        assert r.status_code == 200, r.text
        shown = await poll.shown()
        assert (shown["n"], shown["summary"]["counts"]) == (5, poll.counts(3, 2, 0))
        assert (await poll.api.consent(poll.session, poll.people[4], agree=False)).status_code == 200
        shown = await poll.shown()
        assert (shown["n"], shown["summary"]["counts"]) == (4, poll.counts(3, 1, 0))
        for person in poll.people[2:4]:
            assert (await poll.api.consent(poll.session, person, agree=False)).status_code == 200
        assert await poll.shown() == {
            "question_id": poll.question["id"],
            "n": 2,
            "hidden": True,
            "summary": None,
        }
