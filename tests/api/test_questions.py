"""Questions [F]: create, open, close for good, duplicate, the current question, results."""

from __future__ import annotations

from typing import Any

from tests.factories import Api, assert_error, choice


async def post_question(api: Api, auth: dict[str, str], session: dict[str, Any], **body: Any) -> Any:
    return await api.client.post(f"/api/sessions/{session['id']}/questions", json=body, headers=auth)


class TestCreateQuestion:
    async def test_choice_question_starts_not_open(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        r = await post_question(
            api,
            auth,
            session,
            kind="choice",
            prompt="Which?",
            options=["Red", "Green", "Blue"],
            multiple=True,
        )
        assert r.status_code == 201
        body = r.json()
        assert [o["label"] for o in body["options"]] == ["Red", "Green", "Blue"]
        assert all(set(o) == {"id", "label"} and o["id"] for o in body["options"])
        assert len({o["id"] for o in body["options"]}) == 3
        assert body["kind"] == "choice"
        assert body["prompt"] == "Which?"
        assert body["multiple"] is True
        assert (body["open"], body["closed"], body["results_visible"]) == (False, False, False)

    async def test_multiple_defaults_to_false(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        r = await post_question(api, auth, session, kind="choice", prompt="Which?", options=["A", "B"])
        assert r.status_code == 201
        assert r.json()["multiple"] is False

    async def test_appears_in_the_session(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        question = await api.create_question(auth, session)
        r = await api.client.get(f"/api/sessions/{session['id']}", headers=auth)
        assert r.json()["questions"] == [question]

    async def test_one_option_is_422(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        r = await post_question(api, auth, session, kind="choice", prompt="Which?", options=["Only"])
        assert_error(r, 422, "invalid", fields={"options"})

    async def test_the_same_label_twice_is_422(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        r = await post_question(api, auth, session, kind="choice", prompt="Which?", options=["Yes", "yes "])
        assert_error(r, 422, "invalid", fields={"options"})

    async def test_unknown_kind_is_422(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        r = await post_question(api, auth, session, kind="poll", prompt="Which?", options=["A", "B"])
        assert_error(r, 422, "invalid", fields={"kind"})

    async def test_missing_kind_is_422(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        r = await post_question(api, auth, session, prompt="Which?", options=["A", "B"])
        assert_error(r, 422, "invalid", fields={"kind"})

    async def test_empty_prompt_is_422(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        r = await post_question(api, auth, session, kind="choice", prompt="   ", options=["A", "B"])
        assert_error(r, 422, "invalid", fields={"prompt"})

    async def test_unknown_field_is_422(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        r = await post_question(api, auth, session, kind="choice", prompt="Which?", options=["A", "B"], x=1)
        assert_error(r, 422, "invalid", fields={"x"})

    async def test_closed_session_takes_no_questions(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        await api.client.patch(f"/api/sessions/{session['id']}", json={"closed": True}, headers=auth)
        r = await post_question(api, auth, session, kind="choice", prompt="Which?", options=["A", "B"])
        assert_error(r, 409, "session_closed")


class TestOpenAndClose:
    async def test_open(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        question = await api.create_question(auth, session)
        r = await api.patch_question(auth, session, question, open=True)
        assert r.status_code == 200
        assert (r.json()["open"], r.json()["closed"]) == (True, False)

    async def test_close_is_for_good(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        question = await api.live_question(auth, session)
        r = await api.patch_question(auth, session, question, open=False)
        assert r.status_code == 200
        assert (r.json()["open"], r.json()["closed"]) == (False, True)

    async def test_reopening_a_closed_question_is_409(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        question = await api.live_question(auth, session)
        await api.patch_question(auth, session, question, open=False)
        r = await api.patch_question(auth, session, question, open=True)
        assert_error(r, 409, "question_closed")

    async def test_results_visible_is_independent_of_open(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        question = await api.create_question(auth, session)
        r = await api.patch_question(auth, session, question, results_visible=True)
        assert r.status_code == 200
        assert (r.json()["results_visible"], r.json()["open"]) == (True, False)

    async def test_open_as_a_string_is_422(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        question = await api.create_question(auth, session)
        r = await api.patch_question(auth, session, question, open="yes")
        assert_error(r, 422, "invalid", fields={"open"})

    async def test_unknown_question_is_404(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        r = await api.patch_question(auth, session, {"id": "0123456789abcdef"}, open=True)
        assert_error(r, 404, "not_found")


class TestDuplicate:
    async def test_copy_has_new_ids_same_labels_and_is_not_open(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        original = await api.live_question(auth, session, options=["A", "B", "C"], multiple=True)
        await api.patch_question(auth, session, original, open=False)
        r = await api.client.post(
            f"/api/sessions/{session['id']}/questions/{original['id']}/duplicate", headers=auth
        )
        assert r.status_code == 201
        copy = r.json()
        assert copy["id"] != original["id"]
        assert [o["label"] for o in copy["options"]] == ["A", "B", "C"]
        assert not {o["id"] for o in copy["options"]} & {o["id"] for o in original["options"]}
        assert (copy["open"], copy["closed"], copy["results_visible"]) == (False, False, False)
        assert copy["prompt"] == original["prompt"]
        assert copy["multiple"] is True

    async def test_copy_of_another_sessions_question_is_404(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        other = await api.create_session(auth)
        question = await api.create_question(auth, other)
        r = await api.client.post(
            f"/api/sessions/{session['id']}/questions/{question['id']}/duplicate", headers=auth
        )
        assert_error(r, 404, "not_found")


class TestCurrent:
    async def test_set_and_clear(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        question = await api.create_question(auth, session)
        r = await api.client.put(
            f"/api/sessions/{session['id']}/current", json={"question_id": question["id"]}, headers=auth
        )
        assert r.status_code == 200
        assert r.json() == {"current_question_id": question["id"]}
        r = await api.client.put(
            f"/api/sessions/{session['id']}/current", json={"question_id": None}, headers=auth
        )
        assert r.status_code == 200
        shown = await api.client.get(f"/api/sessions/{session['id']}", headers=auth)
        assert shown.json()["current_question_id"] is None

    async def test_question_of_another_session_is_404(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        other = await api.create_session(auth)
        question = await api.create_question(auth, other)
        r = await api.client.put(
            f"/api/sessions/{session['id']}/current", json={"question_id": question["id"]}, headers=auth
        )
        assert_error(r, 404, "not_found")
        shown = await api.client.get(f"/api/sessions/{session['id']}", headers=auth)
        assert shown.json()["current_question_id"] is None

    async def test_missing_question_id_is_422(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        r = await api.client.put(f"/api/sessions/{session['id']}/current", json={}, headers=auth)
        assert_error(r, 422, "invalid", fields={"question_id"})


class TestResults:
    async def test_fresh_question_is_hidden_with_nothing_counted(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        question = await api.create_question(auth, session)
        assert await api.results(auth, session, question) == {
            "question_id": question["id"],
            "n": 0,
            "hidden": True,
            "summary": None,
        }

    async def test_question_of_another_session_is_404(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        question = await api.create_question(auth, await api.create_session(auth))
        r = await api.client.get(
            f"/api/sessions/{session['id']}/questions/{question['id']}/results", headers=auth
        )
        assert_error(r, 404, "not_found")

    async def test_after_close_with_k_answers_results_are_exact(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=3)
        question = await api.live_question(auth, session, options=["A", "B", "C"])
        for client_id, value in [
            ("p1", choice(question, 0)),
            ("p2", choice(question, 0)),
            ("p3", choice(question, 1)),
            ("p4", None),
        ]:
            outcome = await api.submit(await api.join(session), question, value, client_id)
            assert outcome.ok, outcome
        await api.patch_question(auth, session, question, open=False)
        a, b, c = (o["id"] for o in question["options"])
        assert await api.results(auth, session, question) == {
            "question_id": question["id"],
            "n": 3,
            "hidden": False,
            "summary": {"counts": {a: 2, b: 1, c: 0}, "declined": 1},
        }

    async def test_after_close_with_fewer_than_k_answers_stays_hidden(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=3)
        question = await api.live_question(auth, session)
        for client_id in ("p1", "p2"):
            assert (await api.submit(await api.join(session), question, choice(question, 0), client_id)).ok
        await api.patch_question(auth, session, question, open=False)
        assert await api.results(auth, session, question) == {
            "question_id": question["id"],
            "n": 2,
            "hidden": True,
            "summary": None,
        }
