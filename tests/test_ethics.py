"""Each ETHICS.md promise in scope has a test here (or names where it is tested) that fails if the
promise is broken. 1: random tokens stored as hashes, one per session. 2: no address or user agent
stored or logged; no tokens or message bodies logged. 4: consent before answers. 8, 9 and 10: the k rule
(also tests/test_sockets.py::TestLiveResults and tests/polls)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json

import httpx
from websockets.asyncio.client import connect

from tests.conftest import ServerProcess
from tests.databases import all_rows_text
from tests.factories import PASSWORD, Api, choice

# A loopback address no server line would print by itself (the server listens on 127.0.0.1).
CLIENT_ADDRESS = "127.0.0.77"
USER_AGENT = "CanaryBrowser/9.9 (ua-canary-7f3a)"


def _database_text(server: ServerProcess) -> str:
    """Everything the database holds, as text: every table's rows, and on SQLite the raw file bytes."""
    if not server.database_url.startswith("sqlite"):
        return all_rows_text(server.database_url)
    server.sql("PRAGMA wal_checkpoint(FULL)")
    raw = b"".join(p.read_bytes() for p in server.base.glob("thirdspace.db*"))
    return all_rows_text(server.database_url) + raw.decode("latin-1")


class TestIdentity:
    async def test_token_is_random_and_stored_only_as_sha256(self, api: Api) -> None:
        auth = await api.facilitator()
        session = await api.create_session(auth)
        joined = await api.join(session)
        token = joined["participant_token"]
        # At least 128 bits: token_urlsafe(32) is 256 bits in 43 characters.
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) >= 16
        async with api.app.state.database.read_session() as db:
            from sqlalchemy import text

            rows = (await db.execute(text("SELECT * FROM participant"))).all()
        assert len(rows) == 1
        assert token not in repr(rows)
        assert hashlib.sha256(token.encode()).hexdigest() in repr(rows)

    async def test_same_browser_in_two_sessions_is_two_unlinkable_participants(self, api: Api) -> None:
        auth = await api.facilitator()
        first = await api.create_session(auth)
        second = await api.create_session(auth)
        a = await api.join(first)
        b = await api.join(second)
        assert a["participant_token"] != b["participant_token"]
        # The cookie of one session is not the credential of the other.
        r = await api.client.post(
            f"/api/sessions/{second['id']}/consent",
            json={"version": None, "agree": True},
            headers={"Authorization": f"Bearer {a['participant_token']}"},
        )
        assert r.status_code == 401


