"""Every cell of the bundle that comes from what a participant typed is redacted (ETHICS 13): a
word-cloud word's normalised key (responses.csv `item`, summary.csv `item`) as much as the word as
typed, and entries, comments, notes and private messages."""

from __future__ import annotations

from typing import Any

from tests.factories import Api
from tests.research.conftest import rows
from tests.research.test_breakouts_export import _bundle

# One of each pattern, typed as a word-cloud entry, and what redaction makes of it.
WORDS = {
    "jo@example.org": "[email]",
    "07700900123": "[phone]",
    "SW1A 1AA": "[postcode]",
    "www.example.com": "[url]",
    "943 476 5919": "[nhs-number]",
}


async def test_word_cloud_items_are_redacted_like_their_text(api: Api) -> None:
    auth = await api.quick_facilitator()
    session = await api.create_session(auth, min_group=3)
    cloud = await api.open_question(auth, session, kind="wordcloud", prompt="Word", max_entries=5)
    # Three people type the same five words, so summary.csv lists them (k = 3).
    for person in range(3):
        joined = await api.join(session)
        out = await api.submit(joined, cloud, {"words": list(WORDS)}, f"w{person}")
        assert out.ok, out
    bundle = await _bundle(api, auth, session)
    words = [r for r in rows(bundle["responses.csv"]) if r["question_kind"] == "wordcloud"]
    assert sorted((r["item"], r["text"]) for r in words) == sorted(
        (shown, shown) for shown in WORDS.values() for _ in range(3)
    )
    summary = [r for r in rows(bundle["summary.csv"]) if r["kind"] == "wordcloud" and r["item"]]
    assert sorted((r["item"], r["item_label"], r["count"]) for r in summary) == sorted(
        (shown, shown, "3") for shown in WORDS.values()
    )
    _nothing_as_typed(bundle, WORDS)


def _nothing_as_typed(bundle: dict[str, bytes], typed: Any) -> None:
    """No file of the bundle holds any of these as typed, or as the word cloud folds it."""
    text = b"".join(bundle.values()).decode()
    for raw in typed:
        assert raw not in text and raw.lower() not in text, raw


async def test_every_free_text_path_is_redacted(live_api: Api) -> None:
    """Open answers, Q&A questions, comments, breakout notes and private messages, each holding every
    pattern: none of them reaches the bundle as typed."""
    api = live_api
    sentence = "Reach me: " + " or ".join(WORDS)
    assert len(sentence) <= 280
    auth = await api.quick_facilitator()
    session = await api.create_session(auth, min_group=3)
    choice = await api.open_question(
        auth, session, kind="choice", prompt="Which?", options=["A", "B"], comments=True
    )
    wall = await api.open_question(auth, session, kind="open", prompt="Anything?")
    panel = await api.open_question(auth, session, kind="qa", prompt="Ask")
    joined = await api.join(session)
    sends = [(wall, {"text": sentence}, "answer"), (panel, {"text": sentence}, "answer")]
    for i, (question, value, type_) in enumerate([*sends, (choice, sentence, "comment")]):
        out = await api.submit(joined, question, value, f"t{i}", type_=type_)
        assert out.ok, out
    phone = await api.phone(session, joined)
    r = await api.client.post(
        f"/api/sessions/{session['id']}/rounds", json={"mode": "random", "groups": 1}, headers=auth
    )
    assert r.status_code == 201, r.text
    while not (await phone.expect("round.state"))["data"]["round"]:
        pass
    await phone.acked("note", {"round_id": r.json()["id"], "text": sentence}, "n1")
    await phone.acked("private", {"text": sentence}, "m1")
    await phone.close()
    bundle = await _bundle(api, auth, session)
    comments = rows(bundle["comments.csv"])
    assert sorted(c["source"] for c in comments) == ["comment", "note", "open", "qa"]
    expected = "Reach me: " + " or ".join(WORDS.values())
    assert {c["text"] for c in comments} == {expected}
    assert [p["text"] for p in rows(bundle["private_messages.csv"])] == [expected]
    texts = [r["text"] for r in rows(bundle["responses.csv"]) if r["text"]]
    assert texts == [expected, expected]  # the open answer and the Q&A question
    _nothing_as_typed(bundle, WORDS)
