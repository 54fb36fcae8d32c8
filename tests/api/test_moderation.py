"""Entries and their moderation, hidden words, comments, the session language, and how the k rule
treats entries (new ones wait for a step; a facilitator's action shows at once)."""

from __future__ import annotations

from typing import Any

import pytest

from app.polls.text.stopwords import LANGUAGES
from app.sessions.schemas import Language
from tests.factories import Api, assert_error

K = 3


class Room:
    """A session (k = 3) with one open question; people join and write through the app's writer."""

    def __init__(
        self, api: Api, auth: dict[str, str], session: dict[str, Any], question: dict[str, Any]
    ) -> None:
        self.api = api
        self.auth = auth
        self.session = session
        self.question = question
        self.people: list[dict[str, Any]] = []
        self._ids = 0

    async def person(self) -> dict[str, Any]:
        joined = await self.api.join(self.session)
        if joined["consent"]["required"]:
            assert (await self.api.consent(self.session, joined)).status_code == 200
        self.people.append(joined)
        return joined

    async def send(self, value: Any, person: dict[str, Any] | None = None, type_: str = "answer") -> None:
        person = person or await self.person()
        self._ids += 1
        outcome = await self.api.submit(person, self.question, value, f"m{self._ids}", type_=type_)
        assert outcome.ok, outcome

    async def step(self) -> None:
        from app.polls.results import _step

        await _step(self.api.app.state.database, self.question["id"])

    async def shown(self) -> dict[str, Any]:
        return await self.api.results(self.auth, self.session, self.question)

    async def entries(self) -> list[dict[str, Any]]:
        return await self.api.entries(self.auth, self.session, self.question)

    async def entry(self, text: str) -> dict[str, Any]:
        (found,) = [e for e in await self.entries() if e["text"] == text]
        return found

    async def moderate(self, text: str, **body: Any) -> dict[str, Any]:
        r = await self.api.moderate(
            self.auth, self.session, self.question, (await self.entry(text))["id"], **body
        )
        assert r.status_code == 200, r.text
        return dict(r.json())


async def room(api: Api, consent_text: str | None = None, **question: Any) -> Room:
    # The ticker is stopped: these tests take every step themselves.
    await api.app.state.ticker.stop()
    auth = await api.quick_facilitator()
    session = await api.create_session(
        auth, min_group=K, **({"consent_text": consent_text} if consent_text else {})
    )
    opened = await api.open_question(auth, session, **question)
    return Room(api, auth, session, opened)


def texts(result: dict[str, Any]) -> list[str]:
    return [e["text"] for e in result["summary"]["entries"]]


class TestEntriesRoute:
    async def test_every_entry_newest_first_with_its_status(self, api: Api) -> None:
        wall = await room(api, kind="open", prompt="Tell us", comments=True)
        await wall.send({"text": "first"})
        await wall.send({"text": "what a load of shit"})
        await wall.send("a comment", type_="comment")
        entries = await wall.entries()
        assert [(e["text"], e["status"], e["flagged"], e["comment"]) for e in entries] == [
            ("a comment", "approved", False, True),
            ("what a load of shit", "pending", True, False),
            ("first", "approved", False, False),
        ]
        assert all(
            set(e) == {"id", "text", "status", "comment", "flagged", "votes", "highlighted", "answered"}
            for e in entries
        )
        assert all(e["votes"] is None and e["highlighted"] is None for e in entries)

    async def test_a_moderated_question_keeps_every_entry_pending(self, api: Api) -> None:
        wall = await room(api, kind="open", prompt="Tell us", moderated=True)
        await wall.send({"text": "first"})
        assert [(e["status"], e["flagged"]) for e in await wall.entries()] == [("pending", False)]

    async def test_of_another_accounts_session_is_404(self, api: Api) -> None:
        wall = await room(api, kind="open", prompt="Tell us")
        stranger = await api.quick_facilitator()
        r = await api.client.get(
            f"/api/sessions/{wall.session['id']}/questions/{wall.question['id']}/entries", headers=stranger
        )
        assert_error(r, 404, "not_found")

    async def test_a_choice_question_has_only_its_comments(self, api: Api) -> None:
        choice = await room(api, kind="choice", prompt="Which?", options=["A", "B"])
        assert await choice.entries() == []


