"""Properties (hypothesis, derandomised: the same examples on every run) of the counting kinds, through
the real writer and database: summaries do not depend on the order answers arrive in; changing an
answer moves exactly one participant; resending the same answer moves nothing. And word-cloud
normalisation is idempotent.

The app runs on its own event loop in a thread, so each hypothesis example (a plain function call)
can drive it without touching pytest-asyncio's loop."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.config import Settings
from app.main import create_app
from app.polls import aggregation, results
from app.polls.models import Question
from app.polls.text import words
from tests.databases import PostgresDatabases, SqliteDatabases
from tests.factories import Api

T = TypeVar("T")
K = 3
PEOPLE = 6
PROPERTY = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# One question of each counting kind; the values below are built from its config.
QUESTIONS: dict[str, dict[str, Any]] = {
    "choice": {"kind": "choice", "prompt": "Which?", "options": ["A", "B", "C", "D"], "multiple": True},
    "scale": {"kind": "scale", "prompt": "How?", "statements": ["S1", "S2", "S3"], "points": 5},
    "ranking": {"kind": "ranking", "prompt": "Order", "options": ["X", "Y", "Z"]},
    "wordcloud": {"kind": "wordcloud", "prompt": "Word", "max_entries": 3},
}
WORDS = [
    "Community",
    "community",
    "COMMUNITIES",
    "trust",
    "Trust",
    "care",
    "hope",
    "the",
    "belonging",
    "Care",
]


class World:
    """The app on its own loop in a thread, with an HTTP client and the factories on that loop."""

    def __init__(self, database_url: str, base: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        # Every message a new id: a repeated id would be a replay, acked without a change.
        self.ids = itertools.count()
        self.thread.start()
        self.app = create_app(
            Settings(
                ENVIRONMENT="development",
                DATA_DIR=base,
                DATABASE_URL=database_url,
                SECRET_KEY="test-secret-key-that-is-long-enough-0123456789",
                PUBLIC_URL="http://testserver",
            )
        )
        self.lifespan = self.app.router.lifespan_context(self.app)
        self.run(self._start())

    async def _start(self) -> None:
        await self.lifespan.__aenter__()
        await self.app.state.ticker.stop()  # the properties take their steps themselves
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://testserver"
        )
        self.api = Api(self.client, self.app)
        self.auth = await self.api.quick_facilitator()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(120)

    def close(self) -> None:
        async def stop() -> None:
            await self.client.aclose()
            await self.lifespan.__aexit__(None, None, None)

        self.run(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    # Scenarios, on the world's loop.

    async def poll(self, kind: str) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
        session = await self.api.create_session(self.auth, min_group=K)
        question = await self.api.open_question(self.auth, session, **QUESTIONS[kind])
        # One at a time: the client holds the session's participant cookie, which a join that sends it
        # would continue instead of making a new participant (Api.join drops it first).
        people = [await self.api.join(session) for _ in range(PEOPLE)]
        return session, question, people

    async def send(
        self, people: list[dict[str, Any]], question: dict[str, Any], sends: list[tuple[int, Any]]
    ) -> None:
        for who, value in sends:
            outcome = await self.api.submit(
                people[who], question, concrete(value, question), f"s{next(self.ids)}"
            )
            assert outcome.ok, (outcome, value)

    async def exact(self, question: dict[str, Any]) -> dict[str, Any]:
        async with self.app.state.database.read_session() as db:
            row = await db.get(Question, question["id"])
            assert row is not None
            counted = await results.count(db, row)
        return {"n": counted.n, "summary": positional(counted.summary, question)}

    async def last_change(self, question: dict[str, Any]) -> int:
        async with self.app.state.database.read_session() as db:
            return await aggregation.last_change_id(db, question_id=question["id"])

    async def changed_since(self, question: dict[str, Any], since: int) -> int:
        """How many participants the k step counts as changed since that change."""
        async with self.app.state.database.read_session() as db:
            return (await aggregation.changes_since(db, question_id=question["id"], since=since)).participants


@pytest.fixture(scope="module")
def world(
    databases: SqliteDatabases | PostgresDatabases, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    base = tmp_path_factory.mktemp("properties")
    w = World(databases.fresh(base), base)
    yield w
    w.close()


# Values are drawn by position (option 0, statement 1, ...) and made concrete with the question's ids.


def values(kind: str) -> st.SearchStrategy[Any]:
    if kind == "choice":
        return st.sets(st.integers(0, 3), min_size=1).map(lambda s: ("choice", sorted(s)))
    if kind == "scale":
        rating = st.one_of(st.none(), st.integers(1, 5))
        return st.dictionaries(st.integers(0, 2), rating, min_size=1).map(lambda d: ("scale", d))
    if kind == "ranking":
        return st.permutations([0, 1, 2]).map(lambda p: ("ranking", list(p)))
    return (
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)
        .filter(lambda ws: any(w != "the" for w in ws))
        .map(lambda ws: ("wordcloud", ws))
    )


def answer_values(kind: str) -> st.SearchStrategy[Any]:
    """An answer, or (one time in six) "prefer not to answer"."""
    return st.one_of(values(kind), values(kind), values(kind), values(kind), values(kind), st.none())


def concrete(value: Any, question: dict[str, Any]) -> Any:
    if value is None:
        return None
    kind, v = value
    if kind == "choice":
        return {"choices": [question["options"][i]["id"] for i in v]}
    if kind == "scale":
        return {"ratings": {question["statements"][i]["id"]: r for i, r in v.items()}}
    if kind == "ranking":
        return {"order": [question["options"][i]["id"] for i in v]}
    return {"words": v}


def positional(summary: Any, question: dict[str, Any]) -> Any:
    """The summary with the question's option and statement ids replaced by their positions, so the
    summaries of two questions asked the same way compare equal."""
    ids = {
        item["id"]: f"#{i}"
        for key in ("options", "statements")
        for i, item in enumerate(question.get(key, []))
    }
    if isinstance(summary, dict):
        return {ids.get(k, k): positional(v, question) for k, v in summary.items()}
    if isinstance(summary, list):
        return [positional(v, question) for v in summary]
    return summary


def histories(kind: str) -> st.SearchStrategy[dict[int, list[Any]]]:
    """Each participant's answers in the order they sent them (the last one counts)."""
    return st.dictionaries(
        st.integers(0, PEOPLE - 1), st.lists(answer_values(kind), min_size=1, max_size=3), min_size=1
    )


