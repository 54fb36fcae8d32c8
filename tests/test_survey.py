"""Audience-paced sections (issue 8): a section that opens as a survey each participant moves through at
their own speed; the console's "finished" count; every refusal."""

from __future__ import annotations

from typing import Any

from tests.factories import Api, assert_error, choice


async def section(
    api: Api, auth: dict[str, str], session: dict[str, Any], pace: str = "audience"
) -> dict[str, Any]:
    r = await api.client.post(
        f"/api/sessions/{session['id']}/sections", json={"title": "Reflections", "pace": pace}, headers=auth
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def questions(
    api: Api, auth: dict[str, str], session: dict[str, Any], part: dict[str, Any]
) -> list[dict[str, Any]]:
    return [
        await api.add_question(
            auth, session, kind="choice", prompt=f"Q{i}?", options=["Yes", "No"], section_id=part["id"]
        )
        for i in (1, 2)
    ]


def url(session: dict[str, Any], part: dict[str, Any], action: str) -> str:
    return f"/api/sessions/{session['id']}/sections/{part['id']}/{action}"


class TestAudiencePace:
    async def test_phones_get_the_survey_and_the_console_counts_who_finished(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        part = await section(live_api, auth, session)
        q1, q2 = await questions(live_api, auth, session, part)
        early = await live_api.phone(session)
        r = await live_api.client.post(url(session, part, "start"), headers=auth)
        assert r.status_code == 200, r.text
        assert (r.json()["pace"], r.json()["started"]) == ("audience", True)
        state = await early.expect("survey.state")
        assert [q["id"] for q in state["data"]["survey"]["questions"]] == [q1["id"], q2["id"]]
        assert all(q["open"] for q in state["data"]["survey"]["questions"])
        # A phone that connects later gets the survey in its snapshot.
        late = await live_api.phone(session)
        assert (await late.expect("survey.state"))["data"]["survey"]["section_id"] == part["id"]
        await early.acked("answer", {"question_id": q2["id"], "value": choice(q2, 0)}, "e2")
        await early.acked("answer", {"question_id": q1["id"], "value": None}, "e1")
        await late.acked("answer", {"question_id": q1["id"], "value": choice(q1, 1)}, "l1")
        progress = (await live_api.client.get(url(session, part, "progress"), headers=auth)).json()
        assert progress == {"section_id": part["id"], "questions": 2, "started": 2, "finished": 1}
        r = await live_api.client.post(url(session, part, "finish"), headers=auth)
        assert r.status_code == 200 and r.json()["finished"] is True
        assert (await early.expect("survey.state"))["data"] == {"survey": None}
        detail = (await live_api.client.get(f"/api/sessions/{session['id']}", headers=auth)).json()
        assert all(q["closed"] for q in detail["questions"])
        await early.close()
        await late.close()

    async def test_presenter_pace_is_the_default_and_does_not_start(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        r = await api.client.post(
            f"/api/sessions/{session['id']}/sections", json={"title": "Plain"}, headers=auth
        )
        part = r.json()
        assert part["pace"] == "presenter"
        await questions(api, auth, session, part)
        assert_error(
            await api.client.post(url(session, part, "start"), headers=auth), 409, "not_audience_paced"
        )

    async def test_twice_is_refused_and_the_pace_is_then_fixed(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        part = await section(api, auth, session)
        await questions(api, auth, session, part)
        assert (await api.client.post(url(session, part, "start"), headers=auth)).status_code == 200
        assert_error(await api.client.post(url(session, part, "start"), headers=auth), 409, "section_started")
        r = await api.client.patch(
            f"/api/sessions/{session['id']}/sections/{part['id']}", json={"pace": "presenter"}, headers=auth
        )
        assert_error(r, 409, "section_started")

    async def test_one_running_section_at_a_time(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        first, second = await section(api, auth, session), await section(api, auth, session)
        await questions(api, auth, session, first)
        await questions(api, auth, session, second)
        assert (await api.client.post(url(session, first, "start"), headers=auth)).status_code == 200
        assert_error(
            await api.client.post(url(session, second, "start"), headers=auth), 409, "section_running"
        )

    async def test_an_empty_section_or_one_not_running_is_refused(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        part = await section(api, auth, session)
        assert_error(await api.client.post(url(session, part, "start"), headers=auth), 409, "section_empty")
        assert_error(
            await api.client.post(url(session, part, "finish"), headers=auth), 409, "section_not_running"
        )
