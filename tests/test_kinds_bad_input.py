"""Issue 7's bad input, over real sockets: each is refused with a clear `<type>.error` (a code and a
sentence) or a 422, and nothing of it is recorded (no answer, word, entry, vote, receipt or change)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.polls.models import Answer, AnswerItem, AnswerReceipt, AnswerWord, Entry, EntryVote, ResultChange
from tests.factories import Api, Socket, assert_error

K = 3


class Room:
    """A session with one open question, one phone on a real socket, and its participant's rows."""

    def __init__(
        self, api: Api, auth: dict[str, str], session: dict[str, Any], question: dict[str, Any]
    ) -> None:
        self.api = api
        self.auth = auth
        self.session = session
        self.question = question
        self.phone: Socket
        self.joined: dict[str, Any]

    async def connect(self) -> Room:
        self.joined = await self.api.join(self.session)
        self.phone = await self.api.phone(self.session, self.joined)
        return self

    async def refused(self, type_: str, data: dict[str, Any], code: str) -> None:
        """The message is refused with this code and a sentence, and records nothing."""
        before = await self.recorded()
        reply = await self.phone.request(type_, {"question_id": self.question["id"], **data}, f"bad-{code}")
        assert reply["type"] == f"{type_}.error", reply
        assert reply["data"]["code"] == code, reply
        assert isinstance(reply["data"]["message"], str) and len(reply["data"]["message"]) > 10
        assert await self.recorded() == before

    async def answer_refused(self, value: Any, code: str) -> None:
        await self.refused("answer", {"value": value}, code)

    async def recorded(self) -> dict[str, int]:
        """How many rows of each kind this participant has."""
        participant_id = await self.api.participant_id(self.joined)
        counts = {}
        async with self.api.app.state.database.read_session() as db:
            for table in (Answer, AnswerItem, AnswerWord, Entry, EntryVote, AnswerReceipt, ResultChange):
                counts[table.__tablename__] = int(
                    await db.scalar(
                        select(func.count()).select_from(table).where(table.participant_id == participant_id)  # type: ignore[attr-defined]
                    )
                    or 0
                )
        return counts


async def room(api: Api, **question: Any) -> Room:
    auth = await api.quick_facilitator()
    session = await api.create_session(auth, min_group=K)
    opened = await api.open_question(auth, session, **question)
    return await Room(api, auth, session, opened).connect()


class TestScale:
    @pytest.fixture
    async def scale(self, live_api: Api) -> Room:
        return await room(live_api, kind="scale", prompt="How?", statements=["S1", "S2"], points=5)

    @pytest.mark.parametrize("rating", [0, 6, -3, 99])
    async def test_ratings_outside_1_to_points(self, scale: Room, rating: int) -> None:
        await scale.answer_refused(
            {"ratings": {scale.question["statements"][0]["id"]: rating}}, "invalid_rating"
        )

    @pytest.mark.parametrize("rating", [2.5, 3.0, "3", True])
    async def test_non_integer_ratings(self, scale: Room, rating: Any) -> None:
        await scale.answer_refused(
            {"ratings": {scale.question["statements"][0]["id"]: rating}}, "invalid_rating"
        )

    async def test_a_statement_that_does_not_exist(self, scale: Room) -> None:
        await scale.answer_refused({"ratings": {"0badc0de": 3}}, "unknown_statement")

    async def test_no_statement_rated(self, scale: Room) -> None:
        await scale.answer_refused({"ratings": {}}, "invalid_answer")

    async def test_a_good_answer_after_the_refusals_is_recorded(self, scale: Room) -> None:
        await scale.answer_refused({"ratings": {"0badc0de": 3}}, "unknown_statement")
        await scale.phone.acked(
            "answer",
            {
                "question_id": scale.question["id"],
                "value": {"ratings": {scale.question["statements"][0]["id"]: 3}},
            },
            "ok",
        )
        assert (await scale.recorded())["answer_item"] == 1


class TestRanking:
    @pytest.fixture
    async def ranking(self, live_api: Api) -> Room:
        return await room(live_api, kind="ranking", prompt="Order", options=["A", "B", "C"])

    def ids(self, ranking: Room) -> list[str]:
        return [o["id"] for o in ranking.question["options"]]

    async def test_a_repeated_option(self, ranking: Room) -> None:
        a, b, _ = self.ids(ranking)
        await ranking.answer_refused({"order": [a, b, a]}, "repeated_option")

    async def test_an_omitted_option(self, ranking: Room) -> None:
        a, b, _ = self.ids(ranking)
        await ranking.answer_refused({"order": [a, b]}, "incomplete_ranking")

    async def test_an_invented_option(self, ranking: Room) -> None:
        a, b, _ = self.ids(ranking)
        await ranking.answer_refused({"order": [a, b, "invented"]}, "unknown_option")