def interleaving(history: dict[int, list[Any]], draw: Any) -> list[tuple[int, Any]]:
    """One order of every send in which each participant's own sends keep their order."""
    queues = {who: list(sends) for who, sends in history.items()}
    order: list[tuple[int, Any]] = []
    while queues:
        who = draw(st.sampled_from(sorted(queues)))
        order.append((who, queues[who].pop(0)))
        if not queues[who]:
            del queues[who]
    return order


KINDS = sorted(QUESTIONS)


class TestOrder:
    @pytest.mark.parametrize("kind", KINDS)
    def test_summaries_do_not_depend_on_the_order_answers_arrive_in(self, world: World, kind: str) -> None:
        @PROPERTY
        @given(history=histories(kind), data=st.data())
        def prop(history: dict[int, list[Any]], data: st.DataObject) -> None:
            first = interleaving(history, data.draw)
            second = interleaving(history, data.draw)

            async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
                _, q1, people1 = await world.poll(kind)
                await world.send(people1, q1, first)
                _, q2, people2 = await world.poll(kind)
                await world.send(people2, q2, second)
                return await world.exact(q1), await world.exact(q2)

            one, other = world.run(scenario())
            assert one == other, (first, second, one, other)

        prop()


class TestChanges:
    @pytest.mark.parametrize("kind", KINDS)
    def test_changing_an_answer_moves_exactly_one_participant(self, world: World, kind: str) -> None:
        @PROPERTY
        @given(
            answers=st.lists(values(kind), min_size=K, max_size=PEOPLE),
            who=st.integers(0, PEOPLE - 1),
            new=answer_values(kind),
        )
        def prop(answers: list[Any], who: int, new: Any) -> None:
            who = who % len(answers)

            async def scenario() -> tuple[int, dict[str, Any], dict[str, Any]]:
                _, question, people = await world.poll(kind)
                await world.send(people, question, list(enumerate(answers)))
                since = await world.last_change(question)
                await world.send(people, question, [(who, new)])
                after = await world.exact(question)
                # The same final answers, written straight: what the change must equal.
                _, alone, others = await world.poll(kind)
                final = list(enumerate(answers))
                final[who] = (who, new)
                await world.send(others, alone, final)
                return await world.changed_since(question, since), after, await world.exact(alone)

            changes, after, expected = world.run(scenario())
            # The change is counted as one participant's (none if it was the same value), and the
            # result moves to exactly what those final answers give.
            assert changes == (0 if same(answers[who], new) else 1), (answers, who, new, changes)
            assert after == expected, (answers, who, new, after, expected)

        prop()

    @pytest.mark.parametrize("kind", KINDS)
    def test_resending_the_same_answer_moves_nothing(self, world: World, kind: str) -> None:
        @PROPERTY
        @given(
            answers=st.lists(answer_values(kind), min_size=1, max_size=PEOPLE), who=st.integers(0, PEOPLE - 1)
        )
        def prop(answers: list[Any], who: int) -> None:
            who = who % len(answers)

            async def scenario() -> tuple[int, dict[str, Any], dict[str, Any]]:
                _, question, people = await world.poll(kind)
                await world.send(people, question, list(enumerate(answers)))
                since = await world.last_change(question)
                before = await world.exact(question)
                # The same value under a new id, in another order where the kind has one.
                await world.send(people, question, [(who, reordered(answers[who]))])
                return await world.changed_since(question, since), before, await world.exact(question)

            changes, before, after = world.run(scenario())
            assert (changes, after) == (0, before), (answers, who, changes, before, after)

        prop()


