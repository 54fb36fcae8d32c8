"""Each kind's own rules, without a database: config from create, answer checks (code and sentence),
and the summary with k applied inside it."""

from __future__ import annotations

from typing import Any

import pytest

from app.polls.kinds import AnswerRejected, kind_of, qa, ranking, scale, wordcloud
from app.polls.kinds import open as open_kind
from app.polls.schemas import (
    RankingQuestionCreate,
    ScaleQuestionCreate,
    WordcloudQuestionCreate,
)


def refused(kind: Any, config: dict[str, Any], value: Any) -> str:
    with pytest.raises(AnswerRejected) as caught:
        kind.accept(config, value, language="en")
    assert caught.value.message
    return str(caught.value.code)


def scale_config(points: int = 5, statements: tuple[str, ...] = ("S1", "S2")) -> dict[str, Any]:
    request = ScaleQuestionCreate(kind="scale", prompt="How?", statements=list(statements), points=points)
    return scale.config_from_create(request)


class TestRegistry:
    @pytest.mark.parametrize("name", ["choice", "scale", "wordcloud", "open", "ranking", "qa"])
    def test_every_kind_is_registered_under_its_name(self, name: str) -> None:
        assert kind_of(name).NAME == name


class TestScale:
    def test_statements_get_distinct_ids_in_order(self) -> None:
        config = scale_config(statements=("I feel heard", "I know who to ask", "I would come back"))
        assert [s["text"] for s in config["statements"]] == [
            "I feel heard",
            "I know who to ask",
            "I would come back",
        ]
        assert len({s["id"] for s in config["statements"]}) == 3
        assert (config["points"], config["labels"]) == (5, None)

    def test_duplicate_has_new_statement_ids(self) -> None:
        config = scale_config()
        copy = scale.duplicate_config(config)
        assert [s["text"] for s in copy["statements"]] == ["S1", "S2"]
        assert not {s["id"] for s in copy["statements"]} & {s["id"] for s in config["statements"]}

    def test_ratings_are_stored_in_statement_order_with_prefer_not(self) -> None:
        config = scale_config()
        s1, s2 = (s["id"] for s in config["statements"])
        accepted = scale.accept(config, {"ratings": {s2: None, s1: 4}}, language="en")
        assert accepted.value == {"ratings": {s1: 4, s2: None}}
        assert list(accepted.value["ratings"]) == [s1, s2]
        assert accepted.items == [(s1, 4), (s2, None)]

    def test_some_statements_may_be_left_out(self) -> None:
        config = scale_config()
        s1 = config["statements"][0]["id"]
        assert scale.accept(config, {"ratings": {s1: 1}}, language="en").items == [(s1, 1)]

    @pytest.mark.parametrize("rating", [0, 6, -1, 2.5, 3.0, "3", True, [3]])
    def test_a_rating_outside_1_to_points_or_not_an_integer_is_refused(self, rating: Any) -> None:
        config = scale_config()
        assert (
            refused(scale, config, {"ratings": {config["statements"][0]["id"]: rating}}) == "invalid_rating"
        )

    def test_7_points_take_7(self) -> None:
        config = scale_config(points=7)
        s1 = config["statements"][0]["id"]
        assert scale.accept(config, {"ratings": {s1: 7}}, language="en").items == [(s1, 7)]

    def test_an_unknown_statement_is_refused(self) -> None:
        assert refused(scale, scale_config(), {"ratings": {"nope": 3}}) == "unknown_statement"

    @pytest.mark.parametrize(
        "value", [{"ratings": {}}, {"ratings": []}, {"rating": {}}, [], "3", {"ratings": {}, "x": 1}]
    )
    def test_a_wrong_shape_is_invalid_answer(self, value: Any) -> None:
        assert refused(scale, scale_config(), value) == "invalid_answer"

    def test_labels_must_be_2_or_points(self) -> None:
        ScaleQuestionCreate(kind="scale", prompt="How?", statements=["S"], points=7, labels=["a", "b"])
        ScaleQuestionCreate(kind="scale", prompt="How?", statements=["S"], points=5, labels=list("abcde"))
        with pytest.raises(ValueError, match="give 2 labels"):
            ScaleQuestionCreate(kind="scale", prompt="How?", statements=["S"], points=5, labels=list("abc"))

    def test_statement_figures_from_a_histogram(self) -> None:
        # Ratings 1, 2, 4, 4, 5, 5 and one "prefer not": n 6, mean 21/6, median (4+4)/2, top two 4/6.
        figures = scale.statement_summary({1: 1, 2: 1, 4: 2, 5: 2, None: 1}, 5)
        assert figures == {
            "n": 6,
            "mean": 21 / 6,
            "median": 4.0,
            "agree_pct": 100 * 4 / 6,
            "declined": 1,
            "counts": {"1": 1, "2": 1, "3": 0, "4": 2, "5": 2},
        }

    def test_median_of_an_even_count_is_the_mean_of_the_middle_two(self) -> None:
        assert scale.median_of({2: 1, 3: 1}, 5, 2) == 2.5
        assert scale.median_of({1: 2, 5: 2}, 5, 4) == 3.0
        assert scale.median_of({3: 3}, 5, 3) == 3.0

    def test_agree_pct_of_7_points_is_6_and_7(self) -> None:
        figures = scale.statement_summary({5: 1, 6: 1, 7: 2}, 7)
        assert figures["agree_pct"] == 75.0

    def test_a_statement_rated_by_fewer_than_k_is_null(self) -> None:
        config = scale_config()
        s1, s2 = (s["id"] for s in config["statements"])
        stored = {
            "statements": {s1: scale.statement_summary({3: 3}, 5), s2: scale.statement_summary({3: 2}, 5)},
            "declined": 1,
        }
        summary = scale.summarise(config, stored, k=3)
        assert summary["statements"][s1]["n"] == 3
        assert summary["statements"][s2] is None
        assert summary["declined"] == 1
        assert scale.summarise(config, stored, k=4)["statements"] == {s1: None, s2: None}


