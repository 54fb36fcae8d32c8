"""Participants: joining with a code, the participant cookie, consent and declining, stored tokens."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import func, select, text

from app.auth.ratelimit import JoinLimiter
from app.config import Settings
from app.main import join_budget
from app.sessions.models import Participant
from tests.databases import all_rows_text
from tests.factories import Api, assert_error, choice

SHEET = "We record your answers anonymously for the evaluation report."


class TestJoin:
    async def test_right_code_gives_a_token_and_the_session(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator())
        r = await api.client.post("/api/join", json={"code": session["code"]})
        assert r.status_code == 200
        body = r.json()
        assert set(body) == {"participant_token", "session", "consent", "continued", "withdrawal_code"}
        assert body["session"] == {"id": session["id"], "title": "Workshop"}
        # At least 128 random bits (ETHICS 1): 32 bytes in URL-safe base64 is 43 characters.
        assert len(body["participant_token"]) >= 43

    async def test_wrong_code_is_404(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator())
        wrong = f"{(int(session['code']) + 1) % 10**8:08d}"
        r = await api.client.post("/api/join", json={"code": wrong})
        assert_error(r, 404, "unknown_code")

    async def test_non_digit_code_is_404(self, api: Api) -> None:
        r = await api.client.post("/api/join", json={"code": "abcd-efg"})
        assert_error(r, 404, "unknown_code")

    async def test_code_with_spaces_around_it_works(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator())
        r = await api.client.post("/api/join", json={"code": f" {session['code']} "})
        assert r.status_code == 200

    async def test_missing_code_is_422(self, api: Api) -> None:
        r = await api.client.post("/api/join", json={})
        assert_error(r, 422, "invalid", fields={"code"})

    async def test_wrong_codes_past_the_budget_wait_and_get_429_right_codes_get_in(
        self, api: Api, app: FastAPI, settings: Settings
    ) -> None:
        waits: list[float] = []

        async def sleep(seconds: float) -> None:
            waits.append(seconds)

        app.state.join_limiter = JoinLimiter(join_budget(settings), sleep=sleep)
        session = await api.create_session(await api.quick_facilitator())
        right = int(session["code"])
        for i in range(1, settings.JOIN_WRONG_CODES_PER_HOUR + 1):
            r = await api.client.post("/api/join", json={"code": f"{(right + i) % 10**8:08d}"})
            assert_error(r, 404, "unknown_code")
        assert waits == []
        r = await api.client.post("/api/join", json={"code": f"{(right - 1) % 10**8:08d}"})
        assert_error(r, 429, "too_many_attempts")
        assert r.headers["Retry-After"] == str(int(settings.JOIN_OVER_BUDGET_DELAY_SECONDS))
        # Past the budget a right code waits as long, and is let in: never a 429 for a correct code.
        r = await api.client.post("/api/join", json={"code": session["code"]})
        assert r.status_code == 200, r.text
        assert waits == [settings.JOIN_OVER_BUDGET_DELAY_SECONDS] * 2

    async def test_the_same_wrong_code_again_is_counted_once(self, api: Api, settings: Settings) -> None:
        session = await api.create_session(await api.quick_facilitator())
        wrong = f"{(int(session['code']) + 1) % 10**8:08d}"
        for _ in range(settings.JOIN_WRONG_CODES_PER_HOUR * 3):
            assert_error(await api.client.post("/api/join", json={"code": wrong}), 404, "unknown_code")
        assert (await api.client.post("/api/join", json={"code": session["code"]})).status_code == 200

    async def test_sets_an_httponly_participant_cookie(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator())
        r = await api.client.post("/api/join", json={"code": session["code"]})
        name = f"ts_p_{session['id']}"
        assert r.cookies[name] == r.json()["participant_token"]
        (cookie,) = [c for c in r.headers.get_list("set-cookie") if c.startswith(f"{name}=")]
        assert "httponly" in cookie.lower()

    async def test_same_browser_in_two_sessions_is_two_participants(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        first = await api.join(await api.create_session(auth))
        second = await api.join(await api.create_session(auth))
        assert first["participant_token"] != second["participant_token"]
        assert await api.participant_id(first) != await api.participant_id(second)

    async def test_token_is_valid_for_its_own_session_only(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, consent_text=SHEET)
        other = await api.create_session(auth, consent_text=SHEET)
        joined = await api.join(session)
        r = await api.client.post(
            f"/api/sessions/{other['id']}/consent",
            json={"version": joined["consent"]["version"], "agree": True},
            headers={"Authorization": f"Bearer {joined['participant_token']}"},
        )
        assert_error(r, 401, "not_authenticated")


class TestJoinAgainFromTheSameBrowser:
    """CONTRACT, POST /api/join: a browser that already sends that session's participant cookie
    continues as that participant (same token) rather than becoming a second one."""

    async def _participants(self, api: Api, session_id: str) -> int:
        async with api.app.state.database.read_session() as db:
            count = await db.scalar(
                select(func.count()).select_from(Participant).where(Participant.session_id == session_id)
            )
        return int(count or 0)

    async def test_the_cookie_continues_as_the_same_participant(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator())
        first = await api.client.post("/api/join", json={"code": session["code"]})
        # The same client sends the cookie back, as the browser does after Back and Join.
        again = await api.client.post("/api/join", json={"code": session["code"]})
        assert again.status_code == 200
        assert again.json()["participant_token"] == first.json()["participant_token"]
        assert again.json()["continued"] is True
        assert first.json()["continued"] is False
        assert await self._participants(api, session["id"]) == 1
        assert again.cookies[f"ts_p_{session['id']}"] == first.json()["participant_token"]

    async def test_the_reply_says_consent_was_already_given(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator(), consent_text=SHEET)
        first = (await api.client.post("/api/join", json={"code": session["code"]})).json()
        assert first["consent"]["agreed"] is False
        assert (await api.consent(session, first)).status_code == 200
        again = (await api.client.post("/api/join", json={"code": session["code"]})).json()
        assert again["participant_token"] == first["participant_token"]
        assert again["consent"]["agreed"] is True
        assert await self._participants(api, session["id"]) == 1

    async def test_a_changed_sheet_keeps_the_version_agreed_to(self, api: Api) -> None:
        # Issue 9: editing the sheet after people consented makes a new version; they keep theirs.
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, consent_text=SHEET)
        first = (await api.client.post("/api/join", json={"code": session["code"]})).json()
        assert (await api.consent(session, first)).status_code == 200
        r = await api.client.patch(
            f"/api/sessions/{session['id']}", json={"settings": {"consent_text": "New sheet"}}, headers=auth
        )
        assert r.status_code == 200, r.text
        again = (await api.client.post("/api/join", json={"code": session["code"]})).json()
        assert again["participant_token"] == first["participant_token"]
        assert again["consent"]["agreed"] is True
        assert again["consent"]["text"] == "New sheet"
        assert again["withdrawal_code"] is None  # shown once, at consent

    async def test_a_declined_participant_joins_afresh(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator(), consent_text=SHEET)
        first = (await api.client.post("/api/join", json={"code": session["code"]})).json()
        await api.consent(session, first, agree=False)
        # Even a browser that kept the old cookie gets a new participant: the old one is gone.
        api.client.cookies.set(f"ts_p_{session['id']}", first["participant_token"])
        again = (await api.client.post("/api/join", json={"code": session["code"]})).json()
        assert again["participant_token"] != first["participant_token"]
        assert again["continued"] is False
        assert await self._participants(api, session["id"]) == 1

    async def test_another_sessions_cookie_does_not_carry_over(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        one, two = await api.create_session(auth), await api.create_session(auth)
        first = (await api.client.post("/api/join", json={"code": one["code"]})).json()
        # A token of one session sent under another session's cookie name is worth nothing there.
        api.client.cookies.set(f"ts_p_{two['id']}", first["participant_token"])
        other = (await api.client.post("/api/join", json={"code": two["code"]})).json()
        assert other["participant_token"] != first["participant_token"]
        assert other["continued"] is False

    async def test_a_browser_without_the_cookie_is_a_new_participant(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator())
        first = await api.join(session)
        second = await api.join(session)
        assert first["participant_token"] != second["participant_token"]
        assert await self._participants(api, session["id"]) == 2


class TestStoredToken:
    async def test_only_the_sha256_of_the_token_is_stored(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator())
        joined = await api.join(session)
        token = joined["participant_token"]
        async with api.app.state.database.read_session() as db:
            rows = (await db.execute(text("SELECT * FROM participant"))).mappings().all()
        assert len(rows) == 1
        assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
        assert all(token not in str(value) for value in rows[0].values())

    async def test_the_raw_token_is_nowhere_in_the_database_files(self, api: Api, settings: Settings) -> None:
        session = await api.create_session(await api.quick_facilitator())
        token = (await api.join(session))["participant_token"]
        assert token not in all_rows_text(settings.DATABASE_URL)
        if not settings.is_sqlite:
            return  # PostgreSQL's files are the server's; every row of every table was read above
        db_path = Path(settings.DATABASE_URL.split(":///", 1)[1])
        files = [p for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)]
        assert db_path in files
        assert all(token.encode() not in p.read_bytes() for p in files)


class TestConsent:
    async def test_session_without_a_sheet_needs_no_consent(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator())
        joined = await api.join(session)
        assert joined["consent"] == {
            "required": False,
            "text": "",
            "html": "",
            "version": None,
            "agreed": False,
        }
        assert len(joined["withdrawal_code"].split("-")) >= 5  # no sheet: the code comes at join

    async def test_consent_without_a_sheet_is_409(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator())
        joined = await api.join(session)
        assert_error(await api.consent(session, joined), 409, "consent_not_required")

    async def test_sheet_version_is_the_sha256_of_its_text(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator(), consent_text=SHEET)
        joined = await api.join(session)
        assert joined["consent"] == {
            "required": True,
            "text": SHEET,
            "html": f"<p>{SHEET}</p>\n",
            "version": hashlib.sha256(SHEET.encode()).hexdigest(),
            "agreed": False,
        }

    async def test_agree(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator(), consent_text=SHEET)
        joined = await api.join(session)
        r = await api.consent(session, joined)
        assert r.status_code == 200
        assert r.json()["agreed"] is True
        assert len(r.json()["withdrawal_code"].split("-")) >= 5
        async with api.app.state.database.read_session() as db:
            participant = await db.get(Participant, await api.participant_id(joined))
        assert participant is not None
        assert participant.consent_version == joined["consent"]["version"]
        assert participant.consented_at is not None

    async def test_agreeing_twice_is_409(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator(), consent_text=SHEET)
        joined = await api.join(session)
        await api.consent(session, joined)
        assert_error(await api.consent(session, joined), 409, "already_consented")

    async def test_stale_version_is_409(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator(), consent_text=SHEET)
        joined = await api.join(session)
        stale = {**joined, "consent": {**joined["consent"], "version": hashlib.sha256(b"old").hexdigest()}}
        assert_error(await api.consent(session, stale), 409, "consent_stale")

    async def test_agree_with_the_participant_cookie(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator(), consent_text=SHEET)
        joined = await api.join(session)
        r = await api.client.post(
            f"/api/sessions/{session['id']}/consent",
            json={"version": joined["consent"]["version"], "agree": True},
        )
        assert r.status_code == 200

    async def test_without_a_token_is_401(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator(), consent_text=SHEET)
        r = await api.client.post(
            f"/api/sessions/{session['id']}/consent", json={"version": None, "agree": True}
        )
        assert_error(r, 401, "not_authenticated")

    async def test_decline_deletes_the_participant(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator(), consent_text=SHEET)
        joined = await api.join(session)
        participant_id = await api.participant_id(joined)
        r = await api.consent(session, joined, agree=False)
        assert r.status_code == 200
        assert r.json() == {"agreed": False, "withdrawal_code": None}
        async with api.app.state.database.read_session() as db:
            left = await db.scalar(
                select(func.count()).select_from(Participant).where(Participant.id == participant_id)
            )
        assert left == 0

    async def test_declined_token_no_longer_works(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator(), consent_text=SHEET)
        joined = await api.join(session)
        await api.consent(session, joined, agree=False)
        assert_error(await api.consent(session, joined), 401, "not_authenticated")

    async def test_decline_clears_the_participant_cookie(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator(), consent_text=SHEET)
        joined = await api.join(session)
        await api.consent(session, joined, agree=False)
        assert f"ts_p_{session['id']}" not in api.client.cookies

    async def test_consent_in_a_closed_session_is_409(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, consent_text=SHEET)
        joined = await api.join(session)
        await api.client.patch(f"/api/sessions/{session['id']}", json={"closed": True}, headers=auth)
        assert_error(await api.consent(session, joined), 409, "session_closed")

    async def test_agree_as_a_string_is_422(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator(), consent_text=SHEET)
        joined = await api.join(session)
        r = await api.client.post(
            f"/api/sessions/{session['id']}/consent",
            json={"version": joined["consent"]["version"], "agree": "yes"},
            headers={"Authorization": f"Bearer {joined['participant_token']}"},
        )
        assert_error(r, 422, "invalid", fields={"agree"})


class TestDecliningAfterAnswering:
    async def test_a_closed_questions_exact_result_drops_the_answer(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=3, consent_text="Sheet")
        question = await api.live_question(auth, session)
        joined = []
        for i in range(4):
            one = await api.join(session)
            assert (await api.consent(session, one)).status_code == 200
            assert (await api.submit(one, question, choice(question, 0), f"a{i}")).ok
            joined.append(one)
        await api.patch_question(auth, session, question, open=False)
        assert (await api.results(auth, session, question))["n"] == 4
        r = await api.client.post(
            f"/api/sessions/{session['id']}/consent",
            json={"version": joined[0]["consent"]["version"], "agree": False},
            headers={"Authorization": f"Bearer {joined[0]['participant_token']}"},
        )
        assert r.status_code == 200
        assert (await api.results(auth, session, question))["n"] == 3