def same(one: Any, other: Any) -> bool:
    """Whether two drawn answers are the same stored value (scale ratings compare as dicts)."""
    if one is None or other is None:
        return one is other
    if one[0] == "wordcloud":
        return sorted(one[1]) == sorted(other[1])
    return bool(one == other)


def reordered(value: Any) -> Any:
    """The same answer listed in another order (choices, ratings and words have no order)."""
    if value is None:
        return None
    kind, v = value
    if kind in ("choice", "wordcloud"):
        return (kind, list(reversed(v)))
    if kind == "scale":
        return (kind, dict(reversed(list(v.items()))))
    return value


class TestNormalisation:
    @PROPERTY
    @given(text=st.text(max_size=50))
    def test_cleaning_is_idempotent(self, text: str) -> None:
        assert words.clean(words.clean(text)) == words.clean(text)

    @settings(max_examples=400, deadline=None, derandomize=True, database=None)
    @given(
        text=st.one_of(
            st.text(max_size=40),
            st.lists(
                st.sampled_from([*WORDS, "Häuser", "mice", "better", "ﬁsh", "Straße", " \u200b"]), max_size=3
            ).map(" ".join),
        ),
        language=st.sampled_from(["en", "de", "fr", "cy"]),
    )
    def test_normalisation_is_idempotent(self, text: str, language: str) -> None:
        try:
            word = words.normalise(text, language)
        except words.AnswerRejected:
            return
        if word is None:
            return
        again = words.normalise(word.key, language)
        assert again is not None and again.key == word.key
        # And the spelling shown normalises to the same word.
        assert words.normalise(word.text, language) == word
