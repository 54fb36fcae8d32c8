"""Issue 7, done when: one session with a question of every kind, nine phones over real sockets (a real
uvicorn on a free port), and every number of every summary checked against values worked out by hand
below, including a statement below k, a word used by k-1 people, declined answers, and an entry hidden
by moderation. k = 3 throughout."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.factories import Api, Socket

K = 3


async def test_every_kind_with_nine_phones(live_api: Api) -> None:
    api = live_api
    auth = await api.facilitator()
    session = await api.create_session(auth, min_group=K)
    choice_q = await api.open_question(
        auth, session, kind="choice", prompt="How did you come?", options=["A", "B", "C"], comments=True
    )
    scale_q = await api.open_question(
        auth,
        session,
        kind="scale",
        prompt="Your team",
        statements=["I feel heard", "I know who to ask", "I would stay"],
        points=5,
        labels=["Strongly disagree", "Strongly agree"],
    )
    cloud_q = await api.open_question(auth, session, kind="wordcloud", prompt="Community is…", max_entries=3)
    open_q = await api.open_question(auth, session, kind="open", prompt="What would help?")
    rank_q = await api.open_question(
        auth, session, kind="ranking", prompt="Priorities", options=["X", "Y", "Z"]
    )
    qa_q = await api.open_question(auth, session, kind="qa", prompt="Questions", moderated=True)
    r = await api.patch_question(auth, session, qa_q, results_visible=True)
    assert r.status_code == 200
    presenter = await api.presenter(auth, session)
    p = [await api.phone(session) for _ in range(9)]
    ids = iter(range(10_000))

    async def answer(phone: Socket, question: dict[str, Any], value: Any) -> None:
        await phone.acked("answer", {"question_id": question["id"], "value": value}, f"m{next(ids)}")

    # choice: A, A, B, A, C, prefer not, B, A; p8 does not answer. p2 sends B again (no change).
    a, b, c = (o["id"] for o in choice_q["options"])
    for phone, pick in zip(p, [a, a, b, a, c, None, b, a], strict=False):
        await answer(phone, choice_q, None if pick is None else {"choices": [pick]})
    await answer(p[2], choice_q, {"choices": [b]})
    # Comments on it: four people; the third's is flagged by the abuse list and waits (pending).
    for phone, text in zip(
        p, ["Parking is the problem", "More buses please", "what a shit bus", "Good session"], strict=False
    ):
        await phone.acked("comment", {"question_id": choice_q["id"], "text": text}, f"m{next(ids)}")

    # scale: S3 is rated by one person only (below k); p5 declines the whole question.
    s1, s2, s3 = (s["id"] for s in scale_q["statements"])
    for phone, ratings in zip(
        p,
        [
            {s1: 5, s2: 4, s3: None},
            {s1: 4, s2: 2},
            {s1: 2, s2: 5, s3: 1},
            {s1: 5, s2: None},
            {s1: 1},
            None,
            {s1: 3, s2: 4},
        ],
        strict=False,
    ):
        await answer(phone, scale_q, None if ratings is None else {"ratings": ratings})

    # wordcloud: "community" by five people in four spellings; "trust" by three; "care" by two (k-1);
    # "the" is a stopword; p5 declines.
    for phone, words in zip(
        p,
        [
            ["Community", "trust"],
            ["community ", "Trust"],
            ["COMMUNITIES", "care"],
            ["communities", "care", "the"],
            ["Trust"],
            None,
            ["belonging"],
            ["Community"],
        ],
        strict=False,
    ):
        await answer(phone, cloud_q, None if words is None else {"words": words})

    # open: five people write (one entry is flagged and waits); p5 and p6 decline.
    for phone, text in zip(
        p,
        [
            "More benches by the river",
            "Longer library hours",
            "shit service all round",
            "Free wifi in the park",
            "Cheaper buses",
        ],
        strict=False,
    ):
        await answer(phone, open_q, {"text": text})
    await answer(p[5], open_q, None)
    await answer(p[6], open_q, None)

    # ranking: four orders; p4 declines.
    x, y, z = (o["id"] for o in rank_q["options"])
    for phone, order in zip(p, [[x, y, z], [y, x, z], [x, z, y], [z, y, x], None], strict=False):
        await answer(phone, rank_q, None if order is None else {"order": order})

    # qa (moderated): three questions; the facilitator approves two; four votes, one refused repeat.
    for phone, text in zip(p, ["When does the bus run?", "Who funds this?", "Why?"], strict=False):
        await answer(phone, qa_q, {"text": text})
    entries = {e["text"]: e for e in await api.entries(auth, session, qa_q)}
    assert {e["status"] for e in entries.values()} == {"pending"}
    q1, q2, q3 = (entries[t]["id"] for t in ["When does the bus run?", "Who funds this?", "Why?"])
    for entry_id in (q1, q2):
        assert (await api.moderate(auth, session, qa_q, entry_id, status="approved")).status_code == 200
    for phone, entry_id in [(p[3], q1), (p[4], q1), (p[5], q2), (p[6], q1)]:
        await phone.acked("upvote", {"question_id": qa_q["id"], "entry_id": entry_id}, f"m{next(ids)}")
    again = await p[3].request("upvote", {"question_id": qa_q["id"], "entry_id": q1}, "again")
    assert again["data"]["code"] == "already_voted"
    pending = await p[7].request("upvote", {"question_id": qa_q["id"], "entry_id": q3}, "pending")
    assert pending["data"]["code"] == "unknown_entry"
    assert (await api.moderate(auth, session, qa_q, q2, highlighted=True)).status_code == 200
    assert (await api.moderate(auth, session, qa_q, q1, answered=True)).status_code == 200

    # Moderation: hide one open entry; hide the word "trust" (matched after normalisation).
    open_entries = {e["text"]: e for e in await api.entries(auth, session, open_q)}
    flagged = open_entries["shit service all round"]
    assert (flagged["status"], flagged["flagged"]) == ("pending", True)
    hidden = open_entries["Longer library hours"]
    assert (await api.moderate(auth, session, open_q, hidden["id"], status="hidden")).status_code == 200

    # Close the session: every question closes with its exact result.
    r = await api.client.patch(f"/api/sessions/{session['id']}", json={"closed": True}, headers=auth)
    assert r.status_code == 200
    r = await api.patch_question(auth, session, cloud_q, hidden_words=["TRUST"])
    assert r.status_code == 200, r.text
    await asyncio.sleep(0.3)

    results = {
        q["id"]: await api.results(auth, session, q)
        for q in [choice_q, scale_q, cloud_q, open_q, rank_q, qa_q]
    }

    # choice: A 4 (p0 p1 p3 p7), B 2 (p2 p6), C 1 (p4); p5 declined; p2's resend changed nothing.
    comments = {e["text"]: e["id"] for e in await api.entries(auth, session, choice_q) if e["comment"]}
    assert results[choice_q["id"]] == {
        "question_id": choice_q["id"],
        "n": 7,
        "hidden": False,
        "summary": {"counts": {a: 4, b: 2, c: 1}, "declined": 1},
        # Four commented; the flagged one waits, so three show, newest first.
        "comments": {
            "n": 4,
            "hidden": False,
            "entries": [
                {"id": comments[text], "text": text}
                for text in ["Good session", "More buses please", "Parking is the problem"]
            ],
        },
    }

    # scale. S1: 5 4 2 5 1 3 -> n 6, mean 20/6, sorted 1 2 3 4 5 5 -> median 3.5, top two (4, 5): 3 of 6.
    # S2: 4 2 5 4 and one "prefer not" -> n 4, mean 15/4, median 4.0, top two: 3 of 4, declined 1.
    # S3: one rating (and one "prefer not"): below k, null. p5 declined the question: n 6.
    assert results[scale_q["id"]] == {
        "question_id": scale_q["id"],
        "n": 6,
        "hidden": False,
        "summary": {
            "statements": {
                s1: {
                    "n": 6,
                    "mean": 20 / 6,
                    "median": 3.5,
                    "agree_pct": 50.0,
                    "declined": 0,
                    "counts": {"1": 1, "2": 1, "3": 1, "4": 1, "5": 2},
                },
                s2: {
                    "n": 4,
                    "mean": 3.75,
                    "median": 4.0,
                    "agree_pct": 75.0,
                    "declined": 1,
                    "counts": {"1": 0, "2": 1, "3": 0, "4": 2, "5": 1},
                },
                s3: None,
            },
            "declined": 1,
        },
    }

    # wordcloud: community 5 ("Community" typed twice, the most common spelling); trust 3 but hidden;
    # care 2 (k-1): not shown; belonging 1. Seven answered, p5 declined.
    assert results[cloud_q["id"]] == {
        "question_id": cloud_q["id"],
        "n": 7,
        "hidden": False,
        "summary": {"words": [{"text": "Community", "count": 5}], "declined": 1},
    }

    # open: five wrote (the flagged one too); shown: approved, newest first, without the hidden one.
    by_text = {e["text"]: e["id"] for e in await api.entries(auth, session, open_q)}
    assert results[open_q["id"]] == {
        "question_id": open_q["id"],
        "n": 5,
        "hidden": False,
        "summary": {
            "entries": [
                {"id": by_text["Cheaper buses"], "text": "Cheaper buses"},
                {"id": by_text["Free wifi in the park"], "text": "Free wifi in the park"},
                {"id": by_text["More benches by the river"], "text": "More benches by the river"},
            ],
            "declined": 2,
        },
    }

    # ranking. X at 1, 2, 1, 3 -> mean 7/4; Y at 2, 1, 3, 2 -> 2.0; Z at 3, 3, 2, 1 -> 9/4. p4 declined.
    assert results[rank_q["id"]] == {
        "question_id": rank_q["id"],
        "n": 4,
        "hidden": False,
        "summary": {
            "options": {
                x: {"mean_rank": 1.75, "ranks": {"1": 2, "2": 1, "3": 1}},
                y: {"mean_rank": 2.0, "ranks": {"1": 1, "2": 2, "3": 1}},
                z: {"mean_rank": 2.25, "ranks": {"1": 1, "2": 1, "3": 2}},
            },
            "declined": 1,
        },
    }

    # qa: three asked, four voted: seven took part. q1 3 votes (answered), q2 1 (highlighted); q3 waits.
    assert results[qa_q["id"]] == {
        "question_id": qa_q["id"],
        "n": 7,
        "hidden": False,
        "summary": {
            "entries": [
                {
                    "id": q1,
                    "text": "When does the bus run?",
                    "votes": 3,
                    "highlighted": False,
                    "answered": True,
                },
                {"id": q2, "text": "Who funds this?", "votes": 1, "highlighted": True, "answered": False},
            ],
            "declined": 0,
        },
    }

    # The presenter's last poll.results of each question is what the API says.
    await presenter.drain()
    shown = {m["data"]["question_id"]: m["data"] for m in presenter.log if m["type"] == "poll.results"}
    assert shown == results
    # Phones saw the Q&A (its results are visible), and no other question's results.
    await p[0].drain()
    seen = {m["data"]["question_id"] for m in p[0].log if m["type"] == "poll.results"}
    assert seen == {qa_q["id"]}
    for phone in p:
        await phone.close()
    await presenter.close()
