"""The whole event in Chromium against `thirdspace serve`, as people live it: the facilitator logs in,
builds a session with an information sheet, two sections and one question of every kind from the console,
and opens the presenter from it; six phones (separate contexts, three at 390x844 and three at 320x640) join by
typing the code, by the join link and by the URL decoded from the presenter's QR image; five read and
accept the sheet, one declines and sees what a declined participant sees. Each kind is answered; the
presenter's values are read from the page, as text and as its accessibility tree (what a screen reader
reads). With k + 2 = 5 phones answering the choice, one withdraws: after the question closes the
presenter's result is the answers left. The facilitator adds a researcher (an account with the
researcher role, not the session's owner) on the console; the researcher logs in, finds the session
shared with them, downloads the export ZIP through the browser, and the test opens it.

Every step is screenshot (build/e2e/test_the_whole_event/) and checked by axe-core; a script error, a
failed request or a request to another origin on any page fails the test (tests/e2e/conftest.py)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import Watch, add_account
from tests.e2e.helpers import listitems
from tests.e2e.test_kinds import add_question, close, decline, send, start
from tests.e2e.test_subpath import decode_qr

pytestmark = pytest.mark.browser


async def add_section(console: Page, title: str) -> None:
    """Add a section from the console; the form then files new questions under it."""
    await console.fill("#section-title", title)
    await console.click("#add-section button[type=submit]")
    await expect(console.locator("#q-section option:checked")).to_have_text(title)


RESEARCHER = "researcher@example.org"
SHEET = "## What we keep\n\nYour answers, **without your name**, for the evaluation report."
K = 3


async def agree(phone: Page) -> None:
    await expect(phone.locator("#consent-text h2")).to_have_text("What we keep")
    await phone.click("#consent-agree")
    await expect(phone.locator("#withdrawal-code")).to_have_text(re.compile(r"^[a-z]+(-[a-z]+){4,}$"))
    await phone.click("#withdrawal-done")


async def read_aloud(presenter: Page, lines: list[str]) -> None:
    """The presenter's result as its accessibility tree gives it to a screen reader: its text
    equivalent (#results-text) reads exactly these lines, once the exact result after close is in."""
    text = presenter.locator("#results-text")
    await expect(text.locator("li")).to_have_text(lines)
    assert listitems(await text.aria_snapshot()) == lines


async def test_the_whole_event(watch: Watch) -> None:
    # --- the facilitator builds the session in the console ---------------------------------------
    console = await watch.facilitator(accept_downloads=True)
    await watch.step(console, "01-console-sessions")
    await console.fill("#title", "Neighbourhood forum")
    await console.fill("#consent_text", SHEET)
    await console.fill("#min_group", str(K))
    await console.click("#new-session button[type=submit]")
    await expect(console).to_have_url(re.compile(r"/console/[0-9a-f]{32}$"))
    session_id = console.url.rsplit("/", 1)[1]
    join_url = await console.locator("#join-url").get_attribute("href")
    assert join_url
    code = join_url.rsplit("/", 1)[1]

    # Sections: each question added after "Add section" belongs to the latest section.
    await add_section(console, "Opening")
    choice = await add_question(
        console, "Multiple choice", "Which area matters most?", {"#q-choice-options": "Housing\nHealth\nWork"}
    )
    scale = await add_question(
        console,
        "Rating scale",
        "How far do you agree?",
        {"#q-scale-statements": "I feel heard\nMeetings help"},
    )
    await add_section(console, "Reflections")
    cloud = await add_question(
        console, "Word cloud", "One word for this place", {"#q-wordcloud-max_entries": "2"}
    )
    wall = await add_question(console, "Open text", "What should change first?", {})
    ranking = await add_question(
        console, "Ranking", "Rank these", {"#q-ranking-options": "Parks\nBuses\nSchools"}
    )
    qa = await add_question(console, "Q&A", "Questions for the council", {})
    for card, section in [
        (choice, "Opening"),
        (scale, "Opening"),
        (cloud, "Reflections"),
        (qa, "Reflections"),
    ]:
        await expect(card.locator(".q-section")).to_have_text(f"Section: {section}")
    await watch.step(console, "02-console-built")

    async with console.context.expect_page() as opening:
        await console.click("#presenter-link")
    presenter = await opening.value
    await presenter.set_viewport_size({"width": 1280, "height": 720})
    await expect(presenter).to_have_url(re.compile(rf"/presenter/{session_id}$"))
    await expect(presenter.locator("#conn")).to_have_text("Connected")
    qr_url = await decode_qr(presenter)
    assert qr_url == join_url
    await watch.step(presenter, "03-presenter-waiting", full=False)

    # --- six phones join three ways --------------------------------------------------------------
    sizes = [(390, 844), (320, 640)] * 3
    phones: list[Page] = []
    for index, (width, height) in enumerate(sizes):
        phone = await watch.phone(width=width, height=height, accept_downloads=True)
        if index < 2:  # typing the code
            await phone.goto("/")
            await phone.fill("#code", code)
            await phone.click("#join-form button[type=submit]")
        elif index < 4:  # the join link
            await phone.goto(join_url)
        else:  # the QR code
            await phone.goto(qr_url)
        await expect(phone).to_have_url(re.compile(rf"/s/{session_id}$"))
        phones.append(phone)
    await watch.step(phones[1], "04-phone-sheet")

    declined = phones.pop()
    await declined.click("#consent-decline")
    await expect(declined.locator("#left")).to_be_visible()
    await expect(declined.locator("#left")).to_contain_text(
        "You have left the session. Nothing about you was kept."
    )
    await expect(declined.locator("#poll")).to_be_hidden()
    await watch.step(declined, "05-phone-declined")
    for phone in phones:
        await agree(phone)
    await expect(presenter.locator("#presence")).to_contain_text("5")
    await watch.step(phones[0], "06-phone-waiting")

    # --- choice: five answer, one withdraws, the result at close is the four left ----------------
    await start(choice)
    for phone, pick in zip(phones, ["Housing", "Housing", "Housing", "Housing", "Health"], strict=True):
        await expect(phone.locator("#prompt")).to_have_text("Which area matters most?")
        await phone.get_by_label(pick, exact=True).check()
        await send(phone)
    await expect(presenter.locator("#responses")).to_have_text("5 responses received")
    await watch.step(phones[0], "07-phone-choice-sent")
    leaver = phones.pop(0)
    await leaver.locator("details.privacy summary").click()
    await leaver.click("#withdraw-me")
    await leaver.click("#withdraw-confirm")
    await expect(leaver).to_have_url(re.compile(r"/withdraw\?done=1$"))
    await watch.step(leaver, "08-phone-withdrawn")
    await close(choice)
    bars = presenter.locator("#view .bar")
    await expect(bars.filter(has_text="Housing")).to_contain_text("3 (75%)")
    await expect(bars.filter(has_text="Health")).to_contain_text("1 (25%)")
    await expect(bars.filter(has_text="Work")).to_contain_text("0 (0%)")
    await expect(presenter.locator("#responses")).to_have_text("4 responses received")
    await read_aloud(presenter, ["Housing: 3 (75%)", "Health: 1 (25%)", "Work: 0 (0%)"])
    await watch.step(presenter, "09-presenter-choice", full=False)

    # --- scale -------------------------------------------------------------------------------------
    await start(scale)
    for phone, (heard, meetings) in zip(
        phones, [("4", "3"), ("5", "3"), ("5", "3"), ("4", "3")], strict=True
    ):
        await expect(phone.locator("#prompt")).to_have_text("How far do you agree?")
        for statement, point in [("I feel heard", heard), ("Meetings help", meetings)]:
            item = phone.locator("fieldset.scale-item", has_text=statement)
            await item.get_by_role("radio", name=re.compile(rf"^{point}\b")).check()
        await send(phone)
    await watch.step(phones[0], "10-phone-scale")
    await close(scale)
    rows = presenter.locator("#view .scale-row")
    await expect(rows.filter(has_text="I feel heard").locator(".scale-stats")).to_have_text(
        re.compile(r"^n 4 · mean 4\.5 · median 4\.5")
    )
    await expect(rows.filter(has_text="Meetings help").locator(".scale-stats")).to_have_text(
        re.compile(r"^n 4 · mean 3 · median 3")
    )
    await read_aloud(
        presenter,
        [
            "I feel heard: n 4 · mean 4.5 · median 4.5 · 100% chose 4 or 5; "
            "ratings 1: 0, 2: 0, 3: 0, 4: 2, 5: 2.",
            "Meetings help: n 4 · mean 3 · median 3 · 0% chose 4 or 5; ratings 1: 0, 2: 0, 3: 4, 4: 0, 5: 0.",
        ],
    )
    await watch.step(presenter, "11-presenter-scale", full=False)

    # --- word cloud: "river" by four, "trust" by two (below k, not shown) ------------------------
    await start(cloud)
    for phone, words in zip(
        phones, [["River", "trust"], ["river"], ["river", "Trust"], ["RIVER"]], strict=True
    ):
        await expect(phone.locator("#prompt")).to_have_text("One word for this place")
        for i, word in enumerate(words):
            await phone.fill(f"#word-{i}", word)
        await send(phone)
    await close(cloud)
    words_shown = presenter.locator("#view svg.cloud text")
    await expect(words_shown).to_have_count(1)
    await expect(words_shown).to_have_attribute("data-count", "4")
    # The spelling most used names the word; "trust" (2 people) is under k and never read.
    await read_aloud(presenter, ["river: 4"])
    await watch.step(presenter, "12-presenter-wordcloud", full=False)

    # --- open text ---------------------------------------------------------------------------------
    await start(wall)
    ideas = ["Safer crossings", "A bench by the river", "Longer library hours"]
    for phone, idea in zip(phones, ideas, strict=False):
        await expect(phone.locator("#prompt")).to_have_text("What should change first?")
        await phone.fill("#open-text", idea)
        await send(phone, "Sent ✓")
    await decline(phones[3])
    await close(wall)
    await expect(presenter.locator("#view .wall-card")).to_have_text(list(reversed(ideas)))
    await read_aloud(presenter, list(reversed(ideas)))  # newest first, as on the wall
    await watch.step(presenter, "13-presenter-open", full=False)

    # --- ranking: everyone the same order ----------------------------------------------------------
    await start(ranking)
    for phone in phones:
        await expect(phone.locator("#prompt")).to_have_text("Rank these")
        for option in ["Schools", "Parks", "Buses"]:
            await phone.locator(".rank-pool").get_by_role("button", name=re.compile(f"^Add {option}")).click()
        await send(phone)
    await watch.step(phones[1], "14-phone-ranking")
    await close(ranking)
    rank_rows = presenter.locator("#view .rank-row")
    await expect(rank_rows.locator(".rank-label")).to_have_text(["Schools", "Parks", "Buses"])
    await expect(rank_rows.locator(".rank-mean")).to_have_text(["1", "2", "3"])
    await read_aloud(
        presenter,
        [
            "Schools: mean rank 1; 1st 4, 2nd 0, 3rd 0.",
            "Parks: mean rank 2; 1st 0, 2nd 4, 3rd 0.",
            "Buses: mean rank 3; 1st 0, 2nd 0, 3rd 4.",
        ],
    )
    await watch.step(presenter, "15-presenter-ranking", full=False)

    # --- Q&A: three questions, two votes for one -----------------------------------------------
    await start(qa)
    asked = ["When do works start?", "Who pays?", "Can we help?"]
    for phone, text in zip(phones, asked, strict=False):
        await expect(phone.locator("#prompt")).to_have_text("Questions for the council")
        await phone.fill("#qa-text", text)
        await send(phone, "Question sent")
    for phone in phones[2:4]:
        item = phone.locator(".qa-item", has_text="Who pays?")
        await item.get_by_role("button", name=re.compile("^Upvote")).click()
        await expect(item.locator(".vote-button")).to_have_attribute("aria-pressed", "true")
        await expect(phone.locator("#announce")).to_have_text("Upvote counted ✓")  # acknowledged
    await watch.step(phones[2], "16-phone-qa")
    await close(qa)
    who_pays = presenter.locator("#view .qa-row", has_text="Who pays?")
    await expect(who_pays.locator(".qa-votes")).to_have_text("2")
    await expect(presenter.locator("#view .qa-row").first).to_contain_text("Who pays?")
    await read_aloud(
        presenter, ["Who pays?: 2 votes", "Can we help?: 0 votes", "When do works start?: 0 votes"]
    )
    # The list itself reads each question with its votes in words (the drawn count and ▲ are hidden).
    shown = listitems(await presenter.locator("#view ol.qa-top").aria_snapshot())
    assert shown == ["Who pays? (2 votes)", "Can we help? (0 votes)", "When do works start? (0 votes)"], shown
    await watch.step(presenter, "17-presenter-qa", full=False)

    # --- a researcher downloads the export through the browser -----------------------------------
    # The facilitator adds a researcher's account (made by an administrator) on the console.
    add_account(watch.server, RESEARCHER, "researcher")
    await console.reload()
    await console.locator("#researchers-card").scroll_into_view_if_needed()
    await console.fill("#researcher-email", RESEARCHER)
    await console.get_by_role("button", name="Add researcher").click()
    await expect(console.locator("#researchers-list li")).to_have_text([f"{RESEARCHER} remove"])
    await watch.step(console, "18-console-researcher-added")

    # The researcher logs in: the session is listed as shared, with its presenter and its exports,
    # and its console (the facilitator's, which runs it) is not theirs to open.
    researcher = await watch.login(RESEARCHER, accept_downloads=True)
    shared = researcher.locator("#shared-sessions li", has_text="Neighbourhood forum")
    await expect(shared).to_have_count(1)
    await expect(researcher.locator(f'a[href="/console/{session_id}"]')).to_have_count(0)
    await watch.step(researcher, "19-researcher-console")
    async with researcher.expect_download() as downloading:
        await shared.get_by_role("link", name="research bundle (.zip)").click()
    download = await downloading.value
    assert download.suggested_filename.endswith("bundle.zip"), download.suggested_filename
    path = await download.path()
    assert path is not None
    with zipfile.ZipFile(Path(path)) as bundle:
        names = set(bundle.namelist())
        assert {"responses.csv", "questions.csv", "summary.csv", "datapackage.json"} <= names, names
        responses = list(csv.DictReader(io.StringIO(bundle.read("responses.csv").decode("utf-8-sig"))))
    choices = [r for r in responses if r["question_kind"] == "choice"]
    # The withdrawn phone's answer is gone: four choice rows, three of them Housing.
    assert len(choices) == 4, choices
    assert sorted(r["value_label"] for r in choices) == ["Health", "Housing", "Housing", "Housing"]
    respondents = {r["respondent"] for r in responses}
    assert len(respondents) == 4, respondents
    assert any(r["question_kind"] == "open" and r["declined"] == "true" for r in responses)
    watch.allow(f"/console/{session_id}", 404)
    await researcher.goto(f"/console/{session_id}")
    await expect(researcher.locator("h1")).to_contain_text(re.compile("not found", re.I))

    # The facilitator's audit log names who exported.
    await console.reload()
    await console.locator("#audit-card").scroll_into_view_if_needed()
    exported = console.locator("#audit-list li").filter(has_text=f"{RESEARCHER} exported")
    await expect(exported).to_have_count(1)
    await watch.step(console, "20-console-audit")
