"""The choice kind: its stored fields, how an answer is checked, how answers are summarised."""

from __future__ import annotations

from typing import Any

import pytest

from app.polls.kinds import AnswerRejected, choice, kind_of
from app.polls.schemas import ChoiceQuestionCreate


def config(labels: list[str] | None = None, *, multiple: bool = False) -> dict[str, Any]:
    request = ChoiceQuestionCreate(
        kind="choice", prompt="Which?", options=labels or ["A", "B", "C"], multiple=multiple
    )
    return choice.config_from_create(request)


def rejection(cfg: dict[str, Any], value: Any) -> AnswerRejected:
    with pytest.raises(AnswerRejected) as caught:
        choice.accept(cfg, value, language="en")
    return caught.value


class TestConfig:
    def test_options_keep_their_order_with_distinct_ids(self) -> None:
        cfg = config(["Red", "Green", "Blue", "Amber"])
        assert [o["label"] for o in cfg["options"]] == ["Red", "Green", "Blue", "Amber"]
        assert len({o["id"] for o in cfg["options"]}) == 4
        assert cfg["multiple"] is False

    def test_labels_are_stripped(self) -> None:
        assert [o["label"] for o in config(["  A ", "B"])["options"]] == ["A", "B"]

    def test_duplicate_has_new_ids_same_labels(self) -> None:
        cfg = config(["A", "B", "C"], multiple=True)
        copy = choice.duplicate_config(cfg)
        assert [o["label"] for o in copy["options"]] == ["A", "B", "C"]
        assert not {o["id"] for o in copy["options"]} & {o["id"] for o in cfg["options"]}
        assert copy["multiple"] is True

    def test_public_fields(self) -> None:
        cfg = config()
        assert choice.public_fields(cfg, facilitator=False) == {"options": cfg["options"], "multiple": False}

    def test_registry_names_it(self) -> None:
        assert kind_of("choice") is choice


class TestAccept:
    def test_one_choice(self) -> None:
        cfg = config()
        option = cfg["options"][1]["id"]
        accepted = choice.accept(cfg, {"choices": [option]}, language="en")
        assert (accepted.value, accepted.items) == ({"choices": [option]}, [(option, 1)])

    def test_several_choices_when_multiple(self) -> None:
        cfg = config(multiple=True)
        a, _, c = (o["id"] for o in cfg["options"])
        accepted = choice.accept(cfg, {"choices": [c, a]}, language="en")
        # Stored in the question's order, so the same choices sent in another order are the same value.
        assert (accepted.value, accepted.items) == ({"choices": [a, c]}, [(a, 1), (c, 1)])

    def test_several_choices_when_single_is_too_many(self) -> None:
        cfg = config()
        a, b, _ = (o["id"] for o in cfg["options"])
        assert rejection(cfg, {"choices": [a, b]}).code == "too_many_choices"

    def test_unknown_option(self) -> None:
        assert rejection(config(), {"choices": ["nope"]}).code == "unknown_option"

    def test_option_chosen_twice(self) -> None:
        cfg = config(multiple=True)
        a = cfg["options"][0]["id"]
        assert rejection(cfg, {"choices": [a, a]}).code == "invalid_answer"

    @pytest.mark.parametrize(
        "value",
        [
            {"choices": []},
            {"choices": "o1"},
            {"choices": [1]},
            {"choice": ["o1"]},
            {"choices": ["o1"], "extra": 1},
            ["o1"],
            "o1",
        ],
    )
    def test_malformed_value_is_invalid_answer(self, value: Any) -> None:
        assert rejection(config(), value).code == "invalid_answer"


class TestSummarise:
    def test_counts_and_declined_as_stored(self) -> None:
        cfg = config()
        a, b, c = (o["id"] for o in cfg["options"])
        stored = {"counts": {a: 1, b: 0, c: 2}, "declined": 3}
        summary = choice.summarise(cfg, stored, k=3)
        assert summary == {"counts": {a: 1, b: 0, c: 2}, "declined": 3}
        assert list(summary["counts"]) == [a, b, c]