class TestModerate:
    async def test_approve_hide_archive(self, api: Api) -> None:
        wall = await room(api, kind="open", prompt="Tell us", moderated=True)
        await wall.send({"text": "first"})
        for status in ("approved", "hidden", "archived", "approved"):
            assert (await wall.moderate("first", status=status))["status"] == status

    async def test_back_to_pending_is_422(self, api: Api) -> None:
        wall = await room(api, kind="open", prompt="Tell us")
        await wall.send({"text": "first"})
        r = await api.moderate(
            wall.auth, wall.session, wall.question, (await wall.entry("first"))["id"], status="pending"
        )
        assert_error(r, 422, "invalid", fields={"status"})

    async def test_highlighting_one_question_unhighlights_the_other(self, api: Api) -> None:
        qa = await room(api, kind="qa", prompt="Ask")
        await qa.send({"text": "one?"})
        await qa.send({"text": "two?"})
        assert (await qa.moderate("one?", highlighted=True))["highlighted"] is True
        assert (await qa.moderate("two?", highlighted=True))["highlighted"] is True
        assert [(e["text"], e["highlighted"]) for e in await qa.entries()] == [
            ("two?", True),
            ("one?", False),
        ]
        assert (await qa.moderate("two?", answered=True))["answered"] is True

    async def test_highlighting_a_question_not_approved_is_409(self, api: Api) -> None:
        qa = await room(api, kind="qa", prompt="Ask", moderated=True)
        await qa.send({"text": "one?"})
        r = await api.moderate(
            qa.auth, qa.session, qa.question, (await qa.entry("one?"))["id"], highlighted=True
        )
        assert_error(r, 409, "entry_not_visible")

    async def test_hiding_a_highlighted_question_ends_its_highlight(self, api: Api) -> None:
        qa = await room(api, kind="qa", prompt="Ask")
        await qa.send({"text": "one?"})
        await qa.moderate("one?", highlighted=True)
        assert (await qa.moderate("one?", status="hidden"))["highlighted"] is False

    async def test_highlight_or_answered_outside_a_qa_is_422(self, api: Api) -> None:
        wall = await room(api, kind="open", prompt="Tell us")
        await wall.send({"text": "first"})
        entry_id = (await wall.entry("first"))["id"]
        r = await api.moderate(wall.auth, wall.session, wall.question, entry_id, highlighted=True)
        assert_error(r, 422, "invalid", fields={"highlighted"})
        r = await api.moderate(wall.auth, wall.session, wall.question, entry_id, answered=True)
        assert_error(r, 422, "invalid", fields={"answered"})

    async def test_an_entry_of_another_question_is_404(self, api: Api) -> None:
        wall = await room(api, kind="open", prompt="Tell us")
        other = await api.open_question(wall.auth, wall.session, kind="open", prompt="Other")
        await wall.send({"text": "first"})
        r = await api.moderate(
            wall.auth, wall.session, other, (await wall.entry("first"))["id"], status="hidden"
        )
        assert_error(r, 404, "not_found")

    async def test_moderation_still_works_in_a_closed_session(self, api: Api) -> None:
        wall = await room(api, kind="open", prompt="Tell us")
        await wall.send({"text": "first"})
        r = await api.client.patch(
            f"/api/sessions/{wall.session['id']}", json={"closed": True}, headers=wall.auth
        )
        assert r.status_code == 200
        assert (await wall.moderate("first", status="hidden"))["status"] == "hidden"


