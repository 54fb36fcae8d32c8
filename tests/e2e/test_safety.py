"""A safe page, in Chromium against `thirdspace serve`: the Content-Security-Policy stays
`default-src 'self'` with no inline script or style and no violation is reported; script and HTML
payloads typed into every free-text field (session title, the information sheet's Markdown, a prompt,
option labels, statements, ranking options, word-cloud entries, open answers, comments, Q&A questions,
round prompts, group names, notes, broadcasts and private messages) show as text in the phone, the
presenter, the console and the console's list of sessions, and never run.

A payload that ran would open a dialog (`alert`), set the harness's `window.__xss` trap, or load
`src=x` (a 404): the harness (tests/e2e/conftest.py) reports each as a problem and fails the test."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import Watch, open_presenter
from tests.e2e.test_kinds import add_question, close, moderate, send, start

pytestmark = pytest.mark.browser

TITLE = "Title <script>alert('xss-title')</script>"
SHEET = (
    "## Sheet <img src=x onerror=\"alert('xss-sheet-img')\">\n\n"
    "A Markdown link: [md-link](javascript:alert('xss-md')) and an HTML one: "
    "<a href=\"javascript:alert('xss-a')\">html-link</a>.\n\n"
    "<script>window.__xss = 'sheet-script'</script>\n\n"
    "<svg onload=\"alert('xss-svg')\"></svg> End of sheet."
)
PROMPT = "Pick <b onmouseover=\"alert('xss-prompt')\">one</b>"
OPTION = "<img src=x onerror=\"alert('xss-option')\">"
STATEMENT = "<script>alert('xss-statement')</script>"
WORD = "<svg/onload=alert('xss-word')>"
OPEN = "<img src=x onerror=\"window.__xss='open'\"> [link](javascript:alert('xss-open'))"
COMMENT = "<iframe src=\"javascript:alert('xss-comment')\"></iframe>"
QA = "<a href=\"javascript:alert('xss-qa')\">click me</a>"
RANK = "<img src=x onerror=\"window.__xss='rank'\">rank"

NO_ACTIVE_CONTENT = """() => {
  const found = [];
  for (const a of document.querySelectorAll('[href], [src], [action], [formaction]')) {
    for (const attr of ['href', 'src', 'action', 'formaction']) {
      const v = (a.getAttribute(attr) || '').trim().toLowerCase();
      if (v.startsWith('javascript:') || v === 'x') found.push(a.outerHTML.slice(0, 100));
    }
  }
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.getAttributeNames()) {
      if (attr.startsWith('on')) found.push(el.outerHTML.slice(0, 100));
    }
  }
  for (const el of document.querySelectorAll('iframe, object, embed')) found.push(el.outerHTML.slice(0, 100));
  return found;
}"""


async def no_active_content(page: Page) -> None:
    assert await page.evaluate(NO_ACTIVE_CONTENT) == [], f"active content on {page.url}"


def inline_code(html: str) -> list[str]:
    """Inline scripts (other than the JSON data block), <style> elements and style attributes."""
    scripts = [
        m.group(0)
        for m in re.finditer(r"<script\b[^>]*>", html, re.IGNORECASE)
        if "src=" not in m.group(0) and 'type="application/json"' not in m.group(0)
    ]
    styles = re.findall(r"<style\b|\sstyle\s*=", html, re.IGNORECASE)
    handlers = re.findall(r"<[^>]+\son[a-z]+\s*=", html, re.IGNORECASE)
    return scripts + styles + handlers


async def test_the_csp_is_self_only_with_no_inline_script_or_style(watch: Watch) -> None:
    console = await watch.facilitator()
    await console.fill("#title", "CSP")
    await console.click("#new-session button[type=submit]")
    await expect(console).to_have_url(re.compile(r"/console/[0-9a-f]{32}$"))
    session_id = console.url.rsplit("/", 1)[1]
    join_url = await console.locator("#join-url").get_attribute("href")
    assert join_url
    code = join_url.rsplit("/", 1)[1]
    cookies = {c["name"]: c["value"] for c in await console.context.cookies()}
    pages = ["/", "/login", "/withdraw", "/console", f"/console/{session_id}", f"/presenter/{session_id}"]
    async with httpx.AsyncClient(base_url=watch.server.http, cookies=cookies) as http:
        phone = await http.get(f"/j/{code}", follow_redirects=True)
        for path in [*pages, str(phone.url.path)]:
            r = await http.get(path)
            assert r.status_code == 200, (path, r.status_code)
            policy = r.headers["content-security-policy"]
            directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
            assert directives["default-src"] == "'self'", policy
            assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, policy
            for directive in ("script-src", "style-src"):
                assert directives.get(directive, "'self'") == "'self'", policy
            assert inline_code(r.text) == [], (path, inline_code(r.text))
    # In the browser: every page loads with no CSP violation reported (the harness listens).
    for path in pages[3:]:
        await console.goto(path)
        await console.wait_for_load_state("networkidle")
    await console.goto(join_url)
    await expect(console.locator("#consent-agree, #prompt, #waiting").first).to_be_attached()
    assert not [p for p in watch.problems if "CSP" in p]


async def test_payloads_in_every_free_text_field_show_as_text_and_never_run(watch: Watch) -> None:
    console = await watch.facilitator()
    await console.fill("#title", TITLE)
    await console.fill("#consent_text", SHEET)
    await console.fill("#min_group", "3")
    await console.click("#new-session button[type=submit]")
    await expect(console).to_have_url(re.compile(r"/console/[0-9a-f]{32}$"))
    session_id = console.url.rsplit("/", 1)[1]
    join_url = await console.locator("#join-url").get_attribute("href")
    assert join_url
    await expect(console.locator("h1")).to_contain_text(TITLE)

    choice = await add_question(
        console,
        "Multiple choice",
        PROMPT,
        {"#q-choice-options": f"{OPTION}\nSafe option"},
        ticks=("Let people add comments",),
    )
    statements = {"#q-scale-statements": f"{STATEMENT}\nPlain"}
    scale = await add_question(console, "Rating scale", "Rate", statements)
    cloud = await add_question(console, "Word cloud", "A word", {})
    wall = await add_question(console, "Open text", "Your idea", {})
    qa = await add_question(console, "Q&A", "Ask", {})
    ranking = await add_question(console, "Ranking", "Order", {"#q-ranking-options": f"{RANK}\nSafe rank"})
    await expect(console.locator("#questions")).to_contain_text(OPTION)
    await expect(console.locator("#questions")).to_contain_text(STATEMENT)
    await expect(console.locator("#questions")).to_contain_text(RANK)
    await watch.step(console, "console-questions")

    presenter = await console.context.new_page()
    await presenter.set_viewport_size({"width": 1280, "height": 720})
    await presenter.goto(f"/presenter/{session_id}")
    await expect(presenter.locator("#conn")).to_have_text("Connected")
    await expect(presenter.locator(".session-name")).to_have_text(TITLE)

    phones: list[Page] = []
    for _ in range(3):
        phone = await watch.phone()
        await phone.goto(join_url)
        await expect(phone).to_have_url(re.compile(rf"/s/{session_id}$"))
        sheet = phone.locator("#consent-text")
        await expect(sheet).to_contain_text("md-link")
        await expect(sheet).to_contain_text("End of sheet.")
        await expect(phone.locator("#session-title")).to_have_text(TITLE)
        await no_active_content(phone)
        await phone.click("#consent-agree")
        await phone.click("#withdrawal-done")
        phones.append(phone)
    await watch.step(phones[0], "phone-after-sheet")
    assert await phones[0].title() == f"{TITLE} · Thirdspace"

    # Choice: everyone picks the payload option and comments a payload.
    await start(choice)
    for phone in phones:
        await expect(phone.locator("#prompt")).to_have_text(PROMPT)
        await phone.get_by_label(OPTION, exact=True).check()
        await send(phone)
        await phone.fill("#comment-text", COMMENT)
        await phone.click("#comment-send")
        await expect(phone.locator("#comment-status")).to_contain_text("Comment sent")
    await expect(phones[0].locator("#comment-list")).to_contain_text(COMMENT)
    await close(choice)
    await expect(presenter.locator("#prompt")).to_have_text(PROMPT)
    await expect(presenter.locator("#view .bar").filter(has_text=OPTION)).to_contain_text("3 (100%)")
    await moderate(console, choice)
    await expect(console.locator("#mod-entries")).to_contain_text(COMMENT)
    await choice.get_by_role("button", name="Show comments on the presenter").click()
    await expect(presenter.locator("#comments-list li").first).to_have_text(COMMENT)
    await watch.step(presenter, "presenter-choice", full=False)

    # Scale: the payload statement rated by everyone.
    await start(scale)
    for phone in phones:
        await expect(phone.locator("#prompt")).to_have_text("Rate")
        item = phone.locator("fieldset.scale-item", has_text=STATEMENT)
        await item.get_by_role("radio", name=re.compile(r"^4\b")).check()
        await send(phone)
    await close(scale)
    await expect(presenter.locator("#view .scale-row").filter(has_text=STATEMENT)).to_contain_text("n 3")

    # Word cloud: the same payload word from everyone reaches k.
    await start(cloud)
    for phone in phones:
        await expect(phone.locator("#prompt")).to_have_text("A word")
        await phone.fill("#word-0", WORD)
        await send(phone)
    await close(cloud)
    word_count = re.compile(re.escape(WORD) + ": 3", re.I)
    await expect(presenter.locator("#results-text")).to_contain_text(word_count)
    await expect(presenter.locator("#view svg.cloud text")).to_have_text(re.compile(re.escape(WORD), re.I))
    await watch.step(presenter, "presenter-wordcloud", full=False)

    # Open text and Q&A: payloads on the wall and in the list.
    await start(wall)
    for phone in phones:
        await expect(phone.locator("#prompt")).to_have_text("Your idea")
        await phone.fill("#open-text", OPEN)
        await send(phone, "Sent ✓")
    await expect(phones[0].locator("#sent-list")).to_contain_text(OPEN)
    await close(wall)
    await expect(presenter.locator("#view .wall-card")).to_have_text([OPEN, OPEN, OPEN])
    await watch.step(presenter, "presenter-open", full=False)
    await start(qa)
    for phone in phones:
        await expect(phone.locator("#prompt")).to_have_text("Ask")
        await phone.fill("#qa-text", QA)
        await send(phone, "Question sent")
    await expect(phones[1].locator(".qa-item").first).to_contain_text(QA)
    await close(qa)
    await expect(presenter.locator("#view")).to_contain_text(QA)
    await moderate(console, qa)
    await expect(console.locator("#mod-entries")).to_contain_text(QA)
    await watch.step(presenter, "presenter-qa", full=False)
    await watch.step(phones[1], "phone-qa")

    # Ranking: the payload option ranked first by everyone, on the phones, the presenter and its text.
    await start(ranking)
    for phone in phones:
        await expect(phone.locator("#prompt")).to_have_text("Order")
        for label in (RANK, "Safe rank"):
            await phone.locator(".rank-pool button").filter(has_text=label).click()
        await expect(phone.locator(".rank-list")).to_contain_text(RANK)
        await send(phone)
    await close(ranking)
    await expect(presenter.locator("#view .rank-label")).to_have_text([RANK, "Safe rank"])
    await expect(presenter.locator("#results-text li").first).to_have_text(
        f"{RANK}: mean rank 1; 1st 3, 2nd 0."
    )
    await watch.step(presenter, "presenter-ranking", full=False)
    await watch.step(console, "console-end")

    for page in [console, presenter, *phones]:
        await no_active_content(page)

    # The console's list of sessions shows the title as text.
    await console.goto("/console")
    await expect(console.locator(".session-link").filter(has_text=TITLE)).to_have_text(TITLE)
    await no_active_content(console)
    await watch.step(console, "console-sessions-list")


ROUND_PROMPT = (
    "Talk <img src=x onerror=\"alert('xss-round')\"> [go](javascript:alert('xss-round-md')) **now**"
)
NOTE = "<img src=x onerror=\"window.__xss='note'\">note"
PRIVATE = "<script>alert('xss-private')</script>private"
BROADCAST = "<b onclick=\"alert('xss-broadcast')\">soon</b>"
GROUP = "<img src=x onerror=\"alert('xss-group')\">Willow"


async def test_payloads_in_round_prompts_notes_broadcasts_and_private_messages_never_run(
    watch: Watch,
) -> None:
    """Issue 12's breakout fields: the round's Markdown prompt, a group's name (phones, console, the
    presenter's report-back of notes and of a board), a note on the board (phones, console, presenter),
    a broadcast and a private message (phone, console inbox)."""
    console = await watch.facilitator()
    await console.fill("#title", "Breakout payloads")
    await console.fill("#min_group", "3")
    await console.click("#new-session button[type=submit]")
    await expect(console).to_have_url(re.compile(r"/console/[0-9a-f]{32}$"))
    session_id = console.url.rsplit("/", 1)[1]
    join_url = await console.locator("#join-url").get_attribute("href")
    assert join_url
    presenter = await open_presenter(console.context, session_id)
    phones = await watch.joined_phones(join_url, session_id, 2)
    for phone in phones:
        await expect(phone.locator("#conn")).to_have_text("Connected")

    await console.select_option("#round-split", "groups")
    await console.fill("#round-count", "1")
    await console.fill("#round-names", GROUP)
    await console.fill("#round-prompt", ROUND_PROMPT)
    await console.fill("#round-minutes", "10")
    await console.click("#round-start")
    await expect(console.locator("#round-title")).to_have_text("Round 1 · running")
    group = console.get_by_role("region", name=GROUP, exact=True)  # the group's card
    await expect(group.locator("h4")).to_have_text(f"{GROUP} · 2 people")
    for phone in phones:
        await expect(phone.locator("#breakout")).to_be_visible()
        await expect(phone.locator("#breakout-title")).to_have_text(GROUP)
        prompt = phone.locator("#breakout-prompt")
        await expect(prompt.locator("strong")).to_have_text("now")  # Markdown rendered, markup not
        await expect(prompt).to_contain_text("go")
        await no_active_content(phone)

    await phones[0].fill("#note-text", NOTE)
    await phones[0].click("#note-send")
    await expect(phones[0].locator("#note-status")).to_have_text("Note posted ✓")
    await expect(phones[1].locator("#breakout-board li")).to_contain_text(NOTE)
    await expect(group.locator(".board-note")).to_contain_text(NOTE)

    await console.fill("#round-broadcast", BROADCAST)
    await console.click("#round-broadcast-send")
    for phone in phones:
        await expect(phone.locator("#breakout-message")).to_have_text(f"From the facilitator: {BROADCAST}")

    await phones[1].click("#private-details summary")
    await phones[1].fill("#private-text", PRIVATE)
    await phones[1].click("#private-send")
    await expect(phones[1].locator("#private-status")).to_contain_text("Sent ✓")
    await expect(console.locator("#inbox li")).to_contain_text(PRIVATE)

    await group.locator("input[type=checkbox]").check()
    await console.click("#report-notes")
    await expect(presenter.locator("#report")).to_contain_text(NOTE)
    await expect(presenter.locator("#report .report-notes li").first).to_contain_text(f"{GROUP} · +1 · 0")
    assert "private" not in (await presenter.locator("body").inner_text())
    await watch.step(phones[1], "phone-breakout-payloads")
    await watch.step(console, "console-breakout-payloads")
    await watch.step(presenter, "presenter-report-payloads", full=False)
    for page in [console, presenter, *phones]:
        await no_active_content(page)

    # The group's board on the presenter: its name as the heading.
    await group.get_by_role("button", name="Show this board on screen").click()
    await expect(presenter.locator("#report h2")).to_have_text(GROUP)
    await expect(presenter.locator("#report")).to_contain_text(NOTE)
    await watch.step(presenter, "presenter-board-payloads", full=False)
    await no_active_content(presenter)
