"""Sections and templates [F]: sections in the session, template export, import, round trip, and the
refusal of a broken file with its line."""

from __future__ import annotations

import json
from typing import Any

from tests.factories import Api, assert_error

TEMPLATE: dict[str, Any] = {
    "thirdspace_template": 1,
    "title": "Reflection workshop",
    "settings": {"min_group": 3, "language": "en", "consent_text": "We keep answers anonymously."},
    "questions": [{"kind": "choice", "prompt": "Warm-up?", "options": ["Yes", "No"], "multiple": False}],
    "sections": [
        {
            "title": "Reflections",
            "questions": [
                {
                    "kind": "scale",
                    "prompt": "Agree?",
                    "statements": ["It helped"],
                    "points": 5,
                    "labels": ["Disagree", "Agree"],
                },
                {"kind": "wordcloud", "prompt": "One word", "max_entries": 3},
                {"kind": "open", "prompt": "What next?", "moderated": True},
                {"kind": "ranking", "prompt": "Rank", "options": ["A", "B"]},
                {"kind": "qa", "prompt": "Questions?", "comments": True},
            ],
        },
        {"title": "Empty for now", "questions": []},
    ],
}


async def import_text(api: Api, auth: dict[str, str], text: str) -> Any:
    return await api.client.post(
        "/api/sessions/import", content=text, headers={**auth, "Content-Type": "application/json"}
    )


class TestSections:
    async def test_questions_belong_to_ordered_sections(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        base = f"/api/sessions/{session['id']}"
        one = (await api.client.post(f"{base}/sections", json={"title": "Arrival"}, headers=auth)).json()
        two = (await api.client.post(f"{base}/sections", json={"title": "Reflection"}, headers=auth)).json()
        assert (one["position"], two["position"]) == (1, 2)
        q = await api.add_question(
            auth, session, kind="choice", prompt="Here?", options=["Yes", "No"], section_id=two["id"]
        )
        assert q["section_id"] == two["id"]
        r = await api.client.patch(f"{base}/sections/{one['id']}", json={"title": "Welcome"}, headers=auth)
        assert r.json()["title"] == "Welcome"
        detail = (await api.client.get(base, headers=auth)).json()
        assert [s["title"] for s in detail["sections"]] == ["Welcome", "Reflection"]

    async def test_a_section_of_another_session_is_refused(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        other = await api.create_session(auth)
        section = (
            await api.client.post(f"/api/sessions/{other['id']}/sections", json={"title": "X"}, headers=auth)
        ).json()
        r = await api.client.post(
            f"/api/sessions/{session['id']}/questions",
            json={"kind": "open", "prompt": "Hm?", "section_id": section["id"]},
            headers=auth,
        )
        assert_error(r, 422, "invalid", fields={"section_id"})

    async def test_a_blank_title_is_refused(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        r = await api.client.post(
            f"/api/sessions/{session['id']}/sections", json={"title": "  "}, headers=auth
        )
        assert_error(r, 422, "invalid", fields={"title"})


class TestTemplates:
    async def test_round_trip_export_import_equal(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        r = await import_text(api, auth, json.dumps(TEMPLATE, indent=2))
        assert r.status_code == 201, r.text
        made = r.json()
        assert made["code"] and [s["title"] for s in made["sections"]] == ["Reflections", "Empty for now"]
        assert [q["kind"] for q in made["questions"]] == [
            "choice",
            "scale",
            "wordcloud",
            "open",
            "ranking",
            "qa",
        ]
        assert not any(q["open"] for q in made["questions"])
        exported = await api.client.get(f"/api/sessions/{made['id']}/template", headers=auth)
        assert exported.status_code == 200
        assert "attachment" in exported.headers["content-disposition"]
        assert exported.json() == TEMPLATE
        # And again: a session from the export exports the same file.
        again = (await import_text(api, auth, exported.text)).json()
        assert again["id"] != made["id"]
        assert (
            await api.client.get(f"/api/sessions/{again['id']}/template", headers=auth)
        ).json() == TEMPLATE

    async def test_a_broken_file_is_refused_with_its_line_and_makes_nothing(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        broken = json.loads(json.dumps(TEMPLATE))
        broken["sections"][0]["questions"][3]["options"] = ["A"]
        text = json.dumps(broken, indent=2)
        r = await import_text(api, auth, text)
        error = assert_error(r, 422, "invalid_template", fields={"template"})
        line = next(i for i, row in enumerate(text.splitlines(), 1) if '"options": [' in row and i > 20)
        assert error["message"].startswith(f"Line {line}: sections > item 1 > questions > item 4 > options")
        assert (await api.client.get("/api/sessions", headers=auth)).json() == []

    async def test_not_json_is_refused_with_its_line(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        r = await import_text(api, auth, '{\n  "thirdspace_template": 1,\n  "title": "x",,\n}')
        error = assert_error(r, 422, "invalid_template", fields={"template"})
        assert error["message"].startswith("Line 3: this is not valid JSON")

    async def test_a_template_up_to_1_mib_is_taken_and_a_larger_one_refused_naming_the_limit(
        self, api: Api
    ) -> None:
        """The route takes what `thirdspace session import` takes (docs/protocol.md: up to 1 MiB), more
        than the 256 KiB of the other routes under /api/sessions: a large session's template passes that."""
        auth = await api.quick_facilitator()
        large = json.dumps(TEMPLATE, indent=2).ljust(1024 * 1024)  # a good template, padded with spaces
        r = await import_text(api, auth, large)
        assert r.status_code == 201, r.text[:500]
        assert r.json()["title"] == TEMPLATE["title"]
        r = await import_text(api, auth, large + " ")
        error = assert_error(r, 413, "body_too_large")
        assert "at most 1024 KiB" in error["message"]
        assert len((await api.client.get("/api/sessions", headers=auth)).json()) == 1

    async def test_import_needs_an_account(self, api: Api) -> None:
        r = await api.client.post("/api/sessions/import", content=json.dumps(TEMPLATE))
        assert r.status_code == 401
