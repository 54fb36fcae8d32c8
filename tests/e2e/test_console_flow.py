"""The console's question flow in a real Chromium (issue 8): one Start, one Next, only the next step
filled; move, edit while unanswered, delete while never opened; a 5,000-character paste refused with
the limit; validation naming the field and the line; sections; reset; a template saved and imported;
Next, Close, Reset and Delete confirmed, and changing nothing when the confirmation is dismissed; a
counter on every limited field.

It runs on the `watch` harness (tests/e2e/conftest.py): a script error, a console error, a failed or
cross-origin request or a CSP violation on the console fails it, and axe-core checks each state. With
THIRDSPACE_SCREENSHOTS=<folder> it saves the console's question list (docs/screenshots/)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Locator, Page, expect

from tests.e2e.conftest import Watch
from tests.e2e.doc_shots import shot
from tests.e2e.helpers import Host

pytestmark = pytest.mark.browser


def card(console: Page, prompt: str) -> Locator:
    return console.locator("#questions > li", has=console.locator(".q-prompt", has_text=prompt))


async def add(console: Page, prompt: str, options: str) -> None:
    await console.fill("#q-prompt", prompt)
    await console.fill("#q-choice-options", options)
    await console.click("#add-question button[type=submit]")
    await expect(card(console, prompt)).to_have_count(1)


async def filled(console: Page) -> list[str]:
    """The text of every filled (primary) button in the question list."""
    return await console.locator("#questions button.primary").all_inner_texts()


async def test_start_next_move_edit_delete(watch: Watch) -> None:
    console = await watch.facilitator()
    await console.fill("#title", "Flow")
    await console.click("#new-session button[type=submit]")
    await expect(console).to_have_url(re.compile(r"/console/[0-9a-f]{32}$"))

    # A 5,000-character paste is refused with the limit, never cut.
    await console.fill("#q-prompt", "p" * 5000)
    await console.fill("#q-choice-options", "A\nB")
    await console.click("#add-question button[type=submit]")
    await expect(console.locator("#q-prompt-error")).to_contain_text("the limit is 500")
    assert len(await console.locator("#q-prompt").input_value()) == 5000
    await expect(console.locator("#add-status")).not_to_contain_text("error.fields")
    await console.fill("#q-prompt", "Fine?")
    await console.fill("#q-choice-options", "A\n" + "b" * 5000)
    await console.click("#add-question button[type=submit]")
    await expect(console.locator('[data-error-for="choice.options"]')).to_have_text(
        "Line 2: 5000 characters; the limit is 200. Shorten it by 4800."
    )
    assert len(await console.locator("#q-choice-options").input_value()) == 5002
    await watch.step(console, "console-line-too-long")

    await add(console, "First?", "A\nB")
    await add(console, "Second?", "C\nD")
    await add(console, "Third?", "E\nF")
    assert await filled(console) == ["Start"]
    await expect(card(console, "First?").locator("button.primary")).to_have_text("Start")

    # Start: current and open in one click; the next step is Next on it.
    await card(console, "First?").get_by_role("button", name="Start", exact=True).click()
    await expect(card(console, "First?").locator(".badge-open")).to_be_visible()
    await expect(card(console, "First?").locator(".badge-current")).to_be_visible()
    assert await filled(console) == ["Next"]

    # Move the third above the second: Next then starts it.
    await card(console, "Third?").get_by_role("button", name="Move up, question 3").click()
    await expect(console.locator("#questions .q-prompt")).to_have_text(["First?", "Third?", "Second?"])
    await card(console, "First?").get_by_role("button", name="Next", exact=True).click()
    await expect(card(console, "First?").locator(".badge-closed")).to_be_visible()
    await expect(card(console, "Third?").locator(".badge-open")).to_be_visible()
    await expect(card(console, "Third?").locator(".badge-current")).to_be_visible()

    # Edit the unanswered second question; then delete it (never opened).
    await card(console, "Second?").get_by_role("button", name="Edit").click()
    await expect(console.locator("#q-prompt")).to_have_value("Second?")
    await expect(console.locator("#q-choice-options")).to_have_value("C\nD")
    await console.fill("#q-prompt", "Second, edited?")
    await console.click("#add-question button[type=submit]")
    await expect(card(console, "Second, edited?")).to_have_count(1)
    await expect(console.locator("#add-question button[type=submit]")).to_have_text("Add question")
    await card(console, "Second, edited?").get_by_role("button", name="Delete").click()
    await expect(console.locator("#questions .q-prompt")).to_have_text(["First?", "Third?"])
    # The last question has no Next: closing it is the next step.
    assert await filled(console) == ["Close"]
    # Validation names the field and the line.
    await console.fill("#q-prompt", "Lines?")
    await console.fill("#q-choice-options", "Yes\nyes")
    await console.click("#add-question button[type=submit]")
    await expect(console.locator('[data-error-for="choice.options"]')).to_have_text(
        "Line 2 repeats line 1; each option must be different."
    )
    await watch.step(console, "console-line-repeated")

    # Sections: a question added after "Add section" belongs to it; reset asks, then clears.
    await console.fill("#section-title", "Reflections")
    await console.click("#add-section button[type=submit]")
    await expect(console.locator("#q-section")).to_have_value(re.compile(r"^[0-9a-f]{32}$"))
    await add(console, "In a section?", "Yes\nNo")
    await expect(card(console, "In a section?").locator(".q-section")).to_have_text("Section: Reflections")
    await shot(console, "console-questions", full=True)
    await watch.step(console, "console-questions")
    await card(console, "First?").get_by_role("button", name="Reset answers").click()
    await expect(card(console, "First?").locator(".q-status")).to_be_hidden()

    # A template: the saved plan makes a new session; a broken file names its line.
    async with console.expect_download() as download_info:
        await console.get_by_role("link", name="Save the plan as a template").click()
    saved = await (await download_info.value).path()
    await console.goto("/console")
    watch.allow("/api/sessions/import", 422)  # the broken file: refused, and the page says where
    await console.set_input_files(
        "#template-file",
        files=[
            {
                "name": "bad.json",
                "mimeType": "application/json",
                "buffer": b'{\n  "thirdspace_template": 1,\n  "title": ""\n}',
            }
        ],
    )
    await console.click("#import-template button[type=submit]")
    await expect(console.locator("#template-error")).to_contain_text("Line 3: title")
    await watch.step(console, "console-template-error")
    await console.set_input_files("#template-file", saved)
    await console.click("#import-template button[type=submit]")
    await expect(console).to_have_url(re.compile(r"/console/[0-9a-f]{32}$"))
    await expect(console.locator("#questions .q-prompt")).to_have_text(["First?", "Third?", "In a section?"])
    await watch.step(console, "console-from-template")


async def test_dismissed_confirmations_change_nothing(watch: Watch) -> None:
    """Next, Close, Reset and Delete each ask first, saying what cannot be undone; answering no sends
    nothing: the open question stays open and current, the unopened one stays in the list."""
    host = Host(watch.server)
    session = host.create(
        "Confirm",
        [
            {"kind": "choice", "prompt": "First?", "options": ["A", "B"]},
            {"kind": "choice", "prompt": "Second?", "options": ["C", "D"]},
        ],
    )
    host.start(0)
    host.close()
    console = await watch.facilitator()
    changes: list[str] = []
    console.on(
        "request",
        lambda r: changes.append(f"{r.method} {r.url}") if "/api/" in r.url and r.method != "GET" else None,
    )
    await console.goto(f"/console/{session['id']}")
    first, second = card(console, "First?"), card(console, "Second?")
    await expect(first.locator(".badge-open")).to_be_visible()

    watch.accept_confirms = False
    asked = {
        (first, "Next"): "Close “First?” for good and start “Second?”?\n\n"
        "Phones can no longer answer the closed question, and it cannot be opened again.",
        (first, "Close"): "Close “First?” for good?\n\n"
        "Phones can no longer answer it, and a closed question cannot be opened again.",
        (first, "Reset answers"): "Reset the answers to “First?”?\n\nEvery answer, entry, vote and comment "
        "to it is deleted: it leaves the results and every export made from now on. This cannot be undone.",
        (second, "Delete"): "Delete “Second?”?\n\nIt was never opened, so nobody answered it. "
        "This cannot be undone.",
    }
    for (where, name), message in asked.items():
        async with console.expect_event("dialog") as dialog:
            await where.get_by_role("button", name=name, exact=True).click()
        assert (await dialog.value).message == message
        await expect(first.locator(".badge-open")).to_be_visible()
        await expect(first.locator(".badge-current")).to_be_visible()
        await expect(console.locator("#questions .q-prompt")).to_have_text(["First?", "Second?"])
    assert watch.confirms == list(asked.values())
    await console.wait_for_timeout(300)
    assert changes == [], changes

    # The page was not fooling itself: after a reload the server says the same.
    await console.reload()
    await expect(first.locator(".badge-open")).to_be_visible()
    await expect(first.locator(".badge-current")).to_be_visible()
    await expect(second.locator(".badge-waiting")).to_have_text("Not open")

    # Yes does what no did not.
    watch.accept_confirms = True
    await second.get_by_role("button", name="Delete", exact=True).click()
    await expect(console.locator("#questions .q-prompt")).to_have_text(["First?"])


async def test_counters_refuse_a_paste_over_the_limit_naming_the_field(watch: Watch) -> None:
    """Every limited field of the console counts to the server's limit as it is typed (a list typed one
    per line counts each line and names the line that is too long); a paste over the limit stays whole
    in the field, and Create / Add question / Start the round refuse it with a sentence naming the field
    and the limit. axe-core checks the counters' markup."""
    console = await watch.facilitator()
    await expect(console.locator("#title-count")).to_have_text("0 / 200")
    await expect(console.locator("#consent_text-count")).to_have_text("0 / 20000")
    await console.fill("#title", "Counters")
    await console.fill("#consent_text", "s" * 20_001)
    await expect(console.locator("#consent_text-count")).to_have_text("20001 / 20000: 1 too many")
    await expect(console.locator("#consent_text")).to_have_attribute("aria-invalid", "true")
    await console.click("#new-session button[type=submit]")
    await expect(console.locator("#consent_text-error")).to_have_text(
        "The information sheet has 20001 characters; the limit is 20000. Shorten it by 1."
    )
    await expect(console).to_have_url(re.compile(r"/console$"))
    assert len(await console.locator("#consent_text").input_value()) == 20_001
    await console.fill("#consent_text", "We keep your answers without your name.")
    await expect(console.locator("#consent_text-count")).to_have_text("39 / 20000")
    await console.click("#new-session button[type=submit]")
    await expect(console).to_have_url(re.compile(r"/console/[0-9a-f]{32}$"))

    # A rating scale: the end labels (60) and the statements (300 a line).
    await console.get_by_text("Rating scale", exact=True).click()
    await expect(console.locator("#q-scale-low-count")).to_have_text("17 / 60")
    await console.fill("#q-scale-low", "l" * 5000)
    await expect(console.locator("#q-scale-low-count")).to_have_text("5000 / 60: 4940 too many")
    statements = console.locator("#q-scale-statements")
    await statements.fill("I feel heard\n" + "s" * 300)
    await expect(console.locator("#q-scale-statements-count")).to_have_text("Longest line: 300 / 300")
    await statements.press("End")
    await console.keyboard.type("s")  # one more, typed: the counter names the line at once
    await expect(console.locator("#q-scale-statements-count")).to_have_text("Line 2: 301 / 300: 1 too many")
    await statements.fill("I feel heard\nMeetings help")
    await expect(console.locator("#q-scale-statements-count")).to_have_text("Longest line: 13 / 300")
    await console.fill("#q-prompt", "How far do you agree?")
    await console.click("#add-question button[type=submit]")
    await expect(console.locator('[data-error-for="scale.low"]')).to_have_text(
        "The label of point 1 has 5000 characters; the limit is 60. Shorten it by 4940."
    )
    await expect(console.locator("#add-status")).to_have_text(
        "Some fields need changing: the messages beside them say what to change."
    )
    assert len(await console.locator("#q-scale-low").input_value()) == 5000
    await expect(console.locator("#questions > li")).to_have_count(0)

    # A breakout round: the prompt (5,000) and the group names (60 a line).
    await console.fill("#round-prompt", "p" * 5001)
    await expect(console.locator("#round-prompt-count")).to_have_text("5001 / 5000: 1 too many")
    await console.fill("#round-names", "Reds\n" + "n" * 61)
    await expect(console.locator("#round-names-count")).to_have_text("Line 2: 61 / 60: 1 too many")
    await expect(console.locator("#round-links-count")).to_have_text("Longest line: 0 / 500")
    await console.click("#round-start")
    await expect(console.locator('#round-form [data-error-for="prompt"]')).to_have_text(
        "The prompt for the groups has 5001 characters; the limit is 5000. Shorten it by 1."
    )
    await expect(console.locator('#round-form [data-error-for="names"]')).to_have_text(
        "Group names, line 2: 61 characters; the limit is 60. Shorten it by 1."
    )
    await expect(console.locator("#round-status")).to_contain_text("Some fields need changing")
    await expect(console.locator("#round-live")).to_be_hidden()
    await watch.step(console, "console-counters-over")
