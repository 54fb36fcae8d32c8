"""The OpenAPI at /openapi.json describes what the routes do: typed replies, every refusal in the one
error shape, request schemas that say what is refused, and an Allow header that names every method of
a path. (tests/test_openapi_fuzz.py runs schemathesis over all of it.)"""

from __future__ import annotations

import re
import sys
from typing import Any

import pytest

from app.fields import NOT_ONLY_SPACES, SPACES
from tests.factories import Api, assert_error

ERROR_REF = "#/components/schemas/ErrorPublic"


async def _openapi(api: Api) -> dict[str, Any]:
    r = await api.client.get("/openapi.json")
    assert r.status_code == 200
    return dict(r.json())


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    ]


class TestDescribed:
    async def test_every_route_has_a_typed_reply(self, api: Api) -> None:
        operations = _operations(await _openapi(api))
        # 12, the two moderation routes of the entries, the research routes (issue 9), the session's
        # plan (issue 8, 12: edit, delete, order, reset, countdown, five of sections, template, import),
        # the breakout rounds (issue 10, 8) and logging out (issue 11).
        assert len(operations) == 45
        downloads = {"/api/sessions/{session_id}/export.zip", "/api/sessions/{session_id}/export.csv"}
        for method, path, operation in operations:
            (status,) = [s for s in operation["responses"] if s.startswith("2")]
            if status == "204":
                assert "content" not in operation["responses"][status], (method, path)
                continue
            if path in downloads:
                (media,) = operation["responses"][status]["content"]
                assert media in ("application/zip", "text/csv"), (method, path)
                continue
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            refs = [schema.get("$ref"), schema.get("items", {}).get("$ref")]
            refs += [member.get("$ref") for member in schema.get("oneOf", [])]  # a union by kind
            refs += [member.get("$ref") for member in schema.get("anyOf", [])]  # a group's or the whole
            typed = [ref for ref in refs if ref]
            assert typed and all(ref.endswith("Public") for ref in typed), f"{method} {path}: {schema}"

    async def test_every_refusal_is_the_one_error_shape(self, api: Api) -> None:
        for method, path, operation in _operations(await _openapi(api)):
            refusals = {s: r for s, r in operation["responses"].items() if s.startswith("4")}
            assert refusals, f"{method} {path} documents no refusal"
            for status, response in refusals.items():
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, f"{method} {path} {status}: {schema}"

    async def test_facilitator_routes_document_their_credentials(self, api: Api) -> None:
        schema = await _openapi(api)
        assert set(schema["components"]["securitySchemes"]) == {
            "AccessToken",
            "LoginCookie",
            "ParticipantToken",
        }
        for method, path, operation in _operations(schema):
            if path.startswith("/api/sessions") and not path.endswith(("/consent", "/withdraw")):
                assert operation["security"] == [{"AccessToken": []}, {"LoginCookie": []}], (method, path)
                assert {"401", "403"} <= set(operation["responses"]), (method, path)

    async def test_question_kinds_are_a_union_by_kind(self, api: Api) -> None:
        schema = await _openapi(api)
        body = schema["paths"]["/api/sessions/{session_id}/questions"]["post"]["requestBody"]
        union = body["content"]["application/json"]["schema"]
        assert union["discriminator"]["propertyName"] == "kind"
        kinds = {"choice", "scale", "wordcloud", "open", "ranking", "qa"}
        assert set(union["discriminator"]["mapping"]) == kinds
        reply = schema["paths"]["/api/sessions/{session_id}/questions"]["post"]["responses"]["201"]
        reply_union = reply["content"]["application/json"]["schema"]
        assert reply_union["discriminator"]["propertyName"] == "kind"
        assert set(reply_union["discriminator"]["mapping"]) == kinds

    async def test_the_rule_json_schema_cannot_say_is_in_the_description(self, api: Api) -> None:
        paths = (await _openapi(api))["paths"]
        operation = paths["/api/sessions/{session_id}/questions"]["post"]
        assert "ignoring case" in operation["description"]
        # PATCH a question: which kinds take `show_comments` and `hidden_words` depends on the question
        # in the path, which a request schema cannot say (tests/test_openapi_fuzz.py skips that check
        # there alone); the description says it, with every refusal of a hidden word and what a closed
        # session still accepts.
        edit = paths["/api/sessions/{session_id}/questions/{question_id}"]["patch"]
        described = " ".join(edit["description"].split())  # one line: a docstring wraps anywhere
        assert "JSON Schema cannot say" in described
        assert "`show_comments`" in described and 'with `"comments": true`' in described
        assert "`hidden_words`" in described and "word clouds only" in described
        assert "empty once normalised" in described and "stopword" in described
        assert "`422`" in described and "`error.fields`" in described
        assert "closed session" in described
        assert "`show_comments` and `hidden_words`" in " ".join(
            edit["responses"]["409"]["description"].split()
        )


