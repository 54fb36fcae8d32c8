"""A breakout round in a real Chromium against `thirdspace serve`: the facilitator starts it from the
console, three 320 px phones see their group, prompt, countdown and link, post a note and +1 it, one
declines and is moved back by keyboard, a private message reaches the console's inbox and no
presenter, a broadcast reaches the groups, chosen notes go to the presenter, and closing brings every
phone back. Each state is checked by axe-core, and a script error, a failed or cross-origin request or
a CSP violation on any page fails the test (the `watch` harness, tests/e2e/conftest.py).

With THIRDSPACE_SCREENSHOTS=<folder> it saves the phone (320 px), the console and the presenter's
report-back (docs/screenshots/ holds the committed set)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import Watch
from tests.e2e.doc_shots import SHOTS, shot
from tests.e2e.test_kinds import add_question, close, no_sideways_scroll, send

pytestmark = pytest.mark.browser


async def _group_name(phone: Page) -> str:
    await expect(phone.locator("#breakout")).to_be_visible()
    return (await phone.locator("#breakout-title").inner_text()).strip()


async def test_a_round_with_three_phones_and_the_console(watch: Watch) -> None:
    console = await watch.facilitator()
    await console.fill("#title", "Breakouts")
    await console.fill("#min_group", "3")
    await console.click("#new-session button[type=submit]")
    await expect(console).to_have_url(re.compile(r"/console/[0-9a-f]{32}$"))
    session_id = console.url.rsplit("/", 1)[1]
    join_url = await console.locator("#join-url").get_attribute("href")
    assert join_url
    question_card = await add_question(
        console, "Multiple choice", "Which park first?", {"#q-choice-options": "North\nSouth"}
    )

    presenter = await console.context.new_page()
    await presenter.set_viewport_size({"width": 1280, "height": 720})
    await presenter.goto(f"/presenter/{session_id}")

    phones: list[Page] = []
    for _ in range(3):
        phone = await watch.phone()
        await phone.goto(join_url)
        await expect(phone).to_have_url(re.compile(rf"/s/{session_id}$"))
        await expect(phone.locator("#conn")).to_have_text("Connected")
        phones.append(phone)

    # Start: two random groups, a Markdown prompt, the question, a link each, ten minutes.
    await console.select_option("#round-split", "groups")
    await console.fill("#round-count", "2")
    await console.fill("#round-names", "Willow\nOak")
    await console.fill("#round-prompt", "Which **park** needs work first?")
    await console.locator("#round-question").focus()
    await console.select_option("#round-question", label="Which park first?")
    await console.fill("#round-links", "https://meet.example/willow\nhttps://meet.example/oak")
    await console.fill("#round-minutes", "10")
    await console.click("#round-start")
    await expect(console.locator("#round-title")).to_have_text("Round 1 · running")
    await expect(console.locator("#round-groups .group-card")).to_have_count(2)

    names = [await _group_name(phone) for phone in phones]
    assert sorted(names) in (["Oak", "Willow", "Willow"], ["Oak", "Oak", "Willow"])
    for phone in phones:
        await expect(phone.locator("#breakout-prompt strong")).to_have_text("park")
        await expect(phone.locator("#breakout-countdown")).to_have_text(re.compile(r"^(10:00|9:5\d) left$"))
        await expect(phone.locator("#breakout-link")).to_have_attribute(
            "href", re.compile(r"^https://meet\.example/")
        )
        await expect(phone.locator("#prompt")).to_have_text(
            "Which park first?"
        )  # the group question is current
        await no_sideways_scroll(phone)
    pair_name = max(set(names), key=names.count)
    pair = [p for p, n in zip(phones, names, strict=True) if n == pair_name]
    alone = next(p for p, n in zip(phones, names, strict=True) if n != pair_name)

    # A note reaches the groupmate and the console, not the other group; the groupmate gives it a +1.
    await pair[0].fill("#note-text", "Fix the paths in North park")
    await pair[0].click("#note-send")
    await expect(pair[0].locator("#note-status")).to_have_text("Note posted ✓")
    # The author's own note is marked theirs at once (the ack names it): its +1 cannot be pressed.
    own = pair[0].locator("#breakout-board li", has_text="Fix the paths in North park").get_by_role("button")
    await expect(own).to_have_attribute("aria-disabled", "true")
    await expect(own).to_have_accessible_name("+1 · 0, your note")
    note = pair[1].locator("#breakout-board li", has_text="Fix the paths in North park")
    await note.get_by_role("button").click()
    await expect(note.get_by_role("button")).to_have_text("+1 · 1")
    await expect(pair[0].locator("#breakout-board li").get_by_role("button")).to_have_text("+1 · 1")
    await expect(alone.locator("#breakout-empty")).to_be_visible()
    await expect(console.locator(f'.group-card[aria-label="{pair_name}"] .board-note')).to_contain_text(
        "Fix the paths"
    )
    await shot(pair[1], "breakout-phone", full=True)
    await watch.step(pair[1], "phone-board")
    await watch.step(console, "console-round")

    # "I'd rather not join a group": the plenary; the console shows the tile there and moves it back
    # with the keyboard (a tile, then "Move here").
    await alone.click("#breakout-decline")
    await expect(alone.locator("#breakout-plenary")).to_be_visible()
    await expect(console.locator("#round-plenary h4")).to_have_text("Main room · 1")
    await console.locator("#round-plenary .tile").focus()
    await console.keyboard.press("Enter")
    await console.locator(f'.group-card[aria-label="{pair_name}"] .move-here').focus()
    await console.keyboard.press("Enter")
    await expect(console.locator("#move-status")).to_contain_text(f"to {pair_name}")
    await expect(alone.locator("#breakout-title")).to_have_text(pair_name)
    await expect(alone.locator("#breakout-board li")).to_have_count(1)

    # A private message: acknowledged on the phone, in the console's inbox, never on the presenter.
    await alone.click("#private-details summary")
    await alone.fill("#private-text", "I would rather not say this in my group.")
    await alone.click("#private-send")
    await expect(alone.locator("#private-status")).to_contain_text("Sent ✓")
    await watch.step(alone, "phone-private-sent")
    await expect(console.locator("#inbox li")).to_contain_text("I would rather not say this in my group.")

    # A broadcast reaches every group.
    await console.fill("#round-broadcast", "Two minutes left")
    await console.click("#round-broadcast-send")
    for phone in phones:
        await expect(phone.locator("#breakout-message")).to_have_text(
            "From the facilitator: Two minutes left"
        )
    if SHOTS is not None:
        await console.locator("#breakouts").screenshot(path=str(SHOTS / "breakout-console.png"))

    # Report-back: the chosen note on the presenter.
    await console.locator(f'.group-card[aria-label="{pair_name}"] input[type=checkbox]').check()
    await console.click("#report-notes")
    await expect(presenter.locator("#report")).to_contain_text("Fix the paths in North park")
    await expect(presenter.locator("#prompt")).to_be_hidden()
    await shot(presenter, "breakout-presenter")
    await watch.step(presenter, "presenter-report-notes", full=False)
    assert "rather not say" not in await presenter.content()
    await console.click("#report-clear")
    await expect(presenter.locator("#report")).to_be_hidden()

    # Results by group: everyone answers and the question closes; the roll-up (3 answers, k = 3) shows,
    # but Oak, now empty, is under k, so no group's result does, and the console says why.
    for phone in phones:
        await phone.get_by_label("North", exact=True).check()
        await send(phone)
    await close(question_card)
    await console.click("#report-results")
    await expect(console.locator("#report-status")).to_contain_text("fewer than 3 answers")
    await expect(presenter.locator("#report h3")).to_have_text(["Everyone"])
    await expect(presenter.locator("#report")).to_contain_text("Results by group are not shown")
    await console.click("#report-clear")

    # Closing brings every phone back to the plenary.
    await console.click("#round-close")
    await expect(console.locator("#round-title")).to_have_text("Round 1 · closed")
    for phone in phones:
        await expect(phone.locator("#breakout")).to_be_hidden()
    await watch.step(phones[0], "phone-back-in-plenary")