class TestWordcloud:
    @pytest.fixture
    async def cloud(self, live_api: Api) -> Room:
        return await room(live_api, kind="wordcloud", prompt="One word", max_entries=2)

    async def test_more_entries_than_max(self, cloud: Room) -> None:
        await cloud.answer_refused({"words": ["trust", "care", "hope"]}, "too_many_words")

    async def test_an_entry_over_40_characters(self, cloud: Room) -> None:
        await cloud.answer_refused({"words": ["x" * 41]}, "word_too_long")

    async def test_an_entry_far_too_long_is_refused_unread(self, cloud: Room) -> None:
        await cloud.answer_refused({"words": ["\ufdfa" * 1000]}, "word_too_long")

    async def test_an_entry_empty_after_normalisation(self, cloud: Room) -> None:
        await cloud.answer_refused({"words": ["   "]}, "empty_word")

    async def test_an_entry_only_of_control_characters(self, cloud: Room) -> None:
        await cloud.answer_refused({"words": ["\u200b\u200d\u202e\u2066\x07"]}, "empty_word")

    async def test_only_stopwords(self, cloud: Room) -> None:
        await cloud.answer_refused({"words": ["the", "AND"]}, "no_words")


class TestOpen:
    @pytest.fixture
    async def wall(self, live_api: Api) -> Room:
        return await room(live_api, kind="open", prompt="Tell us")

    async def test_text_over_500_characters(self, wall: Room) -> None:
        await wall.answer_refused({"text": "x" * 501}, "text_too_long")

    @pytest.mark.parametrize("text", ["", "     ", "\u200b\u202e"])
    async def test_empty_text(self, wall: Room, text: str) -> None:
        await wall.answer_refused({"text": text}, "empty_text")

    async def test_a_comment_where_comments_are_off(self, wall: Room) -> None:
        await wall.refused("comment", {"text": "hello"}, "comments_off")


class TestQa:
    @pytest.fixture
    async def qa(self, live_api: Api) -> Room:
        return await room(live_api, kind="qa", prompt="Ask")

    async def asked(self, qa: Room) -> str:
        """A question asked (and approved: the Q&A is not moderated) by another participant."""
        other = await qa.api.phone(qa.session)
        await other.acked("answer", {"question_id": qa.question["id"], "value": {"text": "Why now?"}}, "ask")
        (entry,) = await qa.api.entries(qa.auth, qa.session, qa.question)
        assert entry["status"] == "approved"
        return str(entry["id"])

    async def test_a_question_over_280_characters(self, qa: Room) -> None:
        await qa.answer_refused({"text": "x" * 281}, "text_too_long")

    async def test_a_second_upvote(self, qa: Room) -> None:
        entry_id = await self.asked(qa)
        await qa.phone.acked("upvote", {"question_id": qa.question["id"], "entry_id": entry_id}, "first")
        await qa.refused("upvote", {"entry_id": entry_id}, "already_voted")

    async def test_an_upvote_of_ones_own_question(self, qa: Room) -> None:
        # Participants upvote each other's questions (docs/protocol.md), never their own.
        await qa.phone.acked("answer", {"question_id": qa.question["id"], "value": {"text": "Mine?"}}, "ask")
        (entry,) = await qa.api.entries(qa.auth, qa.session, qa.question)
        await qa.refused("upvote", {"entry_id": entry["id"]}, "own_entry")
        # Someone else's vote for it is still taken.
        other = await qa.api.phone(qa.session)
        await other.acked("upvote", {"question_id": qa.question["id"], "entry_id": entry["id"]}, "theirs")

    @pytest.mark.parametrize("status", ["hidden", "archived"])
    async def test_an_upvote_of_a_hidden_or_archived_question(self, qa: Room, status: str) -> None:
        entry_id = await self.asked(qa)
        r = await qa.api.moderate(qa.auth, qa.session, qa.question, entry_id, status=status)
        assert r.status_code == 200
        await qa.refused("upvote", {"entry_id": entry_id}, "entry_not_visible")

    async def test_an_upvote_of_a_question_that_does_not_exist(self, qa: Room) -> None:
        await qa.refused("upvote", {"entry_id": "0123456789abcdef"}, "unknown_entry")

    async def test_an_upvote_on_a_question_that_is_not_a_qa(self, live_api: Api) -> None:
        choice = await room(live_api, kind="choice", prompt="Which?", options=["A", "B"])
        await choice.refused("upvote", {"entry_id": "0123456789abcdef"}, "not_qa")

    @pytest.mark.parametrize("action", ["entry.update", "moderate", "highlight", "approve"])
    async def test_a_participant_cannot_send_a_facilitators_action(self, qa: Room, action: str) -> None:
        entry_id = await self.asked(qa)
        before = await qa.recorded()
        await qa.phone.send(
            action, {"question_id": qa.question["id"], "entry_id": entry_id, "highlighted": True}, "x"
        )
        error = await qa.phone.expect("error")
        assert error["data"]["code"] == "unknown_type"
        assert await qa.recorded() == before
        (entry,) = await qa.api.entries(qa.auth, qa.session, qa.question)
        assert (entry["status"], entry["highlighted"]) == ("approved", False)

    async def test_a_participant_token_cannot_use_the_moderation_routes(self, qa: Room) -> None:
        entry_id = await self.asked(qa)
        token = {"Authorization": f"Bearer {qa.joined['participant_token']}"}
        r = await qa.api.moderate(token, qa.session, qa.question, entry_id, highlighted=True)
        assert_error(r, 401, "not_authenticated")
        r = await qa.api.client.get(
            f"/api/sessions/{qa.session['id']}/questions/{qa.question['id']}/entries", headers=token
        )
        assert_error(r, 401, "not_authenticated")
        (entry,) = await qa.api.entries(qa.auth, qa.session, qa.question)
        assert entry["highlighted"] is False