class TestEntriesAndTheKRule:
    async def test_the_wall_shows_once_k_people_wrote_and_new_entries_wait_for_a_step(self, api: Api) -> None:
        wall = await room(api, kind="open", prompt="Tell us")
        await wall.send({"text": "one"})
        await wall.send({"text": "two"})
        await wall.step()
        assert (await wall.shown())["hidden"] is True
        await wall.send({"text": "three"})
        await wall.step()
        assert texts(await wall.shown()) == ["three", "two", "one"]
        await wall.send({"text": "four"})
        await wall.step()
        # One person wrote since the step: the new card would show who just wrote it.
        assert texts(await wall.shown()) == ["three", "two", "one"]
        await wall.send({"text": "five"})
        await wall.send({"text": "six"})
        await wall.step()
        assert texts(await wall.shown()) == ["six", "five", "four", "three", "two", "one"]

    async def test_several_entries_of_one_person_count_once(self, api: Api) -> None:
        wall = await room(api, kind="open", prompt="Tell us")
        me = await wall.person()
        for text in ("a", "b", "c"):
            await wall.send({"text": text}, person=me)
        await wall.step()
        assert (await wall.shown())["n"] == 0  # one participant changed: no step
        await api.patch_question(wall.auth, wall.session, wall.question, open=False)
        assert (await wall.shown())["n"] == 1

    async def test_hiding_shows_at_once(self, api: Api) -> None:
        wall = await room(api, kind="open", prompt="Tell us")
        for text in ("one", "two", "three"):
            await wall.send({"text": text})
        await wall.step()
        await wall.moderate("two", status="hidden")
        assert texts(await wall.shown()) == ["three", "one"]
        await wall.moderate("two", status="approved")
        assert texts(await wall.shown()) == ["three", "two", "one"]

    async def test_an_approved_entry_of_a_moderated_question_shows_at_once(self, api: Api) -> None:
        wall = await room(api, kind="open", prompt="Tell us", moderated=True)
        for text in ("one", "two", "three"):
            await wall.send({"text": text})
        await wall.step()
        assert texts(await wall.shown()) == []
        await wall.send({"text": "four"})
        await wall.moderate("four", status="approved")
        await wall.moderate("one", status="approved")
        # "four" came after the step: only the facilitator's approval brings it in, without a step.
        assert texts(await wall.shown()) == ["four", "one"]
        assert (await wall.shown())["n"] == 3

    async def test_an_entry_whose_author_left_stays_until_the_next_step(self, api: Api) -> None:
        wall = await room(api, consent_text="About this study.", kind="open", prompt="Tell us")
        for text in ("one", "two", "three"):
            await wall.send({"text": text}, person=await wall.person())
        await wall.step()
        assert (await api.consent(wall.session, wall.people[0], agree=False)).status_code == 200
        await wall.step()
        assert texts(await wall.shown()) == ["three", "two", "one"]
        await wall.send({"text": "four"}, person=await wall.person())
        await wall.send({"text": "five"}, person=await wall.person())
        await wall.step()
        shown = await wall.shown()
        assert (shown["n"], texts(shown)) == (4, ["five", "four", "three", "two"])

    async def test_declined_counts_who_wrote_nothing(self, api: Api) -> None:
        wall = await room(api, kind="open", prompt="Tell us")
        for text in ("one", "two", "three"):
            await wall.send({"text": text})
        await wall.send(None)
        changed_mind = await wall.person()
        await wall.send(None, person=changed_mind)
        await wall.send({"text": "four"}, person=changed_mind)
        await api.patch_question(wall.auth, wall.session, wall.question, open=False)
        assert (await wall.shown())["summary"]["declined"] == 1

    async def test_qa_counts_askers_and_voters_and_steps_votes(self, api: Api) -> None:
        qa = await room(api, kind="qa", prompt="Ask")
        await qa.send({"text": "one?"})
        entry_id = (await qa.entry("one?"))["id"]
        await qa.send(entry_id, type_="upvote")
        await qa.step()
        assert (await qa.shown())["hidden"] is True
        assert (await qa.entry("one?"))["votes"] is None  # the result is hidden: no count either
        await qa.send(entry_id, type_="upvote")
        await qa.step()
        shown = await qa.shown()
        assert (shown["n"], shown["summary"]["entries"][0]["votes"]) == (3, 2)
        assert (await qa.entry("one?"))["votes"] == 2
        await qa.send(entry_id, type_="upvote")
        await qa.step()
        # One vote since the step: counted at the next, never one by one.
        assert (await qa.shown())["summary"]["entries"][0]["votes"] == 2
        assert (await qa.entry("one?"))["votes"] == 2


