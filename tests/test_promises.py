"""One test per promise of ETHICS.md, named after it, each failing when its promise breaks. Deeper tests
of each part live beside the code's tests (tests/research/, tests/test_ethics.py, tests/polls/); these
are the promises as a reader of ETHICS.md would check them. Promise 7 (private messages) is tested here
over real sockets; the breakout parts of promises 6 and 10 (declining a group, per-group results) are in
tests/breakouts/test_live.py (TestDecline) and tests/test_breakouts_flow.py."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from app.auth.models import Account, Role
from app.config import Settings
from app.db import utcnow
from app.polls.models import Answer, Entry
from app.polls.results import _step
from app.sessions import codes
from app.sessions.models import LiveSession, Participant
from tests.factories import Api, assert_error, choice
from tests.research.conftest import K, Study, build_study, rows


@pytest.fixture
async def study(api: Api) -> Study:
    return await build_study(api)


def _stored_bytes(data_dir: Path) -> bytes:
    """The database files as they are on disk (the WAL too)."""
    return b"".join(p.read_bytes() for p in data_dir.glob("thirdspace.db*"))


async def _count(api: Api, model: Any, *where: Any) -> int:
    async with api.app.state.database.read_session() as db:
        return int(await db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_promise_01_participant_is_a_random_token_stored_only_as_its_sha256(
    api: Api, settings: Settings
) -> None:
    auth = await api.quick_facilitator()
    first, second = await api.create_session(auth), await api.create_session(auth)
    one = await api.join(first)
    other = await api.client.post("/api/join", json={"code": second["code"]})  # same browser, cookie kept
    token = one["participant_token"]
    assert len(token) >= 43  # token_urlsafe(32): 256 bits
    async with api.app.state.database.read_session() as db:
        hashes = list(await db.scalars(select(Participant.token_hash)))
    assert hashlib.sha256(token.encode()).hexdigest() in hashes
    assert other.json()["participant_token"] != token  # two sessions, two unlinkable participants
    assert token.encode() not in _stored_bytes(settings.DATA_DIR)


async def test_promise_02_no_address_or_user_agent_is_stored(app: Any, settings: Settings) -> None:
    transport = httpx.ASGITransport(app=app, client=("10.231.77.5", 40000))
    agent = "CanaryBrowser/9.9 (research-promise-02)"
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        api = Api(client, app)
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, consent_text="About.")
        r = await client.post("/api/join", json={"code": session["code"]}, headers={"User-Agent": agent})
        joined = r.json()
        await client.post(
            f"/api/sessions/{session['id']}/consent",
            json={"version": joined["consent"]["version"], "agree": True},
            headers={"Authorization": f"Bearer {joined['participant_token']}", "User-Agent": agent},
        )
        await client.post("/api/withdraw", json={"code": "not a code"}, headers={"User-Agent": agent})
    stored = _stored_bytes(settings.DATA_DIR)
    assert b"10.231.77.5" not in stored
    assert agent.encode() not in stored


async def test_promise_03_anonymity_cannot_be_weakened_once_answers_exist(api: Api) -> None:
    study = await build_study(api)
    url = f"/api/sessions/{study.session['id']}"
    longer = {"retention_days": 3000}
    for settings in ({"export_minutes": True}, {"consent_text": "New"}, {"language": "fr"}, longer):
        r = await api.client.patch(url, json={"settings": settings}, headers=study.auth)
        assert_error(r, 409, "settings_locked", fields={f"settings.{next(iter(settings))}"})
    shorter = await api.client.patch(url, json={"settings": {"retention_days": 30}}, headers=study.auth)
    assert shorter.status_code == 200 and shorter.json()["settings"]["retention_days"] == 30
    joined = await api.join(study.session)
    page = await api.client.get(
        f"/s/{study.session['id']}", headers={"Authorization": f"Bearer {joined['participant_token']}"}
    )
    assert "What is not kept" in page.text and "the time each answer was given or changed" in page.text


async def test_promise_04_consent_before_any_answer_with_version_and_time(api: Api) -> None:
    auth = await api.quick_facilitator()
    session = await api.create_session(auth, min_group=3, consent_text="# About\n\nWe keep answers.")
    question = await api.live_question(auth, session)
    joined = await api.join(session)
    assert joined["consent"]["html"].startswith("<h1>About</h1>")
    refused = await api.submit(joined, question, choice(question, 0), "before")
    assert (refused.ok, refused.code) == (False, "consent_required")
    r = await api.consent(session, joined)
    assert r.status_code == 200
    async with api.app.state.database.read_session() as db:
        participant = await db.scalar(select(Participant))
    assert participant is not None
    assert participant.consent_version == joined["consent"]["version"]
    assert participant.consented_at is not None
    other = await api.join(session)
    assert (await api.consent(session, other, agree=False)).status_code == 200
    assert await _count(api, Participant) == 1


async def test_promise_05_withdrawal_removes_everything(api: Api) -> None:
    study = await build_study(api, consent="About this study.")
    # Person 0 wrote an open entry; person 4 a comment; person 5 voted; all answered everything.
    leaving = [study.people[0], study.people[4], study.people[5]]
    before = rows((await study.bundle())["responses.csv"])
    codes_seen = {p["withdrawal_code"] for p in study.people}
    assert len(codes_seen) == len(study.people)
    for code in codes_seen:
        assert len(code.split("-")) >= 5 and codes.normalise(code) == code  # five words of 7,776: 64.6 bits
    async with api.app.state.database.read_session() as db:
        stored = set(await db.scalars(select(Participant.withdrawal_code_hash)))
    assert not any(c.encode() in json.dumps(list(stored)).encode() for c in codes_seen)  # hashes only
    for person in leaving:
        r = await api.client.post("/api/withdraw", json={"code": person["withdrawal_code"].upper()})
        assert r.json() == {"withdrawn": True}
    again = await api.client.post("/api/withdraw", json={"code": leaving[0]["withdrawal_code"]})
    assert again.status_code == 200  # a used code says so again
    assert await _count(api, Participant) == len(study.people) - 3
    assert await _count(api, Answer) == (len(study.people) - 3) * 5
    assert await _count(api, Entry, Entry.text.like("%Mail me%")) == 0
    assert await _count(api, Entry, Entry.comment.is_(True)) == 0
    bundle = await study.bundle()
    after = rows(bundle["responses.csv"])
    assert len({r["respondent"] for r in after}) == len(study.people) - 3
    assert len(after) < len(before)
    assert not any(r["value_label"] == "upvote" for r in after)
    assert b"Mail me" not in bundle["comments.csv"] and b"postcode" not in bundle["comments.csv"]
    assert b"REPLACE EARLIER BUNDLES" in bundle["README.txt"]
    # Attempts are limited per address.
    for _ in range(api.app.state.settings.WITHDRAW_FAILURES_ALLOWED):
        r = await api.client.post("/api/withdraw", json={"code": "apple apple apple apple apple"})
        assert r.status_code == 404
    r = await api.client.post("/api/withdraw", json={"code": "apple apple apple apple apple"})
    assert_error(r, 429, "too_many_attempts")
    assert int(r.headers["Retry-After"]) > 0


async def test_promise_06_prefer_not_to_answer_is_recorded_apart_from_skipped(study: Study) -> None:
    bundle = await study.bundle()
    responses = rows(bundle["responses.csv"])
    choice_id = study.questions["choice"]["id"]
    declined = [r for r in responses if r["question_id"] == choice_id and r["declined"] == "true"]
    assert len(declined) == 1 and declined[0]["item"] == "" and declined[0]["value"] == ""
    open_id = study.questions["open"]["id"]
    # Nobody declined the open question; five skipped it: skipping leaves no row at all.
    assert len([r for r in responses if r["question_id"] == open_id]) == 2
    summary = rows(bundle["summary.csv"])
    total = next(r for r in summary if r["question_id"] == choice_id and r["item"] == "")
    assert (total["n"], total["declined"]) == ("6", "*")  # 1 declined: below k, so *


async def test_promise_07_private_messages_reach_the_research_team_only(live_api: Api) -> None:
    """A private message ("Message the research team") reaches the facilitator's console and the
    researchers they added, never a presenter or another phone; in the bundle it is in
    private_messages.csv alone, redacted, under the respondent's pseudonym of that bundle; a withdrawal
    takes it out of later bundles."""
    api = live_api
    auth = await api.facilitator()
    session = await api.create_session(auth, min_group=3)
    question = await api.live_question(auth, session)
    joins = [await api.join(session) for _ in range(3)]
    phones = [await api.phone(session, joined) for joined in joins]
    for i, phone in enumerate(phones):
        await phone.acked("answer", {"question_id": question["id"], "value": choice(question, 0)}, f"a{i}")
    console = await api.console(auth, session)
    presenter = await api.presenter(auth, session)
    private = "I felt unsafe in my group, call me on 07700 900123"
    await phones[0].acked("private", {"text": private}, "m1")
    await phones[1].acked("private", {"text": "Thank you for listening"}, "m2")
    got: set[str] = set()
    while len(got) < 2:
        got.add((await console.expect("private.new"))["data"]["text"])
    assert got == {private, "Thank you for listening"}  # the facilitator reads it whole
    for sock in (presenter, phones[2]):
        await sock.drain()
        assert not [m for m in sock.log if m["type"].startswith("private")]
        assert "felt unsafe" not in json.dumps(sock.log) and "listening" not in json.dumps(sock.log)
    email = await api.create_account(role=Role.researcher)
    sid = session["id"]
    r = await api.client.post(f"/api/sessions/{sid}/researchers", json={"email": email}, headers=auth)
    assert r.status_code == 201, r.text
    r = await api.client.get(f"/api/sessions/{sid}/private-messages", headers=await api.token(email))
    assert {m["text"] for m in r.json()["messages"]} == got
    other = await api.facilitator()
    assert_error(
        await api.client.get(f"/api/sessions/{sid}/private-messages", headers=other), 404, "not_found"
    )

    async def bundle() -> dict[str, bytes]:
        r = await api.client.get(f"/api/sessions/{sid}/export.zip", headers=auth)
        assert r.status_code == 200, r.text
        with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
            return {name: archive.read(name) for name in archive.namelist()}

    first = await bundle()
    messages = rows(first["private_messages.csv"])
    assert sorted(m["text"] for m in messages) == sorted(
        ["I felt unsafe in my group, call me on [phone]", "Thank you for listening"]
    )
    respondents = {r["respondent"] for r in rows(first["responses.csv"])}
    assert len({m["respondent"] for m in messages} & respondents) == 2  # the same pseudonyms
    for name, data in first.items():
        assert b"07700 900123" not in data, name
        if name != "private_messages.csv":
            assert b"felt unsafe" not in data and b"listening" not in data, name
    r = await api.client.post("/api/withdraw", json={"code": joins[0]["withdrawal_code"]})
    assert r.status_code == 200, r.text
    later = rows((await bundle())["private_messages.csv"])
    assert [m["text"] for m in later] == ["Thank you for listening"]
    for sock in (*phones, console, presenter):
        await sock.close()


async def test_promise_08_export_summaries_hide_what_fewer_than_k_gave(study: Study) -> None:
    summary = rows((await study.bundle())["summary.csv"])
    open_total = next(r for r in summary if r["question_id"] == study.questions["open"]["id"])
    assert open_total["n"] == "*"  # two wrote: below k = 3
    heard = study.questions["scale"]["statements"][1]["id"]
    row = next(r for r in summary if r["item"] == heard)
    assert row["n"] == "5" and row["declined"] == "*"


async def test_promise_09_a_withdrawal_alone_never_moves_an_open_result(study: Study) -> None:
    api = study.api
    await api.app.state.ticker.stop()
    question = await api.open_question(
        study.auth, study.session, kind="choice", prompt="Again?", options=["Y", "N"]
    )
    study.questions["again"] = question
    for person in study.people[:4]:
        await study.send(person, "again", choice(question, 0))
    step = await _step(api.app.state.database, question["id"])
    assert step is not None and step.changed  # four changed: at least k, so it moved
    before = await api.results(study.auth, study.session, question)
    assert before["summary"]["counts"][question["options"][0]["id"]] == 4
    r = await api.client.post(
        f"/api/sessions/{study.session['id']}/withdraw",
        headers={"Authorization": f"Bearer {study.people[0]['participant_token']}"},
    )
    assert r.status_code == 200
    moved = await _step(api.app.state.database, question["id"])
    assert moved is not None and moved.changed is False  # one change: below k
    assert await api.results(study.auth, study.session, question) == before
    assert (await api.patch_question(study.auth, study.session, question, open=False)).status_code == 200
    closed = await api.results(study.auth, study.session, question)
    assert closed["summary"]["counts"][question["options"][0]["id"]] == 3  # exact at close
    reopened = await api.patch_question(study.auth, study.session, question, open=True)
    assert_error(reopened, 409, "question_closed")


async def test_promise_10_a_word_in_a_summary_needs_k_different_people(study: Study) -> None:
    summary = rows((await study.bundle())["summary.csv"])
    words = {r["item"]: r["count"] for r in summary if r["kind"] == "wordcloud" and r["item"]}
    assert words == {"hope": "7", "tea": "4", "cake": "3"}
    await study.send(study.people[0], "wordcloud", {"words": ["hope", "zebra"]})
    await study.send(study.people[1], "wordcloud", {"words": ["hope", "zebra"]})
    summary = rows((await study.bundle())["summary.csv"])
    assert "zebra" not in {r["item"] for r in summary}  # two people: below k


async def test_promise_11_hidden_counts_cannot_be_recovered_from_totals(study: Study) -> None:
    summary = rows((await study.bundle())["summary.csv"])
    choice_id = study.questions["choice"]["id"]
    single = [r for r in summary if r["question_id"] == choice_id and r["item"]]
    # Bus 4, Car 2, Foot 0 of n = 6: Car (2 < k) is hidden, and so is Bus, or 6 - 0 - Bus gives Car away.
    assert [r["count"] for r in single] == ["*", "*", "0"]
    for row in summary:
        for name in ("count", *[f"count_{i}" for i in range(1, 11)]):
            value = row[name]
            assert value in ("", "*") or not (0 < int(value) < K), (name, row)


async def test_promise_12_the_bundle_holds_no_identifier_and_re_keys_pseudonyms(api: Api) -> None:
    study = await build_study(api)
    first, second = await study.bundle(), await study.bundle()
    text = b"".join(first.values()).decode()
    tokens = [p["participant_token"] for p in study.people]
    async with api.app.state.database.read_session() as db:
        ids = list(await db.scalars(select(Participant.id)))
        hashes = list(await db.scalars(select(Participant.token_hash)))
        emails = list(await db.scalars(select(Account.email)))
    for secret in [*tokens, *ids, *hashes, *emails, "127.0.0.1", "python-httpx", "example.org"]:
        assert secret not in text, secret
    assert not re.search(r"\b\d{1,2}:\d{2}(:\d{2})?\b", text), "a time of day"
    ones = {r["respondent"] for r in rows(first["responses.csv"])}
    twos = {r["respondent"] for r in rows(second["responses.csv"])}
    assert len(ones) == len(twos) == len(study.people)
    assert not ones & twos  # re-keyed on every export

    # Rows in random order. Re-keying alone makes two exports differ, so the rows are compared without
    # their pseudonyms (some 70 rows: the same order twice by chance is out of reach). The order of the
    # people behind the pseudonyms, file by file: tests/research/test_export.py, test_rows_are_shuffled_*.
    def unkeyed(data: bytes) -> list[list[str]]:
        return [[v for k, v in r.items() if k != "respondent"] for r in rows(data)]

    assert unkeyed(first["responses.csv"]) != unkeyed(second["responses.csv"])
    assert "minutes" not in rows(first["responses.csv"])[0]


async def test_promise_13_free_text_is_redacted_and_formulas_escaped(study: Study) -> None:
    bundle = await study.bundle()
    comments = bundle["comments.csv"].decode()
    assert "jo@example.org" not in comments and "07700 900123" not in comments
    assert "Mail me at [email] or call [phone]" in comments
    assert "I live at [postcode]" in comments
    texts = [r["text"] for r in rows(bundle["comments.csv"])]
    assert '\'=HYPERLINK("[url]")' in texts


async def test_promise_14_codebook_datapackage_and_readme(study: Study, tmp_path: Path) -> None:
    from frictionless import Package

    bundle = await study.bundle()
    for name, data in bundle.items():
        (tmp_path / name).write_bytes(data)
    package = Package(str(tmp_path / "datapackage.json"))
    report = package.validate()
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    codebook = rows(bundle["questions.csv"])
    scale = [r for r in codebook if r["kind"] == "scale"]
    assert [r["item_label"] for r in scale] == ["The room was warm", "I was heard"]
    assert scale[0]["value_labels"].startswith("1=Strongly disagree")
    readme = bundle["README.txt"].decode()
    assert f"k (the fewest answers a summary shows): {K}" in readme and "Protections applied" in readme


async def test_promise_15_purge_deletes_raw_answers_past_retention_and_delete_removes_all(
    study: Study,
) -> None:
    api = study.api
    async with api.app.state.database.session() as db:
        await db.execute(
            update(LiveSession)
            .where(LiveSession.id == study.session["id"])
            .values(created_at=utcnow() - timedelta(days=400), retention_days=365)
        )
        await db.commit()
    from app.research import retention

    async with api.app.state.database.session() as db:
        due = await retention.due(db)
        assert [live.id for live in due] == [study.session["id"]]
        report = await retention.purge_session(db, live=due[0], dry_run=False)
        await db.commit()
    assert report.deleted["answer"] == 7 * 5
    assert await _count(api, Answer) == 0 and await _count(api, Participant) == 0
    summary = rows((await study.bundle())["summary.csv"])
    assert any(r["item"] == "hope" and r["count"] == "7" for r in summary)  # final results stay
    r = await api.client.delete(f"/api/sessions/{study.session['id']}", headers=study.auth)
    assert r.status_code == 204
    r = await api.client.get(f"/api/sessions/{study.session['id']}", headers=study.auth)
    assert_error(r, 404, "not_found")


async def test_promise_16_audit_log_records_who_and_when(study: Study) -> None:
    api, auth, session = study.api, study.auth, study.session
    question = study.questions["choice"]
    assert (await api.patch_question(auth, session, question, results_visible=True)).status_code == 200
    entry = (await api.entries(auth, session, study.questions["open"]))[0]
    hidden = await api.moderate(auth, session, study.questions["open"], entry["id"], status="hidden")
    assert hidden.status_code == 200
    assert (await api.patch_question(auth, session, question, open=False)).status_code == 200
    await study.export()
    r = await api.client.post(
        f"/api/sessions/{session['id']}/withdraw",
        headers={"Authorization": f"Bearer {study.people[6]['participant_token']}"},
    )
    assert r.status_code == 200
    log = (await api.client.get(f"/api/sessions/{session['id']}/audit", headers=auth)).json()["events"]
    actions = [e["action"] for e in log]
    for action in ("question.open", "question.reveal", "moderation", "question.close", "export"):
        assert action in actions, actions
    assert "withdrawal" in actions
    withdrawal = next(e for e in log if e["action"] == "withdrawal")
    assert withdrawal["actor"] == "participant" and withdrawal["detail"] == {}
    export = next(e for e in log if e["action"] == "export")
    assert export["actor"].endswith("@example.org") and export["at"]
