"""The answer writer, driven directly against the app's database: batches, replayed ids, refusals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from app.polls.models import Answer, AnswerItem, AnswerReceipt
from app.polls.writer import AnswerWriter, Outcome
from app.realtime.hub import Hub, MemoryBackend
from tests.factories import Api, choice


@dataclass
class Stored:
    value: Any
    declined: bool
    items: set[str]
    receipts: set[str]


class Writing:
    """An AnswerWriter of its own (with its own hub) on the app's database, and what it stored."""

    def __init__(self, api: Api, auth: dict[str, str], writer: AnswerWriter) -> None:
        self.api = api
        self.auth = auth
        self.writer = writer

    def answer(
        self, joined: dict[str, Any], question: dict[str, Any], value: Any, client_id: str
    ) -> dict[str, Any]:
        return {"joined": joined, "question": question, "value": value, "client_id": client_id}

    async def batch(self, *answers: dict[str, Any]) -> list[Outcome]:
        """Queue every answer before the writer looks, then check they were committed as one batch."""
        ids = [await self.api.participant_id(a["joined"]) for a in answers]
        before = self.writer.batches
        tasks = [
            asyncio.create_task(
                self.writer.submit(
                    session_id=a["joined"]["session"]["id"],
                    participant_id=participant_id,
                    client_id=a["client_id"],
                    question_id=a["question"]["id"],
                    value=a["value"],
                )
            )
            for a, participant_id in zip(answers, ids, strict=True)
        ]
        outcomes = await asyncio.gather(*tasks)
        assert self.writer.batches == before + 1, "the answers were not written as one batch"
        return list(outcomes)

    async def one(
        self, joined: dict[str, Any], question: dict[str, Any], value: Any, client_id: str
    ) -> Outcome:
        (outcome,) = await self.batch(self.answer(joined, question, value, client_id))
        return outcome

    async def submit_as(
        self, participant_id: str, session: dict[str, Any], question: dict[str, Any]
    ) -> Outcome:
        return await self.writer.submit(
            session_id=session["id"],
            participant_id=participant_id,
            client_id="x1",
            question_id=question["id"],
            value=choice(question, 0),
        )

    async def stored(self, joined: dict[str, Any], question: dict[str, Any]) -> Stored | None:
        participant_id = await self.api.participant_id(joined)
        async with self.api.app.state.database.read_session() as db:
            answer = await db.get(Answer, (question["id"], participant_id))
            items = set(
                (
                    await db.scalars(
                        select(AnswerItem.item).where(
                            AnswerItem.question_id == question["id"],
                            AnswerItem.participant_id == participant_id,
                        )
                    )
                ).all()
            )
            receipts = set(
                (
                    await db.scalars(
                        select(AnswerReceipt.client_id).where(AnswerReceipt.participant_id == participant_id)
                    )
                ).all()
            )
        if answer is None:
            assert not items and not receipts
            return None
        return Stored(answer.value, answer.declined, items, receipts)

    async def answer_count(self) -> int:
        async with self.api.app.state.database.read_session() as db:
            return int(await db.scalar(select(func.count()).select_from(Answer)) or 0)


@pytest.fixture
async def writing(api: Api) -> AsyncIterator[Writing]:
    hub = Hub(MemoryBackend())
    await hub.start()
    writer = AnswerWriter(api.app.state.database, hub, batch_max=500)
    await writer.start()
    yield Writing(api, await api.quick_facilitator(), writer)
    await writer.stop()
    await hub.stop()


