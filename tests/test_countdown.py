"""A question's countdown (issue 8): it closes the question, with its exact result, when it runs out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from app.countdown import close_due
from app.db import utcnow
from app.polls.models import Question
from tests.factories import Api, assert_error, choice


async def countdown(
    api: Api, auth: dict[str, str], session: dict[str, Any], q: dict[str, Any], seconds: int | None
) -> httpx.Response:
    return await api.client.put(
        f"/api/sessions/{session['id']}/questions/{q['id']}/countdown",
        json={"seconds": seconds},
        headers=auth,
    )


class TestCountdown:
    async def test_sets_closes_at_and_stops(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        q = await api.live_question(auth, session)
        r = await countdown(api, auth, session, q, 60)
        assert r.status_code == 200, r.text
        assert r.json()["closes_at"] is not None
        r = await countdown(api, auth, session, q, None)
        assert r.json()["closes_at"] is None

    async def test_running_out_closes_the_question_with_its_exact_result(
        self, api: Api, app: FastAPI
    ) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=3)
        q = await api.live_question(auth, session)
        for i in range(4):
            joined = await api.join(session)
            assert (await api.submit(joined, q, choice(q, 0), f"a{i}")).ok
        assert (await countdown(api, auth, session, q, 10)).status_code == 200
        assert await close_due(app.state.database, app.state.hub) == 0  # not yet
        async with app.state.database.session() as db:
            question = await db.get(Question, q["id"])
            assert question is not None
            question.closes_at = utcnow() - timedelta(seconds=1)
            await db.commit()
        # This process's own countdown task may get there first: either way, it closes once.
        await close_due(app.state.database, app.state.hub)
        assert await close_due(app.state.database, app.state.hub) == 0
        detail = (await api.client.get(f"/api/sessions/{session['id']}", headers=auth)).json()
        assert detail["questions"][0]["closed"] is True
        assert (await api.results(auth, session, q))["n"] == 4
        audit = (await api.client.get(f"/api/sessions/{session['id']}/audit", headers=auth)).json()
        closes = [e for e in audit["events"] if e["action"] == "question.close"]
        assert [e["actor"] for e in closes] == ["countdown"]

    async def test_a_question_not_open_is_refused(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        q = await api.add_question(auth, session, kind="open", prompt="Why?")
        assert_error(await countdown(api, auth, session, q, 30), 409, "question_not_open")

    async def test_a_closed_question_is_refused(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        q = await api.live_question(auth, session)
        await api.patch_question(auth, session, q, open=False)
        assert_error(await countdown(api, auth, session, q, 30), 409, "question_closed")

    async def test_too_short_or_too_long_is_refused(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        q = await api.live_question(auth, session)
        for seconds in (5, 7201):
            assert_error(await countdown(api, auth, session, q, seconds), 422, "invalid", fields={"seconds"})
