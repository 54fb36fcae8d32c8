"""The k rule: `exact()` hides below k; `_step` moves the shown result only after k participants
answered or changed since it last moved; `finalise` makes it exact and nothing overwrites that."""

from __future__ import annotations

from typing import Any

import pytest

from app.polls import results
from app.polls.aggregation import Tally
from app.polls.kinds import choice as choice_kind
from app.polls.models import Question
from app.polls.results import NOTHING_SHOWN, Shown, _step, exact
from app.polls.schemas import ChoiceQuestionCreate
from tests.factories import Api, choice

K = 3


def question_of(labels: list[str]) -> Question:
    request = ChoiceQuestionCreate(kind="choice", prompt="Which?", options=labels)
    return Question(
        session_id="s", kind="choice", prompt="Which?", config=choice_kind.config_from_create(request)
    )


class TestExact:
    def test_below_k_is_hidden_with_its_n(self) -> None:
        question = question_of(["A", "B"])
        a = question.config["options"][0]["id"]
        assert exact(question, Tally(n=2, declined=4, item_counts={a: 2}), k=3) == Shown(
            n=2, hidden=True, summary=None
        )

    def test_at_k_shows_the_summary(self) -> None:
        question = question_of(["A", "B"])
        a, b = (o["id"] for o in question.config["options"])
        assert exact(question, Tally(n=3, declined=1, item_counts={a: 3}), k=3) == Shown(
            n=3, hidden=False, summary={"counts": {a: 3, b: 0}, "declined": 1}
        )

    def test_declined_answers_do_not_count_towards_k(self) -> None:
        question = question_of(["A", "B"])
        assert exact(question, Tally(n=0, declined=10, item_counts={}), k=3).hidden is True

    def test_public_form(self) -> None:
        assert NOTHING_SHOWN.public("q1").model_dump() == {
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
        assert (step.shown, step.changed) == (NOTHING_SHOWN, False)
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
        assert step.shown == Shown(n=3, hidden=False, summary=summary)
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
        assert step.shown == Shown(n=5, hidden=False, summary={"counts": poll.counts(1, 2, 2), "declined": 0})

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
            final = await results.finalise(db, question=question, k=K)
            await db.commit()
        for _ in range(K):
            await poll.answer(2)
        step = await poll.step()
        assert step.changed is False
        assert await poll.shown() == final.model_dump()
        assert final.n == 3
