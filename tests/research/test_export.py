"""The bundle's files, read as a researcher would, and the routes and command that make it."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from frictionless import Resource, Schema

from app.auth.models import Role
from app.breakouts import service as breakouts_service
from app.research import redaction
from tests.conftest import ServerProcess
from tests.factories import PASSWORD, Api, assert_error, choice
from tests.research.conftest import PEOPLE, Study, build_study, rows

FILES = {
    "README.txt",
    "questions.csv",
    "responses.csv",
    "summary.csv",
    "comments.csv",
    "private_messages.csv",
    "datapackage.json",
}


class TestBundle:
    async def test_it_holds_exactly_the_files_of_the_issue(self, study: Study) -> None:
        assert set(await study.bundle()) == FILES

    async def test_responses_read_with_typed_columns(self, study: Study, tmp_path: Path) -> None:
        bundle = await study.bundle()
        for name, data in bundle.items():
            (tmp_path / name).write_bytes(data)
        schema = Schema.from_descriptor(_schema(bundle, "responses"))
        with Resource(path="responses.csv", basepath=str(tmp_path), schema=schema) as resource:
            typed = [row.to_dict() for row in resource.read_rows()]
        assert len(typed) == len(rows(bundle["responses.csv"]))
        ratings = [r["value"] for r in typed if r["question_kind"] == "scale" and not r["declined"]]
        assert ratings and all(isinstance(v, int) and 1 <= v <= 5 for v in ratings)
        assert {type(r["declined"]) for r in typed} == {bool}
        ranks = [r for r in typed if r["question_kind"] == "ranking"]
        assert len(ranks) == PEOPLE * 3 and {r["value"] for r in ranks} == {1, 2, 3}

    async def test_export_csv_is_responses_csv_alone(self, study: Study) -> None:
        r = await study.export("export.csv")
        assert r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        got = rows(r.content)
        assert len(got) == len(rows((await study.bundle())["responses.csv"]))
        assert list(got[0]) == [
            "respondent",
            "section",
            "question_id",
            "question_kind",
            "item",
            "value",
            "value_label",
            "text",
            "group",
            "declined",
        ]

    async def test_minutes_since_the_start_only_when_the_session_asked(self, api: Api) -> None:
        study = await build_study(api, minutes=True)
        bundle = await study.bundle()
        minutes = [r["minutes"] for r in rows(bundle["responses.csv"])]
        assert all(m == "" or m.isdigit() for m in minutes) and "0" in minutes
        assert b"minutes since" in bundle["README.txt"] or b"`minutes` column" in bundle["README.txt"]

    async def test_the_readme_names_the_bundles_date(self, study: Study) -> None:
        """ETHICS 5: each bundle is dated, so a researcher knows which bundles a withdrawal outdates. The
        date is the day the bundle was made (UTC), the same in README.txt, datapackage.json and on
        every zip member, and never a time of day."""
        before = datetime.now(UTC).date()
        r = await study.export()
        after = datetime.now(UTC).date()
        with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
            readme = archive.read("README.txt").decode()
            package = json.loads(archive.read("datapackage.json"))
            stamped = {date(*info.date_time[:3]) for info in archive.infolist()}
        dated = re.findall(r"^Bundle made on: (\d{4})-(\d{2})-(\d{2}) \(UTC\)$", readme, re.MULTILINE)
        assert len(dated) == 1, readme
        made_on = date(*map(int, dated[0]))
        assert before <= made_on <= after
        assert package["thirdspace"]["bundle_date"] == made_on.isoformat()
        assert stamped == {made_on}

    async def test_a_zip_member_carries_no_time_of_day(self, study: Study) -> None:
        r = await study.export()
        with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
            assert {info.date_time[3:] for info in archive.infolist()} == {(0, 0, 0)}

    async def test_each_row_names_its_questions_section(self, api: Api, tmp_path: Path) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=3)
        base = f"/api/sessions/{session['id']}/sections"
        sections = []
        for title in ("Arrival", "Reflection", "Arrival"):  # two sections may share a title
            r = await api.client.post(base, json={"title": title}, headers=auth)
            assert r.status_code == 201, r.text
            sections.append(r.json()["id"])
        asked = [
            await api.open_question(
                auth, session, kind="choice", prompt=f"Q{i}", options=["A", "B"], section_id=section
            )
            for i, section in enumerate([sections[0], sections[1], sections[2], None])
        ]
        joined = await api.join(session)
        for i, question in enumerate(asked):
            assert (
                await api.submit(joined, question, {"choices": [question["options"][0]["id"]]}, f"a{i}")
            ).ok
        bundle = await _bundle_of(api, auth, session)
        by_question = {r["question_id"]: r["section"] for r in rows(bundle["responses.csv"])}
        assert [by_question[q["id"]] for q in asked] == ["Arrival", "Reflection", "Arrival", ""]
        codebook = {
            r["question_id"]: (r["section"], r["section_order"]) for r in rows(bundle["questions.csv"])
        }
        assert [codebook[q["id"]] for q in asked] == [
            ("Arrival", "1"),
            ("Reflection", "2"),
            ("Arrival", "3"),
            ("", ""),
        ]
        package = json.loads(bundle["datapackage.json"])
        described = {f["name"]: f["description"] for r in package["resources"] for f in r["schema"]["fields"]}
        assert "section" in described and "empty while" not in described["section"]
        entries = package["thirdspace"]["codebook"]
        assert [(e.get("section"), e.get("section_order")) for e in entries] == [
            ("Arrival", 1),
            ("Reflection", 2),
            ("Arrival", 3),
            (None, None),
        ]
        for name, data in bundle.items():
            (tmp_path / name).write_bytes(data)
        schema = Schema.from_descriptor(_schema(bundle, "questions"))
        with Resource(path="questions.csv", basepath=str(tmp_path), schema=schema) as resource:
            typed = {row["question_id"]: row["section_order"] for row in resource.read_rows()}
        assert [typed[q["id"]] for q in asked] == [1, 2, 3, None]

    async def test_rows_are_shuffled_not_only_re_keyed(self, api: Api) -> None:
        """With pseudonyms mapped back to people, the people's order differs between exports, in
        responses.csv, in comments.csv (entries, and breakout notes, which are read apart) and in
        private_messages.csv. Unshuffled, a query gives the same order every time; shuffled, 30 rows
        come in the same order twice with chance 1/30!, so a few tries never see it by chance."""
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=3)
        wall = await api.open_question(auth, session, kind="open", prompt="Who?")
        pick = await api.open_question(auth, session, kind="choice", prompt="Which?", options=["A", "B"])
        people = 30
        ids = []
        for i in range(people):
            joined = await api.join(session)
            assert (await api.submit(joined, wall, {"text": f"person {i:02}"}, "e")).ok
            assert (await api.submit(joined, pick, choice(pick, i % 2), "c")).ok
            ids.append(await api.participant_id(joined))
        r = await api.client.post(
            f"/api/sessions/{session['id']}/rounds", json={"mode": "random", "groups": 1}, headers=auth
        )
        assert r.status_code == 201, r.text
        async with api.app.state.database.session() as db:
            for i, participant_id in enumerate(ids):
                mine = {
                    "session_id": session["id"],
                    "participant_id": participant_id,
                    "text": f"person {i:02}",
                }
                await breakouts_service.add_private(db, client_id="m", **mine)
                await breakouts_service.add_note(db, client_id="n", round_id=r.json()["id"], **mine)
            await db.commit()

        def orders(bundle: dict[str, bytes]) -> dict[str, list[Any]]:
            responses = rows(bundle["responses.csv"])
            # This export's pseudonyms, mapped to the people by the open answer each wrote.
            person = {r["respondent"]: int(r["text"][-2:]) for r in responses if r["text"]}
            assert sorted(person.values()) == list(range(people))
            comments = rows(bundle["comments.csv"])
            return {
                "responses.csv": [(person[r["respondent"]], r["question_id"]) for r in responses],
                "comments.csv": [person[c["respondent"]] for c in comments if c["source"] == "open"],
                "comments.csv (notes)": [person[c["respondent"]] for c in comments if c["source"] == "note"],
                "private_messages.csv": [
                    person[p["respondent"]] for p in rows(bundle["private_messages.csv"])
                ],
            }

        first = orders(await _bundle_of(api, auth, session))
        later = [orders(await _bundle_of(api, auth, session)) for _ in range(3)]
        for name, order in first.items():
            assert len(order) == people * (2 if name == "responses.csv" else 1)
            assert any(other[name] != order for other in later), f"{name} came in one order every time"

    async def test_another_account_gets_404(self, study: Study) -> None:
        other = await study.api.quick_facilitator()
        for path in ("export.zip", "export.csv", "audit", "consent/versions"):
            r = await study.api.client.get(f"/api/sessions/{study.session['id']}/{path}", headers=other)
            assert_error(r, 404, "not_found")


async def _bundle_of(api: Api, auth: dict[str, str], session: dict[str, Any]) -> dict[str, bytes]:
    r = await api.client.get(f"/api/sessions/{session['id']}/export.zip", headers=auth)
    assert r.status_code == 200, r.text
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _schema(bundle: dict[str, bytes], name: str) -> dict[str, Any]:
    package = json.loads(bundle["datapackage.json"])
    return next(r["schema"] for r in package["resources"] if r["name"] == name)


class TestHiddenWords:
    async def test_a_hidden_word_leaves_the_summaries_and_its_responses_rows_stay(self, study: Study) -> None:
        """Issue 7: a word the facilitator hides leaves later exports' summaries (summary.csv: "nor a word
        the facilitator hid", docs/researcher-guide.md), read from the raw answers and, after purge, from
        the results kept at close. Hiding is a screen decision, not a deletion: responses.csv keeps one
        row per participant who used the word, as comments.csv keeps hidden entries, marked."""
        cloud = study.questions["wordcloud"]

        def words(bundle: dict[str, bytes]) -> dict[str, str]:
            """summary.csv's word rows of the cloud: normalised word -> count."""
            summary = rows(bundle["summary.csv"])
            return {r["item"]: r["count"] for r in summary if r["question_id"] == cloud["id"] and r["item"]}

        def used(bundle: dict[str, bytes], word: str) -> int:
            """responses.csv's rows of the cloud with this word."""
            responses = rows(bundle["responses.csv"])
            return sum(1 for r in responses if r["question_id"] == cloud["id"] and r["item"] == word)

        r = await study.api.client.patch(
            f"/api/sessions/{study.session['id']}", json={"closed": True}, headers=study.auth
        )
        assert r.status_code == 200, r.text
        before = await study.bundle()
        assert words(before) == {"hope": "7", "tea": "4", "cake": "3"}
        # Hidden after the session closed (moderation stays open), by a spelling that normalises to it.
        r = await study.api.patch_question(study.auth, study.session, cloud, hidden_words=["TEA"])
        assert (r.status_code, r.json()["hidden_words"]) == (200, ["TEA"])
        after = await study.bundle()
        assert words(after) == {"hope": "7", "cake": "3"}
        assert b"tea" not in after["summary.csv"].lower()
        assert (used(before, "tea"), used(after, "tea")) == (4, 4)
        # After purge, summary.csv comes from the results kept at close, which still hold the word.
        from app.research import retention
        from app.sessions.models import LiveSession

        async with study.api.app.state.database.session() as db:
            live = await db.get(LiveSession, study.session["id"])
            assert live is not None
            await retention.purge_session(db, live=live, dry_run=False)
            await db.commit()
        purged = await study.bundle()
        assert words(purged) == {"hope": "7", "cake": "3"}
        assert used(purged, "tea") == 0  # purge deletes the raw answers, every word's rows with them


