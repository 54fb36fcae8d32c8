"""Template files: every refusal names the line that is wrong; what is accepted."""

from __future__ import annotations

import json

import pytest

from app.polls.template_files import MAX_BYTES, TemplateError, parse

GOOD = {
    "thirdspace_template": 1,
    "title": "Reflection workshop",
    "settings": {"min_group": 3},
    "questions": [{"kind": "choice", "prompt": "Warm-up?", "options": ["Yes", "No"]}],
    "sections": [
        {
            "title": "Reflections",
            "questions": [
                {"kind": "scale", "prompt": "Agree?", "statements": ["It helped"], "points": 5},
                {"kind": "wordcloud", "prompt": "One word", "max_entries": 3},
            ],
        }
    ],
}


def text(data: object) -> str:
    return json.dumps(data, indent=2)


def refusal(source: str) -> TemplateError:
    with pytest.raises(TemplateError) as refused:
        parse(source)
    return refused.value


def line_of(source: str, needle: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if needle in line)


class TestParse:
    def test_a_good_file_is_read(self) -> None:
        template = parse(text(GOOD))
        assert template.title == "Reflection workshop"
        assert [q.kind for q in template.sections[0].questions] == ["scale", "wordcloud"]

    def test_broken_json_names_its_line(self) -> None:
        source = text(GOOD).replace('"Warm-up?",', '"Warm-up?"', 1)
        error = refusal(source)
        assert error.line == line_of(source, '"Warm-up?"') + 1
        assert "not valid JSON" in error.message

    def test_a_file_that_is_not_a_template_is_refused(self) -> None:
        error = refusal(text({"title": "x"}))
        assert "thirdspace_template" in error.message

    def test_an_option_too_long_names_its_line(self) -> None:
        data = json.loads(text(GOOD))
        data["questions"][0]["options"] = ["Yes", "n" * 201]
        source = text(data)
        error = refusal(source)
        assert error.line == line_of(source, "nnnn")
        assert "questions > item 1 > options > item 2" in error.message
        assert "200" in error.message

    def test_an_unknown_kind_names_its_line(self) -> None:
        data = json.loads(text(GOOD))
        data["sections"][0]["questions"][1]["kind"] = "poll"
        source = text(data)
        error = refusal(source)
        assert (
            error.line == line_of(source, '"kind": "poll"') - 0
            or error.line == line_of(source, '"kind": "poll"') - 1
        )

    def test_a_missing_field_names_the_question(self) -> None:
        data = json.loads(text(GOOD))
        del data["sections"][0]["questions"][0]["statements"]
        source = text(data)
        error = refusal(source)
        assert error.line == line_of(source, '"prompt": "Agree?"') - 2
        assert "statements" in error.message

    def test_an_unknown_field_names_its_line(self) -> None:
        data = json.loads(text(GOOD))
        data["sections"][0]["colour"] = "red"
        source = text(data)
        error = refusal(source)
        assert error.line == line_of(source, '"colour"')
        assert "colour" in error.message

    def test_a_section_id_is_refused(self) -> None:
        data = json.loads(text(GOOD))
        data["questions"][0]["section_id"] = "abc"
        source = text(data)
        error = refusal(source)
        assert error.line == line_of(source, '"section_id"')

    def test_k_below_3_names_its_line(self) -> None:
        data = json.loads(text(GOOD))
        data["settings"]["min_group"] = 2
        source = text(data)
        assert refusal(source).line == line_of(source, '"min_group"')

    def test_a_file_over_1_mib_is_refused_naming_the_limit(self) -> None:
        # Padded with spaces after the JSON (still a good template): exactly the limit is read...
        at_limit = text(GOOD).ljust(MAX_BYTES)
        assert len(at_limit.encode()) == MAX_BYTES == 1024 * 1024
        assert parse(at_limit).title == "Reflection workshop"
        # ...one byte more is refused before it is read, on line 1, with the limit in the sentence.
        error = refusal(at_limit + " ")
        assert (error.line, error.message) == (
            1,
            "The file is larger than 1024 KiB; a template is far smaller.",
        )

    def test_the_limit_counts_bytes_not_characters(self) -> None:
        data = json.loads(text(GOOD))
        data["title"] = "é" * 200  # two bytes each in UTF-8
        source = json.dumps(data, indent=2, ensure_ascii=False)
        padded = source.ljust(MAX_BYTES - 199)  # 199 characters under the limit, one byte over it
        assert len(padded) < MAX_BYTES == len(padded.encode()) - 1
        assert "1024 KiB" in refusal(padded).message