class TestComments:
    async def test_comments_show_once_k_people_commented(self, api: Api) -> None:
        choice = await room(api, kind="choice", prompt="Which?", options=["A", "B"], comments=True)
        a = choice.question["options"][0]["id"]
        for _ in range(K):
            await choice.send({"choices": [a]})
        await choice.send("first", person=choice.people[0], type_="comment")
        await choice.send("second", person=choice.people[1], type_="comment")
        await choice.step()
        assert (await choice.shown())["comments"] == {"n": 2, "hidden": True, "entries": []}
        await choice.send("third", person=choice.people[2], type_="comment")
        await choice.step()
        # A comment is a change like an answer: one since the step moves nothing.
        assert (await choice.shown())["comments"]["n"] == 2
        await choice.send({"choices": [a]})
        await choice.send({"choices": [a]})
        await choice.step()
        comments = (await choice.shown())["comments"]
        assert (comments["n"], comments["hidden"], [e["text"] for e in comments["entries"]]) == (
            3,
            False,
            ["third", "second", "first"],
        )

    async def test_a_question_without_comments_has_no_comments_key(self, api: Api) -> None:
        choice = await room(api, kind="choice", prompt="Which?", options=["A", "B"])
        assert "comments" not in await choice.shown()

    async def test_show_comments_is_set_on_the_question(self, api: Api) -> None:
        choice = await room(api, kind="choice", prompt="Which?", options=["A", "B"], comments=True)
        r = await api.patch_question(choice.auth, choice.session, choice.question, show_comments=True)
        assert (r.status_code, r.json()["show_comments"]) == (200, True)

    async def test_show_comments_on_a_question_without_comments_is_422(self, api: Api) -> None:
        choice = await room(api, kind="choice", prompt="Which?", options=["A", "B"])
        r = await api.patch_question(choice.auth, choice.session, choice.question, show_comments=True)
        assert_error(r, 422, "invalid", fields={"show_comments"})


class TestHiddenWords:
    async def cloud(self, api: Api) -> Room:
        cloud = await room(api, kind="wordcloud", prompt="One word")
        for words in (["Trust", "care"], ["trust", "care"], ["Trust", "care"]):
            await cloud.send({"words": words})
        await cloud.step()
        return cloud

    async def test_a_hidden_word_leaves_at_once_and_comes_back(self, api: Api) -> None:
        cloud = await self.cloud(api)
        assert [w["text"] for w in (await cloud.shown())["summary"]["words"]] == ["care", "Trust"]
        r = await api.patch_question(cloud.auth, cloud.session, cloud.question, hidden_words=["  trusts "])
        assert (r.status_code, r.json()["hidden_words"]) == (200, ["trusts"])
        assert [w["text"] for w in (await cloud.shown())["summary"]["words"]] == ["care"]
        await api.patch_question(cloud.auth, cloud.session, cloud.question, hidden_words=[])
        assert [w["text"] for w in (await cloud.shown())["summary"]["words"]] == ["care", "Trust"]

    async def test_the_session_shows_them_to_the_facilitator(self, api: Api) -> None:
        cloud = await self.cloud(api)
        await api.patch_question(cloud.auth, cloud.session, cloud.question, hidden_words=["care"])
        shown = await api.client.get(f"/api/sessions/{cloud.session['id']}", headers=cloud.auth)
        assert shown.json()["questions"][0]["hidden_words"] == ["care"]

    @pytest.mark.parametrize("word", ["   ", "\u200b", "the"])
    async def test_a_word_with_nothing_to_hide_is_422(self, api: Api, word: str) -> None:
        cloud = await self.cloud(api)
        r = await api.patch_question(cloud.auth, cloud.session, cloud.question, hidden_words=["care", word])
        assert_error(r, 422, "invalid", fields={"hidden_words.1"})

    async def test_on_another_kind_is_422(self, api: Api) -> None:
        choice = await room(api, kind="choice", prompt="Which?", options=["A", "B"])
        r = await api.patch_question(choice.auth, choice.session, choice.question, hidden_words=["a"])
        assert_error(r, 422, "invalid", fields={"hidden_words"})


