"""Changing a session's plan [F]: edit a question nobody answered, delete one never opened, reorder."""

from __future__ import annotations

from typing import Any

from tests.factories import Api, assert_error, choice


async def question(api: Api, auth: dict[str, str], session: dict[str, Any], prompt: str) -> dict[str, Any]:
    return await api.add_question(auth, session, kind="choice", prompt=prompt, options=["Yes", "No"])


def url(session: dict[str, Any], q: dict[str, Any] | None = None) -> str:
    base = f"/api/sessions/{session['id']}"
    return f"{base}/questions/{q['id']}" if q else base


class TestEditQuestion:
    async def test_an_unanswered_question_takes_new_words_and_kind(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        q = await question(api, auth, session, "Which?")
        r = await api.client.put(
            url(session, q), json={"kind": "scale", "prompt": "Rate it", "statements": ["Good"]}, headers=auth
        )
        assert r.status_code == 200, r.text
        assert (r.json()["id"], r.json()["kind"], r.json()["prompt"]) == (q["id"], "scale", "Rate it")
        detail = (await api.client.get(url(session), headers=auth)).json()
        assert [x["prompt"] for x in detail["questions"]] == ["Rate it"]

    async def test_an_answered_question_is_refused(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        q = await question(api, auth, session, "Which?")
        await api.patch_question(auth, session, q, open=True)
        joined = await api.join(session)
        assert (await api.submit(joined, q, choice(q, 0), "a1")).ok
        r = await api.client.put(
            url(session, q), json={"kind": "choice", "prompt": "Other?", "options": ["A", "B"]}, headers=auth
        )
        assert_error(r, 409, "question_answered")
        detail = (await api.client.get(url(session), headers=auth)).json()
        assert detail["questions"][0]["prompt"] == "Which?"

    async def test_a_closed_question_is_refused(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        q = await question(api, auth, session, "Which?")
        await api.patch_question(auth, session, q, open=True)
        await api.patch_question(auth, session, q, open=False)
        r = await api.client.put(
            url(session, q), json={"kind": "choice", "prompt": "Other?", "options": ["A", "B"]}, headers=auth
        )
        assert_error(r, 409, "question_closed")

    async def test_invalid_fields_name_the_item(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        q = await question(api, auth, session, "Which?")
        r = await api.client.put(
            url(session, q),
            json={"kind": "choice", "prompt": "Other?", "options": ["A", "x" * 201]},
            headers=auth,
        )
        assert_error(r, 422, "invalid", fields={"options.1"})


class TestDeleteQuestion:
    async def test_a_never_opened_question_goes_and_the_rest_close_ranks(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        first = await question(api, auth, session, "First")
        second = await question(api, auth, session, "Second")
        await api.make_current(auth, session, first)
        assert (await api.client.delete(url(session, first), headers=auth)).status_code == 204
        detail = (await api.client.get(url(session), headers=auth)).json()
        assert [x["id"] for x in detail["questions"]] == [second["id"]]
        assert detail["current_question_id"] is None

    async def test_an_opened_question_is_refused(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        q = await question(api, auth, session, "Which?")
        await api.patch_question(auth, session, q, open=True)
        assert_error(await api.client.delete(url(session, q), headers=auth), 409, "question_opened")

    async def test_another_accounts_question_is_not_found(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        q = await question(api, auth, session, "Which?")
        other = await api.quick_facilitator()
        assert_error(await api.client.delete(url(session, q), headers=other), 404, "not_found")


class TestReorder:
    async def test_questions_take_the_new_order(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        ids = [(await question(api, auth, session, p))["id"] for p in ("One", "Two", "Three")]
        r = await api.client.put(f"{url(session)}/order", json={"question_ids": ids[::-1]}, headers=auth)
        assert r.status_code == 200, r.text
        assert [x["prompt"] for x in r.json()["questions"]] == ["Three", "Two", "One"]

    async def test_a_list_that_is_not_every_question_once_is_refused(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        ids = [(await question(api, auth, session, p))["id"] for p in ("One", "Two")]
        for wrong in ([ids[0]], [ids[0], ids[0]], [ids[0], ids[1], "nope"]):
            r = await api.client.put(f"{url(session)}/order", json={"question_ids": wrong}, headers=auth)
            assert_error(r, 422, "invalid", fields={"question_ids"})


class TestResetAnswers:
    async def test_answers_leave_results_and_the_audit_log_says_so(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=3)
        q = await question(api, auth, session, "Which?")
        await api.patch_question(auth, session, q, open=True)
        for i in range(3):
            joined = await api.join(session)
            assert (await api.submit(joined, q, choice(q, i % 2), f"a{i}")).ok
        await api.patch_question(auth, session, q, open=False)
        assert (await api.results(auth, session, q))["n"] == 3
        r = await api.client.post(f"{url(session, q)}/reset", headers=auth)
        assert r.status_code == 200, r.text
        assert r.json()["closed"] is True
        shown = await api.results(auth, session, q)
        assert (shown["n"], shown["hidden"]) == (0, True)
        csv = await api.client.get(f"{url(session)}/export.csv", headers=auth)
        assert q["options"][0]["id"] not in csv.text and "Yes" not in csv.text.split("\n", 1)[-1]
        audit = (await api.client.get(f"{url(session)}/audit", headers=auth)).json()
        assert "question.reset" in [e["action"] for e in audit["events"]]
        # The anonymity settings stay locked: people did answer under them.
        r = await api.client.patch(url(session), json={"settings": {"min_group": 3}}, headers=auth)
        assert r.status_code == 200
        r = await api.client.patch(url(session), json={"settings": {"consent_text": "New"}}, headers=auth)
        assert_error(r, 409, "settings_locked", fields={"settings.consent_text"})

    async def test_in_a_closed_session_it_is_refused(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        q = await question(api, auth, session, "Which?")
        await api.client.patch(url(session), json={"closed": True}, headers=auth)
        assert_error(await api.client.post(f"{url(session, q)}/reset", headers=auth), 409, "session_closed")