class TestRequestSchemas:
    async def test_min_group_is_a_whole_number_and_13_0_reads_as_13(self, api: Api) -> None:
        schema = (await _openapi(api))["components"]["schemas"]["SessionSettingsIn"]["properties"][
            "min_group"
        ]
        assert (schema["type"], schema["minimum"], schema["maximum"]) == ("integer", 3, 1000)
        auth = await api.quick_facilitator()
        r = await api.client.post(
            "/api/sessions", json={"title": "T", "settings": {"min_group": 13.0}}, headers=auth
        )
        assert r.status_code == 201, r.text
        assert r.json()["settings"]["min_group"] == 13

    @pytest.mark.parametrize("value", ["13", True, 13.5, 2, 1001])
    async def test_what_is_not_a_whole_number_from_3_to_1000_is_refused(self, api: Api, value: Any) -> None:
        r = await api.client.post(
            "/api/sessions",
            json={"title": "T", "settings": {"min_group": value}},
            headers=await api.quick_facilitator(),
        )
        assert_error(r, 422, "invalid", fields={"settings.min_group"})

    @pytest.mark.parametrize("title", ["   ", "\u00a0\u3000", "\t\n"])
    async def test_a_title_of_only_spaces_is_refused_as_the_schema_says(self, api: Api, title: str) -> None:
        pattern = (await _openapi(api))["components"]["schemas"]["SessionCreate"]["properties"]["title"][
            "pattern"
        ]
        assert re.search(pattern, title) is None
        r = await api.client.post(
            "/api/sessions", json={"title": title}, headers=await api.quick_facilitator()
        )
        assert_error(r, 422, "invalid", fields={"title"})

    async def test_a_title_with_spaces_around_it_is_kept_without_them(self, api: Api) -> None:
        r = await api.client.post(
            "/api/sessions", json={"title": "\u3000 Workshop \t"}, headers=await api.quick_facilitator()
        )
        assert r.status_code == 201, r.text
        assert r.json()["title"] == "Workshop"

    def test_the_spaces_are_exactly_what_python_strips(self) -> None:
        assert {c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()} == set(SPACES)
        assert all(re.search(NOT_ONLY_SPACES, c) is None for c in SPACES)
        assert (
            re.search(NOT_ONLY_SPACES, "\u200b") is not None
        )  # a zero-width space is not a space to strip()


class TestAllowHeader:
    async def test_names_every_method_of_the_path(self, api: Api) -> None:
        r = await api.client.request("OPTIONS", "/api/sessions/abc", headers=await api.quick_facilitator())
        assert_error(r, 405, "method_not_allowed")
        assert {m.strip() for m in r.headers["allow"].split(",")} == {"GET", "PATCH", "DELETE"}

    async def test_a_path_with_one_route(self, api: Api) -> None:
        r = await api.client.delete("/api/join")
        assert_error(r, 405, "method_not_allowed")
        assert r.headers["allow"] == "POST"
