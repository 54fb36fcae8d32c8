"""The breakout routes (app/api/breakouts.py) over HTTP: every refusal of issue 10 with its clear error
and nothing recorded, who may read private messages (ETHICS 7), and report-back's checks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.auth.models import Role
from app.breakouts.models import BreakoutGroup, BreakoutMember, BreakoutRound
from tests.factories import Api, assert_error


async def _rows(api: Api) -> tuple[int, int, int]:
    async with api.app.state.database.read_session() as db:
        return tuple(  # type: ignore[return-value]
            [
                int(await db.scalar(select(func.count()).select_from(model)) or 0)
                for model in (BreakoutRound, BreakoutGroup, BreakoutMember)
            ]
        )


async def _session(
    api: Api, people: int, **settings: Any
) -> tuple[dict[str, str], dict[str, Any], list[dict[str, Any]]]:
    auth = await api.quick_facilitator()
    session = await api.create_session(auth, **settings)
    joined = [await api.join(session) for _ in range(people)]
    return auth, session, joined


def _rounds(session: dict[str, Any]) -> str:
    return f"/api/sessions/{session['id']}/rounds"


class TestStart:
    async def test_random_groups_differ_by_at_most_one(self, api: Api) -> None:
        auth, session, _ = await _session(api, 7)
        r = await api.client.post(_rounds(session), json={"mode": "random", "groups": 3}, headers=auth)
        assert r.status_code == 201, r.text
        assert sorted(g["size"] for g in r.json()["groups"]) == [2, 2, 3]
        assert [g["name"] for g in r.json()["groups"]] == ["Group 1", "Group 2", "Group 3"]

    async def test_by_group_size(self, api: Api) -> None:
        auth, session, _ = await _session(api, 7)
        r = await api.client.post(_rounds(session), json={"mode": "random", "group_size": 3}, headers=auth)
        assert sorted(g["size"] for g in r.json()["groups"]) == [2, 2, 3]

    async def test_more_groups_than_participants_is_409(self, api: Api) -> None:
        auth, session, _ = await _session(api, 2)
        r = await api.client.post(_rounds(session), json={"mode": "random", "groups": 3}, headers=auth)
        assert_error(r, 409, "too_many_groups")
        assert await _rows(api) == (0, 0, 0)

    async def test_no_participants_is_409(self, api: Api) -> None:
        auth, session, _ = await _session(api, 0)
        r = await api.client.post(_rounds(session), json={"mode": "self", "names": ["A"]}, headers=auth)
        assert_error(r, 409, "too_many_groups")

    async def test_a_second_open_round_is_409(self, api: Api) -> None:
        auth, session, _ = await _session(api, 2)
        assert (
            await api.client.post(_rounds(session), json={"mode": "random", "groups": 1}, headers=auth)
        ).status_code == 201
        r = await api.client.post(_rounds(session), json={"mode": "random", "groups": 1}, headers=auth)
        assert_error(r, 409, "round_open")
        assert (await _rows(api))[0] == 1

    async def test_fields_that_do_not_fit_the_mode_are_422(self, api: Api) -> None:
        auth, session, _ = await _session(api, 3)
        other_auth, other, _ = await _session(api, 0)
        foreign = await api.add_question(other_auth, other, kind="open", prompt="Elsewhere")
        cases = [
            ({"mode": "random"}, {"groups"}),
            ({"mode": "random", "groups": 2, "group_size": 2}, {"groups"}),
            ({"mode": "self"}, {"names"}),
            ({"mode": "self", "names": ["A", "a"]}, {"names"}),
            ({"mode": "self", "names": ["A"], "groups": 2}, {"mode"}),
            ({"mode": "random", "groups": 2, "names": ["Only one"]}, {"names"}),
            ({"mode": "random", "groups": 1, "links": ["https://a.example", "https://b.example"]}, {"links"}),
            ({"mode": "random", "groups": 1, "cap": 2}, {"cap"}),
            ({"mode": "random", "groups": 1, "question_id": foreign["id"]}, {"question_id"}),
            ({"mode": "random", "groups": 1, "keep_groups_of": "nope"}, {"keep_groups_of"}),
        ]
        for body, fields in cases:
            assert_error(
                await api.client.post(_rounds(session), json=body, headers=auth), 422, "invalid", fields
            )
        schema_cases = [
            {"mode": "random", "groups": 0},
            {"mode": "teams", "groups": 2},
            {"mode": "random", "groups": 1, "links": ["javascript:alert(1)"]},
            {"mode": "random", "groups": 1, "seconds": 5},
            {"mode": "random", "groups": 1, "prompt": "x" * 5001},
        ]
        for body in schema_cases:
            r = await api.client.post(_rounds(session), json=body, headers=auth)
            assert r.status_code == 422, (body, r.text)
        assert await _rows(api) == (0, 0, 0)

    async def test_the_prompt_is_rendered_safely(self, api: Api) -> None:
        auth, session, _ = await _session(api, 1)
        r = await api.client.post(
            _rounds(session),
            json={
                "mode": "random",
                "groups": 1,
                "prompt": "**Talk** <script>alert(1)</script> [x](javascript:y)",
            },
            headers=auth,
        )
        html = r.json()["prompt_html"]
        assert "<strong>Talk</strong>" in html and "<script>" not in html and "href" not in html


class TestCredentials:
    async def test_a_participant_token_is_401_on_every_route(self, api: Api) -> None:
        auth, session, joined = await _session(api, 2)
        first = (
            await api.client.post(_rounds(session), json={"mode": "random", "groups": 1}, headers=auth)
        ).json()
        phone = {"Authorization": f"Bearer {joined[0]['participant_token']}"}
        api.client.cookies.clear()
        calls = [
            api.client.post(_rounds(session), json={"mode": "random", "groups": 1}, headers=phone),
            api.client.get(_rounds(session), headers=phone),
            api.client.get(f"{_rounds(session)}/{first['id']}", headers=phone),
            api.client.patch(f"{_rounds(session)}/{first['id']}", json={"open": False}, headers=phone),
            api.client.post(
                f"{_rounds(session)}/{first['id']}/moves",
                json={"tile": "AAAA", "group_id": None},
                headers=phone,
            ),
            api.client.put(f"/api/sessions/{session['id']}/report", json={"show": None}, headers=phone),
            api.client.get(f"/api/sessions/{session['id']}/private-messages", headers=phone),
        ]
        for call in calls:
            assert_error(await call, 401, "not_authenticated")
        r = await api.client.get(f"{_rounds(session)}/{first['id']}", headers=auth)
        assert r.json()["open"] is True and (await _rows(api))[0] == 1

    async def test_private_messages_are_for_the_facilitator_and_researchers_only(self, api: Api) -> None:
        auth, session, _ = await _session(api, 0)
        path = f"/api/sessions/{session['id']}/private-messages"
        stranger = await api.quick_facilitator()
        assert_error(await api.client.get(path, headers=stranger), 404, "not_found")
        email = await api.create_account(role=Role.researcher)
        researcher = await api.token(email)
        assert_error(await api.client.get(path, headers=researcher), 404, "not_found")
        r = await api.client.post(
            f"/api/sessions/{session['id']}/researchers", json={"email": email}, headers=auth
        )
        assert r.status_code == 201, r.text
        assert (await api.client.get(path, headers=researcher)).json() == {"messages": []}
        assert (await api.client.get(path, headers=auth)).status_code == 200


class TestChanges:
    async def test_closing_twice_is_409(self, api: Api) -> None:
        auth, session, _ = await _session(api, 1)
        first = (
            await api.client.post(_rounds(session), json={"mode": "random", "groups": 1}, headers=auth)
        ).json()
        path = f"{_rounds(session)}/{first['id']}"
        assert (await api.client.patch(path, json={"open": False}, headers=auth)).status_code == 200
        assert_error(await api.client.patch(path, json={"open": False}, headers=auth), 409, "round_closed")
        assert_error(
            await api.client.patch(path, json={"add_seconds": 60}, headers=auth), 409, "round_closed"
        )
        assert_error(
            await api.client.patch(path, json={"broadcast": "hi"}, headers=auth), 409, "round_closed"
        )

    async def test_a_move_to_an_unknown_tile_or_group_is_404(self, api: Api) -> None:
        auth, session, _ = await _session(api, 2)
        first = (
            await api.client.post(_rounds(session), json={"mode": "manual", "groups": 2}, headers=auth)
        ).json()
        detail = (await api.client.get(f"{_rounds(session)}/{first['id']}", headers=auth)).json()
        tile = detail["groups"][0]["members"][0]
        path = f"{_rounds(session)}/{first['id']}/moves"
        r = await api.client.post(path, json={"tile": "ZZZZ9", "group_id": None}, headers=auth)
        assert_error(r, 404, "unknown_tile")
        r = await api.client.post(path, json={"tile": tile, "group_id": "nope"}, headers=auth)
        assert_error(r, 404, "unknown_group")
        after = (await api.client.get(f"{_rounds(session)}/{first['id']}", headers=auth)).json()
        assert after["groups"] == detail["groups"]

    async def test_a_late_joiner_goes_to_the_smallest_group(self, api: Api) -> None:
        auth, session, _ = await _session(api, 3)
        first = (
            await api.client.post(_rounds(session), json={"mode": "random", "groups": 2}, headers=auth)
        ).json()
        small = next(g["id"] for g in first["groups"] if g["size"] == 1)
        await api.join(session)
        sizes = {
            g["id"]: g["size"]
            for g in (await api.client.get(f"{_rounds(session)}/{first['id']}", headers=auth)).json()[
                "groups"
            ]
        }
        assert sizes[small] == 2

    async def test_one_who_consents_late_goes_to_the_smallest_group(self, api: Api) -> None:
        auth, session, joined = await _session(api, 2, consent_text="Sheet")
        for each in joined:
            assert (await api.consent(session, each)).status_code == 200
        first = (
            await api.client.post(_rounds(session), json={"mode": "random", "groups": 2}, headers=auth)
        ).json()
        assert [g["size"] for g in first["groups"]] == [1, 1]
        late = await api.join(session)
        detail = (await api.client.get(f"{_rounds(session)}/{first['id']}", headers=auth)).json()
        assert sum(g["size"] for g in detail["groups"]) == 2 and detail["plenary"] == 0
        assert (await api.consent(session, late)).status_code == 200
        detail = (await api.client.get(f"{_rounds(session)}/{first['id']}", headers=auth)).json()
        assert sorted(g["size"] for g in detail["groups"]) == [1, 2]


class TestReport:
    async def test_bad_reports_are_refused(self, api: Api) -> None:
        auth, session, _ = await _session(api, 1)
        first = (
            await api.client.post(_rounds(session), json={"mode": "random", "groups": 1}, headers=auth)
        ).json()
        path = f"/api/sessions/{session['id']}/report"
        assert_error(
            await api.client.put(path, json={"show": "board"}, headers=auth), 422, "invalid", {"round_id"}
        )
        r = await api.client.put(path, json={"show": "board", "round_id": first["id"]}, headers=auth)
        assert_error(r, 422, "invalid", {"group_id"})
        r = await api.client.put(
            path, json={"show": "board", "round_id": first["id"], "group_id": "x"}, headers=auth
        )
        assert_error(r, 404, "unknown_group")
        assert_error(
            await api.client.put(path, json={"show": "notes", "note_ids": ["x"]}, headers=auth),
            404,
            "unknown_note",
        )
        r = await api.client.put(path, json={"show": "results", "round_id": first["id"]}, headers=auth)
        assert_error(r, 422, "invalid", {"round_id"})
        assert (await api.client.put(path, json={"show": None}, headers=auth)).json() == {"show": None}