class TestResearchers:
    async def test_a_researcher_sees_results_and_exports_and_cannot_run_the_session(
        self, study: Study
    ) -> None:
        api = study.api
        email = await api.create_account(role=Role.researcher)
        researcher = await api.token(email)
        sid = study.session["id"]
        assert_error(await api.client.get(f"/api/sessions/{sid}", headers=researcher), 404, "not_found")
        r = await api.client.post(
            f"/api/sessions/{sid}/researchers", json={"email": email}, headers=study.auth
        )
        assert r.status_code == 201, r.text
        assert (await api.client.get(f"/api/sessions/{sid}", headers=researcher)).status_code == 200
        question = study.questions["wordcloud"]
        r = await api.client.get(
            f"/api/sessions/{sid}/questions/{question['id']}/results", headers=researcher
        )
        assert r.status_code == 200 and r.json()["hidden"] is False
        assert (
            await api.client.get(f"/api/sessions/{sid}/export.zip", headers=researcher)
        ).status_code == 200
        listed = (await api.client.get("/api/sessions", headers=researcher)).json()
        assert [(s["id"], s["role"]) for s in listed] == [(sid, "researcher")]
        r = await api.client.patch(
            f"/api/sessions/{sid}/questions/{question['id']}", json={"open": False}, headers=researcher
        )
        assert_error(r, 403, "forbidden")
        assert_error(await api.client.delete(f"/api/sessions/{sid}", headers=researcher), 403, "forbidden")
        log = (await api.client.get(f"/api/sessions/{sid}/audit", headers=study.auth)).json()["events"]
        assert any(e["action"] == "export" and e["actor"] == email for e in log)
        account_id = next(x["id"] for x in await _researchers(api, study) if x["email"] == email)
        r = await api.client.delete(f"/api/sessions/{sid}/researchers/{account_id}", headers=study.auth)
        assert r.status_code == 204
        assert_error(await api.client.get(f"/api/sessions/{sid}", headers=researcher), 404, "not_found")

    async def test_an_unknown_e_mail_is_refused_with_its_field(self, study: Study) -> None:
        r = await study.api.client.post(
            f"/api/sessions/{study.session['id']}/researchers",
            json={"email": "nobody@example.org"},
            headers=study.auth,
        )
        assert_error(r, 422, "unknown_account", fields={"email"})


