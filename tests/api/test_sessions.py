"""Sessions [F]: create, read, list, change settings, close; another account's session is 404."""

from __future__ import annotations

import re
from typing import Any

from tests.factories import Api, assert_error, choice


async def with_an_answer(api: Api, auth: dict[str, str], **settings: Any) -> dict[str, Any]:
    """A session in which one participant has answered (committed by the writer)."""
    session = await api.create_session(auth, **settings)
    question = await api.live_question(auth, session)
    joined = await api.join(session)
    if joined["consent"]["required"]:
        assert (await api.consent(session, joined)).status_code == 200
    outcome = await api.submit(joined, question, choice(question, 0), "a1")
    assert outcome.ok, outcome
    return session


class TestCreateSession:
    async def test_created_with_code_links_and_default_settings(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        r = await api.client.post("/api/sessions", json={"title": "Workshop"}, headers=auth)
        assert r.status_code == 201
        body = r.json()
        assert re.fullmatch(r"\d{8}", body["code"])
        assert body["join_url"].endswith(f"/j/{body['code']}")
        assert body["presenter_url"].endswith(f"/presenter/{body['id']}")
        assert body["settings"] == {
            "min_group": 5,
            "consent_text": None,
            "language": "en",
            "retention_days": 365,
            "export_minutes": False,
        }
        assert body["title"] == "Workshop"
        assert body["closed"] is False
        assert body["questions"] == []
        assert body["current_question_id"] is None

    async def test_min_group_below_3_is_422(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        r = await api.client.post(
            "/api/sessions", json={"title": "Workshop", "settings": {"min_group": 2}}, headers=auth
        )
        assert_error(r, 422, "invalid", fields={"settings.min_group"})

    async def test_min_group_3_is_accepted(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator(), min_group=3)
        assert session["settings"]["min_group"] == 3

    async def test_title_of_the_wrong_type_is_422(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        r = await api.client.post("/api/sessions", json={"title": 12}, headers=auth)
        assert_error(r, 422, "invalid", fields={"title"})

    async def test_missing_title_is_422(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        r = await api.client.post("/api/sessions", json={}, headers=auth)
        assert_error(r, 422, "invalid", fields={"title"})

    async def test_malformed_json_is_400(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        r = await api.client.post(
            "/api/sessions",
            content=b'{"title": "Work',
            headers={**auth, "Content-Type": "application/json"},
        )
        assert_error(r, 400, "malformed_json")

    async def test_unknown_field_is_422(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        r = await api.client.post("/api/sessions", json={"title": "Workshop", "colour": "red"}, headers=auth)
        assert_error(r, 422, "invalid", fields={"colour"})

    async def test_consent_text_is_kept(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator(), consent_text="Sheet")
        assert session["settings"]["consent_text"] == "Sheet"


class TestOwnership:
    async def test_another_accounts_session_is_404_to_get(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator())
        r = await api.client.get(f"/api/sessions/{session['id']}", headers=await api.quick_facilitator())
        assert_error(r, 404, "not_found")

    async def test_another_accounts_session_is_404_to_patch(self, api: Api) -> None:
        owner = await api.quick_facilitator()
        session = await api.create_session(owner)
        r = await api.client.patch(
            f"/api/sessions/{session['id']}",
            json={"title": "Mine now"},
            headers=await api.quick_facilitator(),
        )
        assert_error(r, 404, "not_found")
        unchanged = await api.client.get(f"/api/sessions/{session['id']}", headers=owner)
        assert unchanged.json()["title"] == "Workshop"

    async def test_another_accounts_session_is_404_to_add_questions(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator())
        r = await api.client.post(
            f"/api/sessions/{session['id']}/questions",
            json={"kind": "choice", "prompt": "Which?", "options": ["A", "B"]},
            headers=await api.quick_facilitator(),
        )
        assert_error(r, 404, "not_found")

    async def test_another_accounts_session_is_404_for_results(self, api: Api) -> None:
        owner = await api.quick_facilitator()
        session = await api.create_session(owner)
        question = await api.create_question(owner, session)
        r = await api.client.get(
            f"/api/sessions/{session['id']}/questions/{question['id']}/results",
            headers=await api.quick_facilitator(),
        )
        assert_error(r, 404, "not_found")

    async def test_unknown_session_is_404(self, api: Api) -> None:
        r = await api.client.get("/api/sessions/0123456789abcdef", headers=await api.quick_facilitator())
        assert_error(r, 404, "not_found")


class TestGetSession:
    async def test_shows_questions_and_current_question(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        first = await api.create_question(auth, session)
        second = await api.create_question(auth, session)
        await api.make_current(auth, session, second)
        r = await api.client.get(f"/api/sessions/{session['id']}", headers=auth)
        assert r.status_code == 200
        body = r.json()
        assert [q["id"] for q in body["questions"]] == [first["id"], second["id"]]
        assert body["current_question_id"] == second["id"]
        assert body["code"] == session["code"]


class TestListSessions:
    async def test_lists_own_sessions_newest_first(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        older = await api.create_session(auth)
        newer = await api.create_session(auth)
        await api.create_session(await api.quick_facilitator())
        r = await api.client.get("/api/sessions", headers=auth)
        assert r.status_code == 200
        body = r.json()
        assert [s["id"] for s in body] == [newer["id"], older["id"]]
        assert set(body[0]) == {"id", "title", "code", "closed", "created_at", "role"}


class TestUpdateSession:
    async def test_rename(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        r = await api.client.patch(f"/api/sessions/{session['id']}", json={"title": "Renamed"}, headers=auth)
        assert r.status_code == 200
        assert r.json()["title"] == "Renamed"

    async def test_close_marks_it_closed(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        r = await api.client.patch(f"/api/sessions/{session['id']}", json={"closed": True}, headers=auth)
        assert r.status_code == 200
        assert r.json()["closed"] is True

    async def test_closed_session_code_stops_working(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        await api.client.patch(f"/api/sessions/{session['id']}", json={"closed": True}, headers=auth)
        r = await api.client.post("/api/join", json={"code": session["code"]})
        assert_error(r, 404, "unknown_code")

    async def test_closing_twice_is_409(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        await api.client.patch(f"/api/sessions/{session['id']}", json={"closed": True}, headers=auth)
        r = await api.client.patch(f"/api/sessions/{session['id']}", json={"closed": True}, headers=auth)
        assert_error(r, 409, "session_closed")

    async def test_closed_false_is_422(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        r = await api.client.patch(f"/api/sessions/{session['id']}", json={"closed": False}, headers=auth)
        assert_error(r, 422, "invalid", fields={"closed"})

    async def test_min_group_can_be_lowered_before_any_answer(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=6)
        r = await api.client.patch(
            f"/api/sessions/{session['id']}", json={"settings": {"min_group": 4}}, headers=auth
        )
        assert r.status_code == 200
        assert r.json()["settings"]["min_group"] == 4

    async def test_lowering_min_group_after_an_answer_is_409(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await with_an_answer(api, auth, min_group=5)
        r = await api.client.patch(
            f"/api/sessions/{session['id']}", json={"settings": {"min_group": 4}}, headers=auth
        )
        assert_error(r, 409, "settings_locked", fields={"settings.min_group"})
        unchanged = await api.client.get(f"/api/sessions/{session['id']}", headers=auth)
        assert unchanged.json()["settings"]["min_group"] == 5

    async def test_raising_min_group_after_an_answer_is_200(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await with_an_answer(api, auth, min_group=5)
        r = await api.client.patch(
            f"/api/sessions/{session['id']}", json={"settings": {"min_group": 7}}, headers=auth
        )
        assert r.status_code == 200
        assert r.json()["settings"]["min_group"] == 7

    async def test_changing_consent_text_after_an_answer_is_409(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await with_an_answer(api, auth, consent_text="Version one")
        r = await api.client.patch(
            f"/api/sessions/{session['id']}", json={"settings": {"consent_text": "Version two"}}, headers=auth
        )
        assert_error(r, 409, "settings_locked", fields={"settings.consent_text"})

    async def test_adding_consent_text_after_an_answer_is_409(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await with_an_answer(api, auth)
        r = await api.client.patch(
            f"/api/sessions/{session['id']}", json={"settings": {"consent_text": "New sheet"}}, headers=auth
        )
        assert_error(r, 409, "settings_locked", fields={"settings.consent_text"})

    async def test_removing_consent_text_after_an_answer_is_409(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await with_an_answer(api, auth, consent_text="Version one")
        r = await api.client.patch(
            f"/api/sessions/{session['id']}", json={"settings": {"consent_text": ""}}, headers=auth
        )
        assert_error(r, 409, "settings_locked", fields={"settings.consent_text"})

    async def test_changing_consent_text_before_answers_changes_its_version(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, consent_text="Version one")
        before = await api.join(session)
        r = await api.client.patch(
            f"/api/sessions/{session['id']}", json={"settings": {"consent_text": "Version two"}}, headers=auth
        )
        assert r.status_code == 200
        after = await api.join(session)
        assert after["consent"]["version"] != before["consent"]["version"]
        assert after["consent"]["text"] == "Version two"


class TestClosingSessionClosesQuestions:
    async def test_open_questions_close_with_their_exact_result(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=3)
        question = await api.live_question(auth, session)
        for i in range(4):
            joined = await api.join(session)
            assert (await api.submit(joined, question, choice(question, i % 2), f"a{i}")).ok
        r = await api.client.patch(f"/api/sessions/{session['id']}", json={"closed": True}, headers=auth)
        assert r.status_code == 200
        (closed,) = r.json()["questions"]
        assert (closed["open"], closed["closed"]) == (False, True)
        result = await api.results(auth, session, question)
        assert result["n"] == 4
        assert result["summary"]["counts"][question["options"][0]["id"]] == 2
