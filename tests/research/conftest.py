"""A session with every kind of question answered by seven participants, and helpers to export it."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.factories import Api

K = 3
PEOPLE = 7


@dataclass
class Study:
    api: Api
    auth: dict[str, str]
    session: dict[str, Any]
    questions: dict[str, dict[str, Any]]
    people: list[dict[str, Any]] = field(default_factory=list)
    ids: int = 0

    async def send(self, person: dict[str, Any], kind: str, value: Any, type_: str = "answer") -> None:
        self.ids += 1
        outcome = await self.api.submit(person, self.questions[kind], value, f"m{self.ids}", type_=type_)
        assert outcome.ok, outcome

    async def export(self, path: str = "export.zip") -> Any:
        r = await self.api.client.get(f"/api/sessions/{self.session['id']}/{path}", headers=self.auth)
        assert r.status_code == 200, r.text
        return r

    async def bundle(self) -> dict[str, bytes]:
        r = await self.export()
        with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
            return {name: archive.read(name) for name in archive.namelist()}


def rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


async def build_study(api: Api, *, consent: str | None = None, minutes: bool = False) -> Study:
    auth = await api.quick_facilitator()
    settings: dict[str, Any] = {"min_group": K, "export_minutes": minutes}
    if consent:
        settings["consent_text"] = consent
    session = await api.create_session(auth, **settings)
    q = {
        "choice": await api.open_question(
            auth,
            session,
            kind="choice",
            prompt="How did you come?",
            options=["Bus", "Car", "Foot"],
            comments=True,
        ),
        "multi": await api.open_question(
            auth, session, kind="choice", prompt="Which days?", options=["Mon", "Tue", "Wed"], multiple=True
        ),
        "scale": await api.open_question(
            auth,
            session,
            kind="scale",
            prompt="How far do you agree?",
            statements=["The room was warm", "I was heard"],
            points=5,
            labels=["Strongly disagree", "Strongly agree"],
        ),
        "wordcloud": await api.open_question(
            auth, session, kind="wordcloud", prompt="One word", max_entries=2
        ),
        "open": await api.open_question(auth, session, kind="open", prompt="Anything else?"),
        "ranking": await api.open_question(
            auth, session, kind="ranking", prompt="Rank these", options=["Food", "Talks", "Walks"]
        ),
        "qa": await api.open_question(auth, session, kind="qa", prompt="Questions for the panel"),
    }
    study = Study(api, auth, session, q)
    choice, multi, scale, rank = q["choice"], q["multi"], q["scale"], q["ranking"]
    statements = [s["id"] for s in scale["statements"]]
    opts = [o["id"] for o in rank["options"]]
    for i in range(PEOPLE):
        joined = await api.join(session)
        if consent:
            r = await api.consent(session, joined)
            assert r.status_code == 200, r.text
            joined["withdrawal_code"] = r.json()["withdrawal_code"]
        study.people.append(joined)
        await study.send(joined, "choice", {"choices": [choice["options"][i % 2]["id"]]})
        days = {multi["options"][0]["id"], multi["options"][i % 3]["id"]}
        await study.send(joined, "multi", {"choices": sorted(days)})
        ratings = {statements[0]: 1 + i % 5, statements[1]: 4 if i < 5 else None}
        await study.send(joined, "scale", {"ratings": ratings})
        await study.send(joined, "wordcloud", {"words": ["hope", "tea" if i < 4 else "cake"]})
        await study.send(joined, "ranking", {"order": opts if i % 2 else opts[::-1]})
    await study.send(study.people[0], "open", {"text": "Mail me at jo@example.org or call 07700 900123"})
    await study.send(study.people[1], "open", {"text": '=HYPERLINK("http://evil.example")'})
    await study.send(study.people[2], "qa", {"text": "When is the next one?"})
    asked = (await api.entries(auth, session, q["qa"]))[0]
    await study.send(study.people[5], "qa", asked["id"], type_="upvote")
    await study.send(study.people[3], "choice", None)  # changes their answer to "prefer not to answer"
    await study.send(study.people[4], "choice", "I live at SW1A 1AA", type_="comment")
    return study


@pytest.fixture
async def study(api: Api) -> Study:
    return await build_study(api)