async def _researchers(api: Api, study: Study) -> list[dict[str, str]]:
    r = await api.client.get(f"/api/sessions/{study.session['id']}/researchers", headers=study.auth)
    assert r.status_code == 200
    return list(r.json()["researchers"])


class TestSheetVersions:
    async def test_editing_after_consent_keeps_versions_and_counts_each(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=3, consent_text="Version one.")
        first = await api.join(session)
        assert (await api.consent(session, first)).status_code == 200
        r = await api.client.patch(
            f"/api/sessions/{session['id']}",
            json={"settings": {"consent_text": "Version **two**."}},
            headers=auth,
        )
        assert r.status_code == 200, r.text
        second = await api.join(session)
        assert second["consent"]["html"] == "<p>Version <strong>two</strong>.</p>\n"
        assert (await api.consent(session, second)).status_code == 200
        # The first participant keeps the version they agreed to, and is not asked again.
        question = await api.live_question(auth, session)
        assert (await api.submit(first, question, {"choices": [question["options"][0]["id"]]}, "x")).ok
        r = await api.client.get(f"/api/sessions/{session['id']}/consent/versions", headers=auth)
        versions = r.json()["versions"]
        assert [(v["text"], v["participants"], v["current"]) for v in versions] == [
            ("Version one.", 1, False),
            ("Version **two**.", 1, True),
        ]

    async def test_a_sheet_cannot_carry_script(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        text = '<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror="alert(1)">'
        session = await api.create_session(auth, consent_text=text)
        html = (await api.join(session))["consent"]["html"]
        # Every tag is a paragraph: the script and the image are text, the javascript: link no link.
        assert re.findall(r"<(\w+)", html) == ["p"]
        assert "&lt;script&gt;" in html and "&lt;img" in html


class TestRedaction:
    def test_each_pattern(self) -> None:
        assert redaction.redact("jo.bloggs+x@nhs.net") == "[email]"
        assert redaction.redact("see https://example.org/a?b=1") == "see [url]"
        assert redaction.redact("943 476 5919") == "[nhs-number]"
        assert redaction.redact("+44 7700 900123") == "[phone]"
        assert redaction.redact("LS1 4AP and sw1a1aa") == "[postcode] and [postcode]"
        assert redaction.redact("we were 12 of 30 in 2024") == "we were 12 of 30 in 2024"

    def test_the_nhs_check_digit(self) -> None:
        assert redaction.nhs_number_valid("9434765919")
        assert not redaction.nhs_number_valid("9434765918")
        assert not redaction.nhs_number_valid("1234567890")  # check digit would be 10: never valid

    def test_formula_cells_are_escaped(self) -> None:
        for cell in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=x"):
            assert redaction.escape_cell(cell) == "'" + cell
        assert redaction.escape_cell("fine") == "fine"


class TestCommandLine:
    def test_export_purge_and_delete(self, server_process: ServerProcess, tmp_path: Path) -> None:
        cli = [sys.executable, "-m", "app.cli"]

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([*cli, *args], env=server_process.env, capture_output=True, text=True)

        with httpx.Client(base_url=server_process.http) as http:
            login = {"username": "facilitator@example.org", "password": PASSWORD}
            token = http.post("/api/auth/token", data=login).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            body = {"title": "CLI", "settings": {"retention_days": 1}}
            sid = http.post("/api/sessions", json=body, headers=auth).json()["id"]
            out = tmp_path / "bundle.zip"
            done = run("export", sid, "-o", str(out))
            assert done.returncode == 0, done.stderr
            with zipfile.ZipFile(out) as archive:
                assert set(archive.namelist()) == FILES
            done = run("export", sid, "-o", str(tmp_path / "r.csv"))
            assert done.returncode == 0 and (tmp_path / "r.csv").read_text().startswith("respondent,")
            done = run("purge", "--dry-run")
            assert done.returncode == 0 and "nothing to purge" in done.stdout
            done = run("delete", sid)
            assert done.returncode == 2 and "--yes" in done.stderr
            done = run("delete", sid, "--yes")
            assert done.returncode == 0, done.stderr
            assert http.get(f"/api/sessions/{sid}", headers=auth).status_code == 404
            # The audit log outlives the session: the exports and the deletion, by the command line.
            log = server_process.sql(
                "SELECT action, actor FROM audit_event WHERE session_id = :sid ORDER BY id", sid=sid
            )
            assert [tuple(e) for e in log][-3:] == [
                ("export", "command line"),
                ("export", "command line"),
                ("session.delete", "command line"),
            ]
            done = run("export", "nope", "-o", str(out))
            assert done.returncode == 2 and "no session has the id nope" in done.stderr