class TestMalformedMessages:
    @pytest.fixture
    async def qa(self, live_api: Api) -> Room:
        return await room(live_api, kind="qa", prompt="Ask", comments=True)

    @pytest.mark.parametrize(
        ("type_", "data"),
        [
            ("upvote", {"entry_id": 5}),
            ("upvote", {}),
            ("comment", {"text": 5}),
            ("comment", {"text": "hi", "extra": 1}),
            ("answer", {}),
        ],
    )
    async def test_wrong_data_is_malformed_for_its_type(
        self, qa: Room, type_: str, data: dict[str, Any]
    ) -> None:
        await qa.refused(type_, data, f"malformed_{type_}")

    async def test_a_comment_over_500_characters(self, qa: Room) -> None:
        await qa.refused("comment", {"text": "y" * 501}, "text_too_long")

    async def test_an_upvote_without_an_id(self, qa: Room) -> None:
        await qa.phone.send("upvote", {"question_id": qa.question["id"], "entry_id": "x"})
        assert (await qa.phone.expect("error"))["data"]["code"] == "missing_id"


class TestCreateRefusals:
    """Bad question requests: 422 naming the field, and no question made."""

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"kind": "scale", "prompt": "How?", "statements": []}, "statements"),
            ({"kind": "scale", "prompt": "How?", "statements": ["A", "a"]}, "statements"),
            ({"kind": "scale", "prompt": "How?", "statements": ["A"], "points": 6}, "points"),
            (
                {
                    "kind": "scale",
                    "prompt": "How?",
                    "statements": ["A"],
                    "points": 5,
                    "labels": ["a", "b", "c"],
                },
                "labels",
            ),
            ({"kind": "scale", "prompt": "How?", "statements": ["x" * 301]}, "statements.0"),
            ({"kind": "wordcloud", "prompt": "Word", "max_entries": 0}, "max_entries"),
            ({"kind": "wordcloud", "prompt": "Word", "max_entries": 11}, "max_entries"),
            ({"kind": "wordcloud", "prompt": "Word", "max_entries": "3"}, "max_entries"),
            ({"kind": "ranking", "prompt": "Order", "options": ["A"]}, "options"),
            ({"kind": "ranking", "prompt": "Order", "options": [str(i) for i in range(11)]}, "options"),
            ({"kind": "open", "prompt": "Tell", "moderated": "yes"}, "moderated"),
            ({"kind": "qa", "prompt": "Ask", "options": ["A", "B"]}, "options"),
            ({"kind": "choice", "prompt": "Which?", "options": ["A", "B"], "comments": 1}, "comments"),
        ],
    )
    async def test_is_422(self, api: Api, body: dict[str, Any], field: str) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        r = await api.client.post(f"/api/sessions/{session['id']}/questions", json=body, headers=auth)
        assert_error(r, 422, "invalid", fields={field})
        shown = await api.client.get(f"/api/sessions/{session['id']}", headers=auth)
        assert shown.json()["questions"] == []