class TestNothingIdentifyingStoredOrLogged:
    async def test_no_address_user_agent_token_or_body_in_database_or_log(
        self, server_process: ServerProcess
    ) -> None:
        server = server_process
        transport = httpx.AsyncHTTPTransport(local_address=CLIENT_ADDRESS)
        headers = {"User-Agent": USER_AGENT}
        async with httpx.AsyncClient(base_url=server.http, transport=transport, headers=headers) as http:
            r = await http.post(
                "/api/auth/token", data={"username": "facilitator@example.org", "password": PASSWORD}
            )
            auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
            session = (
                await http.post(
                    "/api/sessions",
                    json={"title": "Ethics", "settings": {"min_group": 3, "consent_text": "Sheet"}},
                    headers=auth,
                )
            ).json()
            question = (
                await http.post(
                    f"/api/sessions/{session['id']}/questions",
                    json={"kind": "choice", "prompt": "Q", "options": ["A", "B"]},
                    headers=auth,
                )
            ).json()
            await http.put(
                f"/api/sessions/{session['id']}/current", json={"question_id": question["id"]}, headers=auth
            )
            await http.patch(
                f"/api/sessions/{session['id']}/questions/{question['id']}", json={"open": True}, headers=auth
            )
            await http.post(
                "/api/join", json={"code": "00000000"}
            )  # a failed join: rate limiting must not store it
            joined = (await http.post("/api/join", json={"code": session["code"]})).json()
            token = joined["participant_token"]
            r = await http.post(
                f"/api/sessions/{session['id']}/consent",
                json={"version": joined["consent"]["version"], "agree": True},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.status_code == 200
            async with connect(
                f"{server.ws}/ws/participant/{session['id']}",
                additional_headers={"Authorization": f"Bearer {token}", **headers},
                local_addr=(CLIENT_ADDRESS, 0),
            ) as ws:
                await ws.recv()  # session.state
                await ws.recv()  # round.state (issue 10)
                await ws.send(
                    json.dumps(
                        {
                            "type": "answer",
                            "id": "body-canary-5c1d",
                            "data": {"question_id": question["id"], "value": choice(question, 0)},
                        }
                    )
                )
                reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
                assert reply["type"] == "answer.ack"
                await ws.send("{broken json body-canary-2")
                await asyncio.wait_for(ws.recv(), 5)
        await asyncio.sleep(0.3)
        stored = _database_text(server)
        log = server.log()
        assert log.strip(), "the server log is empty: this test would not see a leak"
        for needle in (CLIENT_ADDRESS, "ua-canary-7f3a"):
            assert needle not in stored, f"{needle} is stored in the database"
            assert needle not in log, f"{needle} is in the server log"
        for needle in (token, "body-canary-2"):
            assert needle not in log, f"{needle} is in the server log"
        assert token not in stored


class TestConsent:
    async def test_consent_version_and_time_are_stored(self, api: Api) -> None:
        auth = await api.facilitator()
        text = "We keep your answers for research, anonymously."
        session = await api.create_session(auth, consent_text=text)
        joined = await api.join(session)
        assert joined["consent"] == {
            "required": True,
            "text": text,
            "html": f"<p>{text}</p>\n",
            "version": hashlib.sha256(text.encode()).hexdigest(),
            "agreed": False,
        }
        assert (await api.consent(session, joined)).status_code == 200
        async with api.app.state.database.read_session() as db:
            from sqlmodel import select

            from app.sessions.models import Participant

            participant = (await db.execute(select(Participant))).scalar_one()
        assert participant.consent_version == hashlib.sha256(text.encode()).hexdigest()
        assert participant.consented_at is not None

    async def test_declining_deletes_the_participant(self, api: Api) -> None:
        auth = await api.facilitator()
        session = await api.create_session(auth, consent_text="Sheet")
        joined = await api.join(session)
        assert (await api.consent(session, joined, agree=False)).status_code == 200
        async with api.app.state.database.read_session() as db:
            from sqlalchemy import text

            assert (await db.execute(text("SELECT count(*) FROM participant"))).scalar_one() == 0


class TestSmallGroups:
    async def test_results_below_k_are_hidden_even_when_closed(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        for i in range(2):
            phone = await live_api.phone(session)
            await phone.answer(question, choice(question, 0), f"a{i}")
        await live_api.patch_question(auth, session, question, open=False)
        result = await live_api.results(auth, session, question)
        assert result == {"question_id": question["id"], "n": 2, "hidden": True, "summary": None}

    async def test_declined_answers_do_not_count_towards_k(self, live_api: Api) -> None:
        auth = await live_api.facilitator()
        session = await live_api.create_session(auth, min_group=3)
        question = await live_api.live_question(auth, session)
        for i in range(2):
            phone = await live_api.phone(session)
            await phone.answer(question, choice(question, 0), f"a{i}")
        phone = await live_api.phone(session)
        await phone.answer(question, None, "declined")
        await live_api.patch_question(auth, session, question, open=False)
        result = await live_api.results(auth, session, question)
        assert result["n"] == 2
        assert result["hidden"] is True

    async def test_k_below_3_is_refused(self, api: Api) -> None:
        auth = await api.facilitator()
        r = await api.client.post(
            "/api/sessions", json={"title": "x", "settings": {"min_group": 2}}, headers=auth
        )
        assert r.status_code == 422
        assert "settings.min_group" in r.json()["error"]["fields"]

    async def test_promise_08_k_applies_to_each_scale_statement(self, api: Api) -> None:
        """ETHICS 8: k applies to each scale statement's total: a statement rated by fewer than k is null
        even when the question's total reaches k."""
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=3)
        question = await api.open_question(
            auth, session, kind="scale", prompt="How?", statements=["S1", "S2"]
        )
        s1, s2 = (s["id"] for s in question["statements"])
        for i, ratings in enumerate([{s1: 4, s2: 5}, {s1: 2}, {s1: 5, s2: 1}]):
            assert (await api.submit(await api.join(session), question, {"ratings": ratings}, f"r{i}")).ok
        await api.patch_question(auth, session, question, open=False)
        statements = (await api.results(auth, session, question))["summary"]["statements"]
        assert statements[s1]["n"] == 3
        assert statements[s2] is None

    async def test_promise_10_a_word_needs_k_different_participants(self, api: Api) -> None:
        """ETHICS 10: a word enters a word cloud only once k different participants have used it; one
        person typing it twice, in two spellings, is one."""
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=3)
        question = await api.open_question(auth, session, kind="wordcloud", prompt="One word")
        answers = [["Trust", "trust"], ["care", "Trust"], ["care", "hope"], ["care", "hope"]]
        for i, words in enumerate(answers):
            assert (await api.submit(await api.join(session), question, {"words": words}, f"w{i}")).ok
        await api.patch_question(auth, session, question, open=False)
        words_shown = (await api.results(auth, session, question))["summary"]["words"]
        # trust: two people (k-1); hope: two; care: three.
        assert words_shown == [{"text": "care", "count": 3}]