def ranking_config(labels: tuple[str, ...] = ("A", "B", "C")) -> dict[str, Any]:
    return ranking.config_from_create(
        RankingQuestionCreate(kind="ranking", prompt="Order", options=list(labels))
    )


class TestRanking:
    def test_every_option_once_gives_ranks(self) -> None:
        config = ranking_config()
        a, b, c = (o["id"] for o in config["options"])
        accepted = ranking.accept(config, {"order": [c, a, b]}, language="en")
        assert accepted.items == [(c, 1), (a, 2), (b, 3)]
        assert accepted.value == {"order": [c, a, b]}

    def test_a_repeated_option_is_refused(self) -> None:
        config = ranking_config()
        a, b, _ = (o["id"] for o in config["options"])
        assert refused(ranking, config, {"order": [a, a, b]}) == "repeated_option"

    def test_an_omitted_option_is_refused(self) -> None:
        config = ranking_config()
        a, b, _ = (o["id"] for o in config["options"])
        assert refused(ranking, config, {"order": [a, b]}) == "incomplete_ranking"

    def test_an_invented_option_is_refused(self) -> None:
        config = ranking_config()
        a, b, _ = (o["id"] for o in config["options"])
        assert refused(ranking, config, {"order": [a, b, "zzz"]}) == "unknown_option"

    @pytest.mark.parametrize(
        "value", [{"order": []}, {"order": "abc"}, {"order": [1, 2, 3]}, {"rank": []}, []]
    )
    def test_a_wrong_shape_is_invalid_answer(self, value: Any) -> None:
        assert refused(ranking, ranking_config(), value) == "invalid_answer"

    def test_2_to_10_options(self) -> None:
        with pytest.raises(ValueError):
            RankingQuestionCreate(kind="ranking", prompt="Order", options=["A"])
        with pytest.raises(ValueError):
            RankingQuestionCreate(kind="ranking", prompt="Order", options=[str(i) for i in range(11)])
        RankingQuestionCreate(kind="ranking", prompt="Order", options=[str(i) for i in range(10)])


def cloud_config(max_entries: int = 3) -> dict[str, Any]:
    return wordcloud.config_from_create(
        WordcloudQuestionCreate(kind="wordcloud", prompt="One word", max_entries=max_entries)
    )