class TestLanguage:
    def test_the_settings_offer_exactly_the_languages_with_stopword_lists(self) -> None:
        assert set(Language.__args__) == set(LANGUAGES)  # type: ignore[attr-defined]

    async def test_a_session_reads_words_in_its_language(self, api: Api) -> None:
        await api.app.state.ticker.stop()
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=K, language="de")
        assert session["settings"]["language"] == "de"
        cloud = Room(
            api, auth, session, await api.open_question(auth, session, kind="wordcloud", prompt="Wort")
        )
        for words in (["Häuser", "und"], ["Haus"], ["haus"]):
            await cloud.send({"words": words})
        await api.patch_question(auth, session, cloud.question, open=False)
        assert (await cloud.shown())["summary"]["words"] == [{"text": "Haus", "count": 3}]

    async def test_an_unknown_language_is_422(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        r = await api.client.post(
            "/api/sessions", json={"title": "T", "settings": {"language": "xx"}}, headers=auth
        )
        assert_error(r, 422, "invalid", fields={"settings.language"})

    async def test_it_changes_before_answers_and_is_locked_after(self, api: Api) -> None:
        cloud = await room(api, kind="wordcloud", prompt="Word")
        await api.patch_question(cloud.auth, cloud.session, cloud.question, hidden_words=["Häuser"])
        r = await api.client.patch(
            f"/api/sessions/{cloud.session['id']}", json={"settings": {"language": "de"}}, headers=cloud.auth
        )
        assert r.status_code == 200
        await cloud.send({"words": ["Haus"]})
        await cloud.send({"words": ["Haus"]})
        await cloud.send({"words": ["Haus"]})
        await api.patch_question(cloud.auth, cloud.session, cloud.question, open=False)
        # Re-keyed in German: "Häuser" now hides "Haus".
        assert (await cloud.shown())["summary"]["words"] == []
        r = await api.client.patch(
            f"/api/sessions/{cloud.session['id']}", json={"settings": {"language": "fr"}}, headers=cloud.auth
        )
        assert_error(r, 409, "settings_locked", fields={"settings.language"})


class TestIds:
    async def test_an_upvote_or_comment_id_sent_again_changes_nothing(self, api: Api) -> None:
        qa = await room(api, kind="qa", prompt="Ask", comments=True)
        me = await qa.person()
        await qa.send({"text": "one?"})  # asked by someone else: nobody upvotes their own question
        entry_id = (await qa.entry("one?"))["id"]
        for type_, value in (("upvote", entry_id), ("comment", "hello")):
            first = await api.submit(me, qa.question, value, f"same-{type_}", type_=type_)
            again = await api.submit(me, qa.question, value, f"same-{type_}", type_=type_)
            assert first.ok and again.ok
        assert len(await qa.entries()) == 2
        await qa.step()
        await api.patch_question(qa.auth, qa.session, qa.question, open=False)
        assert (await qa.shown())["n"] == 2  # the asker and me, once

    async def test_a_refused_id_is_judged_afresh(self, api: Api) -> None:
        await api.app.state.ticker.stop()
        auth = await api.quick_facilitator()
        session = await api.create_session(auth, min_group=K)
        question = await api.add_question(auth, session, kind="open", prompt="Later", comments=True)
        me = await api.join(session)
        refused = await api.submit(me, question, "early", "c1", type_="comment")
        assert (refused.ok, refused.code) == (False, "question_not_open")
        await api.patch_question(auth, session, question, open=True)
        assert (await api.submit(me, question, "early", "c1", type_="comment")).ok


class TestDuplicate:
    async def test_a_scale_copy_has_new_statement_ids_and_the_same_fields(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        session = await api.create_session(auth)
        original = await api.add_question(
            auth,
            session,
            kind="scale",
            prompt="How?",
            statements=["S1", "S2"],
            points=7,
            labels=["lo", "hi"],
            comments=True,
        )
        r = await api.client.post(
            f"/api/sessions/{session['id']}/questions/{original['id']}/duplicate", headers=auth
        )
        copy = r.json()
        assert [s["text"] for s in copy["statements"]] == ["S1", "S2"]
        assert not {s["id"] for s in copy["statements"]} & {s["id"] for s in original["statements"]}
        assert (copy["points"], copy["labels"], copy["comments"], copy["show_comments"]) == (
            7,
            ["lo", "hi"],
            True,
            False,
        )
