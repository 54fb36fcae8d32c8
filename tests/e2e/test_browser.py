"""A real Chromium drives the pages against `thirdspace serve`: a facilitator logs in, builds and runs a
question; three phones (320 px wide) join by the QR link, consent, answer; the presenter and the console
count who joined apart from who agreed, and the console counts the responses as they come; the
presenter shows the chart, the count and the phones connected; revealed results reach the phones;
closing is exact. axe-core checks each state (tests/e2e/conftest.py)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.conftest import ServerProcess
from tests.e2e.conftest import Watch
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


async def test_a_live_poll_from_login_to_close(watch: Watch) -> None:
    facilitator = await watch.context()
    console = await facilitator.new_page()

    await console.goto("/console")
    await expect(console).to_have_url(re.compile(r"/login"))
    await console.fill("#username", "facilitator@example.org")
    await console.fill("#password", PASSWORD)
    await console.click("button[type=submit]")
    await expect(console).to_have_url(re.compile(r"/console$"))

    await console.fill("#title", "Partnership workshop")
    await console.fill("#consent_text", "We keep your answers anonymously for the evaluation report.")
    await console.fill("#min_group", "3")
    await console.click("#new-session button[type=submit]")
    await expect(console).to_have_url(re.compile(r"/console/[0-9a-f]{32}$"))
    session_id = console.url.rsplit("/", 1)[1]
    join_url = await console.locator("#join-url").get_attribute("href")
    assert join_url is not None and re.search(r"/j/\d{8}$", join_url)

    await console.fill("#q-prompt", "Most important area?")
    await console.fill("#q-choice-options", "Housing\nHealth\nWork")
    await console.click("#add-question button[type=submit]")
    question = console.locator("#questions li").first
    await expect(question).to_contain_text("Most important area?")
    await question.get_by_role("button", name="Start", exact=True).click()
    await expect(question.get_by_role("button", name="Close", exact=True)).to_be_visible()
    await watch.step(console, "console-question-open")

    presenter = await facilitator.new_page()
    await presenter.goto(f"/presenter/{session_id}")
    await expect(presenter.locator("#prompt")).to_have_text("Most important area?")
    await expect(presenter.locator("svg").first).to_be_visible()  # the QR code

    phones: list[Page] = []
    for n, pick in enumerate(["Housing", "Housing", "Health"], start=1):
        phone = await watch.phone()
        await phone.goto(join_url)
        await expect(phone).to_have_url(re.compile(rf"/s/{session_id}$"))
        await expect(phone.locator("#consent-text")).to_contain_text("We keep your answers")
        if n == 1:
            # Reading the information sheet: joined, not agreed yet, counted apart on both screens.
            await expect(presenter.locator("#presence")).to_have_text("1 person joined · 0 agreed")
            await expect(console.locator("#live-presence")).to_contain_text("1 person joined · 0 agreed")
        await phone.click("#consent-agree")
        if n == 1:
            await expect(presenter.locator("#presence")).to_have_text("1 person joined")
            await expect(console.locator("#live-presence")).to_contain_text("1 person joined · 1 agreed")
        await expect(phone.locator("#prompt")).to_have_text("Most important area?")
        await phone.get_by_label(pick, exact=True).check()
        await phone.click("#send")
        await expect(phone.locator("#thanks-heading")).to_have_text("Thanks, your answer is in")
        # The console's live count moves with every response, before k as after.
        await expect(console.locator("#live-n")).to_have_text(
            f"{n} response{'' if n == 1 else 's'} received."
        )
        width = await phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"the phone page is {width} px wide at a 320 px viewport"
        phones.append(phone)

    await expect(presenter.locator("#responses")).to_have_text("3 responses received")
    await expect(presenter.locator("#presence")).to_contain_text("3")
    await expect(presenter.locator("#view .bar")).to_have_count(3)
    await watch.step(presenter, "presenter-three-answers", full=False)
    await watch.step(phones[0], "phone-thanks")

    # One phone changes its answer; then results are revealed on phones.
    await phones[2].get_by_role("button", name="Change my answer").click()
    await phones[2].get_by_label("Work", exact=True).check()
    await phones[2].click("#send")
    await expect(phones[2].locator("#thanks-text")).to_have_text("You chose: Work.")
    await question.get_by_role("button", name="Show results on phones").click()
    await expect(phones[0].locator("#result-view .bar")).to_have_count(3)
    await watch.step(phones[0], "phone-results-shown")

    await question.get_by_role("button", name="Close", exact=True).click()
    await expect(phones[0].locator("#question")).to_contain_text("closed")
    # The exact result at close: Housing 2, Health 0, Work 1 (the changed answer counts once).
    live_counts = console.locator("#live-view")
    await expect(live_counts).to_contain_text(re.compile(r"Work\D*1 \(33%\)"))
    await expect(live_counts).to_contain_text(re.compile(r"Housing\D*2 \(67%\)"))
    await expect(live_counts).to_contain_text(re.compile(r"Health\D*0 \(0%\)"))
    await watch.step(console, "console-closed")


async def _facilitator_api(server: ServerProcess) -> tuple[httpx.AsyncClient, dict[str, str]]:
    http = httpx.AsyncClient(base_url=server.http)
    r = await http.post("/api/auth/token", data={"username": "facilitator@example.org", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return http, {"Authorization": f"Bearer {r.json()['access_token']}"}


def _participants(server: ServerProcess, session_id: str) -> int:
    ((count,),) = server.sql("SELECT count(*) FROM participant WHERE session_id = :s", s=session_id)
    return int(count)


async def test_back_and_join_again_is_the_same_participant(
    watch: Watch,
) -> None:
    """Issue 6, item 4: join, agree, answer; Back; Join again (the code still filled in): the same
    participant, straight to the question, without the sheet again."""
    server = watch.server
    http, auth = await _facilitator_api(server)
    try:
        r = await http.post(
            "/api/sessions",
            json={"title": "Back button", "settings": {"consent_text": "Sheet text."}},
            headers=auth,
        )
        session = r.json()
        question = (
            await http.post(
                f"/api/sessions/{session['id']}/questions",
                json={"kind": "choice", "prompt": "Tea or coffee?", "options": ["Tea", "Coffee"]},
                headers=auth,
            )
        ).json()
        base = f"/api/sessions/{session['id']}"
        await http.put(f"{base}/current", json={"question_id": question["id"]}, headers=auth)
        await http.patch(f"{base}/questions/{question['id']}", json={"open": True}, headers=auth)
    finally:
        await http.aclose()

    phone = await watch.phone()
    await phone.goto("/")
    await phone.fill("#code", session["code"])
    await phone.click("button[type=submit]")
    await expect(phone).to_have_url(re.compile(rf"/s/{session['id']}$"))
    await phone.click("#consent-agree")
    await phone.get_by_label("Coffee", exact=True).check()
    await phone.click("#send")
    await expect(phone.locator("#thanks-heading")).to_have_text("Thanks, your answer is in")

    await phone.go_back()
    await expect(phone).to_have_url(re.compile(r"/$"))
    # A phone that keeps the page (back/forward cache) still shows the code; this Chromium reloads the
    # page, and the field (autocomplete off) comes back empty: the person types the code again.
    await phone.fill("#code", session["code"])
    join_button = phone.locator("button[type=submit]")
    await expect(join_button).to_be_enabled()
    await join_button.click()
    await expect(phone).to_have_url(re.compile(rf"/s/{session['id']}$"))
    await expect(phone.locator("#prompt")).to_have_text("Tea or coffee?")
    await expect(phone.locator("#consent")).to_be_hidden()
    await expect(phone.get_by_label("Coffee", exact=True)).to_be_checked()
    await watch.step(phone, "phone-joined-again")
    assert _participants(server, session["id"]) == 1

    # The QR code scanned again (the join link joins at once): still one participant.
    await phone.goto(session["join_url"])
    await expect(phone).to_have_url(re.compile(rf"/s/{session['id']}$"))
    await expect(phone.locator("#prompt")).to_have_text("Tea or coffee?")
    await expect(phone.locator("#consent")).to_be_hidden()
    assert _participants(server, session["id"]) == 1


async def test_a_closed_session_without_questions_says_so(
    watch: Watch,
) -> None:
    """Issue 6, item 7: a closed session has no form to add a question, so the console does not
    point at one."""
    console = await watch.new_page()
    await console.goto("/console")
    await console.fill("#username", "facilitator@example.org")
    await console.fill("#password", PASSWORD)
    await console.click("button[type=submit]")
    await console.fill("#title", "Empty")
    await console.click("#new-session button[type=submit]")
    await expect(console).to_have_url(re.compile(r"/console/[0-9a-f]{32}$"))
    empty = console.locator("#questions-empty")
    await expect(empty).to_have_text("No questions yet. Add one below.")
    await expect(console.locator("#add-card")).to_be_visible()

    await console.click("#close-session")
    await expect(console.locator("#closed-note")).to_be_visible()
    await expect(empty).to_have_text("This session was closed without any questions.")
    await expect(console.locator("#add-card")).to_be_hidden()
    await console.reload()
    await expect(empty).to_have_text("This session was closed without any questions.")
    await watch.step(console, "console-closed-empty")