class TestWordcloud:
    def test_words_are_keyed_and_kept_as_typed(self) -> None:
        accepted = wordcloud.accept(cloud_config(), {"words": ["Communities", " trust "]}, language="en")
        assert dict(accepted.words) == {"community": "Communities", "trust": "trust"}
        assert accepted.value == {"words": ["Communities", "trust"]}

    def test_the_same_word_twice_counts_once(self) -> None:
        accepted = wordcloud.accept(cloud_config(), {"words": ["community", "COMMUNITY"]}, language="en")
        assert [key for key, _ in accepted.words] == ["community"]

    def test_the_same_words_in_another_order_are_the_same_value(self) -> None:
        config = cloud_config()
        one = wordcloud.accept(config, {"words": ["trust", "Care"]}, language="en")
        other = wordcloud.accept(config, {"words": ["Care", "trust"]}, language="en")
        assert (one.value, one.words) == (other.value, other.words)

    def test_a_stopword_is_dropped_but_not_every_word_may_be_one(self) -> None:
        accepted = wordcloud.accept(cloud_config(), {"words": ["the", "trust"]}, language="en")
        assert [key for key, _ in accepted.words] == ["trust"]
        assert refused(wordcloud, cloud_config(), {"words": ["the", "And"]}) == "no_words"

    def test_more_words_than_max_entries_is_refused(self) -> None:
        assert refused(wordcloud, cloud_config(2), {"words": ["a1", "b2", "c3"]}) == "too_many_words"

    def test_a_word_over_40_characters_is_refused(self) -> None:
        assert refused(wordcloud, cloud_config(), {"words": ["x" * 41]}) == "word_too_long"
        assert wordcloud.accept(cloud_config(), {"words": ["x" * 40]}, language="en").words

    @pytest.mark.parametrize("word", ["", "   ", "\u200b\u200d", "\u202e\u2066", "\x00\x01"])
    def test_a_word_empty_once_cleaned_is_refused(self, word: str) -> None:
        assert refused(wordcloud, cloud_config(), {"words": [word]}) == "empty_word"

    @pytest.mark.parametrize(
        "value", [{"words": []}, {"words": "trust"}, {"words": [1]}, {"word": ["x"]}, ["x"]]
    )
    def test_a_wrong_shape_is_invalid_answer(self, value: Any) -> None:
        assert refused(wordcloud, cloud_config(), value) == "invalid_answer"

    def test_hidden_words_are_keyed_and_phones_never_see_them(self) -> None:
        config = wordcloud.with_hidden_words(cloud_config(), ["Communities", "community"], language="en")
        assert config["hidden_words"] == ["Communities"]
        assert config["hidden_keys"] == ["community"]
        assert "hidden_words" not in wordcloud.public_fields(config, facilitator=False)
        assert wordcloud.public_fields(config, facilitator=True)["hidden_words"] == ["Communities"]

    def test_summary_keeps_words_of_k_participants_not_hidden(self) -> None:
        config = wordcloud.with_hidden_words(cloud_config(), ["rude"], language="en")
        stored = {
            "words": [
                {"key": "trust", "text": "Trust", "count": 5},
                {"key": "rude", "text": "rude", "count": 5},
                {"key": "care", "text": "care", "count": 3},
            ],
            "declined": 2,
        }
        assert wordcloud.summarise(config, stored, k=4) == {
            "words": [{"text": "Trust", "count": 5}],
            "declined": 2,
        }
        assert [w["text"] for w in wordcloud.summarise(config, stored, k=3)["words"]] == ["Trust", "care"]


class TestFreeText:
    @pytest.mark.parametrize("kind", [open_kind, qa])
    def test_text_is_trimmed_and_cleaned(self, kind: Any) -> None:
        accepted = kind.accept({}, {"text": "  More benches\u202e by the river \x00 "}, language="en")
        assert accepted.entry == "More benches by the river"

    def test_open_takes_500_characters_qa_280(self) -> None:
        assert open_kind.accept({}, {"text": "x" * 500}, language="en").entry == "x" * 500
        assert refused(open_kind, {}, {"text": "x" * 501}) == "text_too_long"
        assert qa.accept({}, {"text": "x" * 280}, language="en").entry == "x" * 280
        assert refused(qa, {}, {"text": "x" * 281}) == "text_too_long"

    @pytest.mark.parametrize("text", ["", "   ", "\u200b", "\n\n"])
    def test_empty_text_is_refused(self, text: str) -> None:
        assert refused(open_kind, {}, {"text": text}) == "empty_text"

    @pytest.mark.parametrize("value", [{"text": 3}, {"words": ["x"]}, "text", {"text": "x", "more": 1}])
    def test_a_wrong_shape_is_invalid_answer(self, value: Any) -> None:
        assert refused(open_kind, {}, value) == "invalid_answer"

    def test_qa_sorts_by_votes_then_newest_first(self) -> None:
        stored = {
            "entries": [
                {"id": "new", "text": "n", "votes": 1, "highlighted": False, "answered": False},
                {"id": "top", "text": "t", "votes": 3, "highlighted": True, "answered": False},
                {"id": "old", "text": "o", "votes": 1, "highlighted": False, "answered": True},
            ],
            "declined": 0,
        }
        assert [e["id"] for e in qa.summarise({}, stored, k=3)["entries"]] == ["top", "new", "old"]
