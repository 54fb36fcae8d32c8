"""The console's question flow in a real Chromium (issue 8): one Start, one Next, only the next step
filled; move, edit while unanswered, delete while never opened; a 5,000-character paste refused with
the limit; validation naming the field and the line; sections; reset; a template saved and imported.

It runs on the `watch` harness (tests/e2e/conftest.py): a script error, a console error, a failed or
cross-origin request or a CSP violation on the console fails it, and axe-core checks each state. With
THIRDSPACE_SCREENSHOTS=<folder> it saves the console's question list (docs/screenshots/)."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Locator, Page, expect

from tests.e2e.conftest import Watch
from tests.e2e.doc_shots import shot

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