async def open_question(
    api: Api, auth: dict[str, str], **settings: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    session = await api.create_session(auth, min_group=3, **settings)
    return session, await api.live_question(auth, session, options=["A", "B", "C"])


def option(question: dict[str, Any], index: int) -> str:
    return str(question["options"][index]["id"])


class TestAccepted:
    async def test_answer_is_stored_with_its_items_and_receipt(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        joined = await api.join(session)
        assert (await writing.one(joined, question, choice(question, 1), "a1")).ok
        assert await writing.stored(joined, question) == Stored(
            choice(question, 1), False, {option(question, 1)}, {"a1"}
        )

    async def test_null_is_declined_with_no_items(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        joined = await api.join(session)
        assert (await writing.one(joined, question, None, "a1")).ok
        assert await writing.stored(joined, question) == Stored(None, True, set(), {"a1"})

    async def test_several_choices_when_multiple(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session = await api.create_session(auth, min_group=3)
        question = await api.live_question(auth, session, multiple=True)
        joined = await api.join(session)
        value = {"choices": [option(question, 0), option(question, 2)]}
        assert (await writing.one(joined, question, value, "a1")).ok
        stored = await writing.stored(joined, question)
        assert stored is not None
        assert stored.items == {option(question, 0), option(question, 2)}

    async def test_a_new_answer_replaces_the_earlier_one(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        joined = await api.join(session)
        await writing.one(joined, question, choice(question, 0), "a1")
        assert (await writing.one(joined, question, choice(question, 2), "a2")).ok
        assert await writing.stored(joined, question) == Stored(
            choice(question, 2), False, {option(question, 2)}, {"a1", "a2"}
        )

    async def test_declining_after_answering_removes_the_items(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        joined = await api.join(session)
        await writing.one(joined, question, choice(question, 0), "a1")
        await writing.one(joined, question, None, "a2")
        assert await writing.stored(joined, question) == Stored(None, True, set(), {"a1", "a2"})

    async def test_answer_after_consent_is_accepted(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth, consent_text="Sheet")
        joined = await api.join(session)
        await api.consent(session, joined)
        assert (await writing.one(joined, question, choice(question, 0), "a1")).ok


class TestBatch:
    async def test_two_answers_to_one_question_keep_the_later(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        joined = await api.join(session)
        outcomes = await writing.batch(
            writing.answer(joined, question, choice(question, 0), "a1"),
            writing.answer(joined, question, choice(question, 1), "a2"),
        )
        assert [o.ok for o in outcomes] == [True, True]
        assert await writing.stored(joined, question) == Stored(
            choice(question, 1), False, {option(question, 1)}, {"a1", "a2"}
        )

    async def test_many_participants_in_one_batch(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        people = [await api.join(session) for _ in range(4)]
        outcomes = await writing.batch(
            *(writing.answer(p, question, choice(question, i % 3), f"a{i}") for i, p in enumerate(people))
        )
        assert all(o.ok for o in outcomes)
        assert await writing.answer_count() == 4

    async def test_a_refusal_does_not_refuse_the_rest(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        first, second = await api.join(session), await api.join(session)
        outcomes = await writing.batch(
            writing.answer(first, question, {"choices": ["nope"]}, "a1"),
            writing.answer(second, question, choice(question, 0), "a1"),
        )
        assert [o.code for o in outcomes] == ["unknown_option", ""]
        assert await writing.stored(first, question) is None
        assert await writing.stored(second, question) is not None

    async def test_the_same_id_twice_in_one_batch_keeps_the_first(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        joined = await api.join(session)
        outcomes = await writing.batch(
            writing.answer(joined, question, choice(question, 0), "a1"),
            writing.answer(joined, question, choice(question, 1), "a1"),
        )
        assert [o.ok for o in outcomes] == [True, True]
        assert await writing.stored(joined, question) == Stored(
            choice(question, 0), False, {option(question, 0)}, {"a1"}
        )


class TestReplay:
    async def test_replayed_id_in_a_later_batch_acks_and_changes_nothing(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        joined = await api.join(session)
        await writing.one(joined, question, choice(question, 0), "a1")
        outcomes = await writing.batch(writing.answer(joined, question, choice(question, 1), "a1"))
        assert outcomes == [Outcome(ok=True)]
        assert await writing.stored(joined, question) == Stored(
            choice(question, 0), False, {option(question, 0)}, {"a1"}
        )

    async def test_older_id_after_a_newer_answer_changes_nothing(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        joined = await api.join(session)
        await writing.one(joined, question, choice(question, 0), "a1")
        await writing.one(joined, question, choice(question, 1), "a2")
        assert (await writing.one(joined, question, choice(question, 0), "a1")).ok
        assert await writing.stored(joined, question) == Stored(
            choice(question, 1), False, {option(question, 1)}, {"a1", "a2"}
        )

    async def test_replay_is_acked_even_after_the_question_closed(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        joined = await api.join(session)
        await writing.one(joined, question, choice(question, 0), "a1")
        await api.patch_question(auth, session, question, open=False)
        assert (await writing.one(joined, question, choice(question, 0), "a1")).ok

    async def test_refused_id_is_judged_afresh(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session = await api.create_session(auth, min_group=3)
        question = await api.create_question(auth, session)
        joined = await api.join(session)
        refused = await writing.one(joined, question, choice(question, 0), "a1")
        assert refused.code == "question_not_open"
        await api.patch_question(auth, session, question, open=True)
        assert (await writing.one(joined, question, choice(question, 0), "a1")).ok
        assert await writing.stored(joined, question) == Stored(
            choice(question, 0), False, {option(question, 0)}, {"a1"}
        )

    async def test_the_same_id_from_another_participant_is_a_new_answer(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        first, second = await api.join(session), await api.join(session)
        await writing.one(first, question, choice(question, 0), "a1")
        await writing.one(second, question, choice(question, 1), "a1")
        assert await writing.answer_count() == 2


class TestRefused:
    async def assert_refused(self, writing: Writing, outcome: Outcome, code: str) -> None:
        assert (outcome.ok, outcome.code) == (False, code)
        assert outcome.message
        assert await writing.answer_count() == 0

    async def test_session_closed(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        joined = await api.join(session)
        await api.client.patch(f"/api/sessions/{session['id']}", json={"closed": True}, headers=auth)
        outcome = await writing.one(joined, question, choice(question, 0), "a1")
        await self.assert_refused(writing, outcome, "session_closed")

    async def test_not_participant(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        outcome = await writing.submit_as("0123456789abcdef0123456789abcdef", session, question)
        await self.assert_refused(writing, outcome, "not_participant")

    async def test_participant_of_another_session_is_not_a_participant(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        other, _ = await open_question(api, auth)
        stranger = await api.participant_id(await api.join(other))
        outcome = await writing.submit_as(stranger, session, question)
        await self.assert_refused(writing, outcome, "not_participant")

    async def test_declined_participant_is_not_a_participant(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth, consent_text="Sheet")
        joined = await api.join(session)
        participant_id = await api.participant_id(joined)
        await api.consent(session, joined, agree=False)
        outcome = await writing.submit_as(participant_id, session, question)
        await self.assert_refused(writing, outcome, "not_participant")

    async def test_consent_required(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth, consent_text="Sheet")
        joined = await api.join(session)
        outcome = await writing.one(joined, question, choice(question, 0), "a1")
        await self.assert_refused(writing, outcome, "consent_required")

    async def test_unknown_question(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, _ = await open_question(api, auth)
        _, elsewhere = await open_question(api, auth)
        joined = await api.join(session)
        outcome = await writing.one(joined, elsewhere, choice(elsewhere, 0), "a1")
        await self.assert_refused(writing, outcome, "unknown_question")

    async def test_question_closed(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        joined = await api.join(session)
        await api.patch_question(auth, session, question, open=False)
        outcome = await writing.one(joined, question, choice(question, 0), "a1")
        await self.assert_refused(writing, outcome, "question_closed")

    async def test_question_not_open(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session = await api.create_session(auth, min_group=3)
        question = await api.create_question(auth, session)
        joined = await api.join(session)
        outcome = await writing.one(joined, question, choice(question, 0), "a1")
        await self.assert_refused(writing, outcome, "question_not_open")

    async def test_unknown_option(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        joined = await api.join(session)
        outcome = await writing.one(joined, question, {"choices": ["nope"]}, "a1")
        await self.assert_refused(writing, outcome, "unknown_option")

    async def test_too_many_choices(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        joined = await api.join(session)
        value = {"choices": [option(question, 0), option(question, 1)]}
        outcome = await writing.one(joined, question, value, "a1")
        await self.assert_refused(writing, outcome, "too_many_choices")

    async def test_invalid_answer(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        joined = await api.join(session)
        outcome = await writing.one(joined, question, {"ratings": {"s1": 3}}, "a1")
        await self.assert_refused(writing, outcome, "invalid_answer")

    async def test_refused_answer_leaves_no_receipt(self, writing: Writing) -> None:
        api, auth = writing.api, writing.auth
        session, question = await open_question(api, auth)
        joined = await api.join(session)
        await writing.one(joined, question, {"choices": ["nope"]}, "a1")
        assert await writing.stored(joined, question) is None
