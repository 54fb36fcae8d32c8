"""WCAG 2.2 AA on the phone and the presenter, each promise a test against `thirdspace serve` in Chromium:
the keyboard alone (with a visible focus at every stop), a name on every control, the live region,
reduced motion, both colour schemes, 4.5:1 contrast, 24x24 px targets, no sideways scroll at 320 px
and on a 640 px phone zoomed to 200 %, and the presenter's charts read as text. axe-core runs on every
state through `Watch.step` (tests/e2e/conftest.py) on top of these checks."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import Watch
from tests.e2e.helpers import (
    EVERY_KIND,
    Host,
    contrast,
    focus_ring,
    join,
    listitems,
    sideways,
    small_targets,
    unlabelled,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def host(watch: Watch) -> Iterator[Host]:
    h = Host(watch.server)
    yield h
    h.close()


async def tab_to(page: Page, selector: str, rings: list[str], *, limit: int = 40) -> None:
    """Press Tab until the focus is on `selector`, checking a visible focus at every stop."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        problem = await focus_ring(page)
        if problem and problem != "nothing has focus":
            rings.append(problem)
        if await page.evaluate("(s) => !!document.activeElement?.matches(s)", selector):
            return
    raise AssertionError(f"{selector} was not reached with {limit} presses of Tab")


async def test_the_phone_works_with_the_keyboard_alone(watch: Watch, host: Host) -> None:
    """Join by typing the code, agree, and answer every kind with Tab, Space, arrows, typing and Enter;
    then, in a breakout round, post a note, +1 another's note and say "I'd rather not join a group";
    message the research team; and withdraw. Every focus stop shows a focus ring."""
    session = host.create("Keyboard", EVERY_KIND, min_group=3)
    phone = await watch.phone()
    rings: list[str] = []
    await phone.goto("/")
    await tab_to(phone, "#code", rings)
    await phone.keyboard.type(str(session["code"]))
    await phone.keyboard.press("Enter")
    await expect(phone).to_have_url(re.compile(rf"/s/{session['id']}$"))
    await tab_to(phone, "#consent-agree", rings)
    await watch.step(phone, "keyboard-consent-focused")
    await phone.keyboard.press("Enter")
    await tab_to(phone, "#withdrawal-done", rings)
    await phone.keyboard.press("Enter")
    await expect(phone.locator("#withdrawal")).to_be_hidden()

    async def send(expected: str) -> None:
        await tab_to(phone, "#send", rings)
        await phone.keyboard.press("Enter")
        if expected == "received":  # kinds whose answer replaces the last: the thanks panel
            await expect(phone.locator("#thanks-heading")).to_have_text("Thanks, your answer is in")
        else:
            await expect(phone.locator("#answer-status")).to_contain_text(expected)

    # choice: Tab into the radio group, Space picks the first, ArrowDown moves to the second.
    host.start(0)
    await expect(phone.locator("#prompt")).to_have_text(EVERY_KIND[0]["prompt"])
    await tab_to(phone, "input[type=radio]", rings)
    await phone.keyboard.press("Space")
    await phone.keyboard.press("ArrowDown")
    await expect(phone.get_by_label("Health", exact=True)).to_be_checked()
    await watch.step(phone, "keyboard-choice")
    await send("received")

    # scale: each statement is a radio group of its own.
    host.start(1)
    await expect(phone.locator("#prompt")).to_have_text(EVERY_KIND[1]["prompt"])
    for statement in ["I feel heard", "Meetings help"]:
        item = phone.locator("fieldset.scale-item", has_text=statement)
        group = await item.locator("input[type=radio]").first.get_attribute("name")
        await tab_to(phone, f'input[type=radio][name="{group}"]', rings)
        await phone.keyboard.press("Space")
        await phone.keyboard.press("ArrowRight")
    checked = phone.locator("fieldset.scale-item input[type=radio]:checked")
    await expect(checked).to_have_count(2)
    await send("received")

    # word cloud and open text: typing.
    host.start(2)
    await expect(phone.locator("#prompt")).to_have_text(EVERY_KIND[2]["prompt"])
    await tab_to(phone, "#word-0", rings)
    await phone.keyboard.type("trust")
    await send("received")
    host.start(3)
    await expect(phone.locator("#prompt")).to_have_text(EVERY_KIND[3]["prompt"])
    await tab_to(phone, "#open-text", rings)
    await phone.keyboard.type("Evening sessions")
    await send("Sent")

    # ranking: each option added with Enter on its button.
    host.start(4)
    await expect(phone.locator("#prompt")).to_have_text(EVERY_KIND[4]["prompt"])
    for _ in range(3):
        await tab_to(phone, ".rank-pool button", rings)
        await phone.keyboard.press("Enter")
    await expect(phone.locator(".rank-pool button")).to_have_count(0)
    await watch.step(phone, "keyboard-ranking")
    await send("received")

    # Q&A: type and send.
    host.start(5)
    await expect(phone.locator("#prompt")).to_have_text(EVERY_KIND[5]["prompt"])
    await tab_to(phone, "#qa-text", rings)
    await phone.keyboard.type("Who decides?")
    await send("Question sent")
    host.patch(5, open=False)
    await expect(phone.locator("#question-note")).to_have_text("This question is closed.")

    # A breakout round of one group, shared with a second phone (driven by mouse: not the one tested).
    other = await watch.phone()
    await join(other, session)
    host.start_round(mode="random", groups=1, names=["Willow"], prompt="Talk about **benches**")
    for page in (phone, other):
        await expect(page.locator("#breakout-title")).to_have_text("Willow")
    # A note: typed and posted with Enter on its button.
    await tab_to(phone, "#note-text", rings, limit=60)
    await phone.keyboard.type("Benches by the pond")
    await tab_to(phone, "#note-send", rings)
    await phone.keyboard.press("Enter")
    await expect(phone.locator("#note-status")).to_have_text("Note posted ✓")
    await other.fill("#note-text", "More bins")
    await other.click("#note-send")
    board = phone.locator("#breakout-board li")
    await expect(board).to_have_count(2)
    # +1 on the other phone's note, with Space on its button.
    their_note = await board.filter(has_text="More bins").get_by_role("button").get_attribute("data-note")
    await tab_to(phone, f'#breakout-board button[data-note="{their_note}"]', rings, limit=60)
    await phone.keyboard.press("Space")
    plus = board.filter(has_text="More bins").get_by_role("button")
    await expect(plus).to_have_text("+1 · 1")
    await expect(plus).to_have_attribute("aria-pressed", "true")
    # The board was drawn again with the new count: the focus stays on the +1 just given.
    await expect(plus).to_be_focused()
    theirs = other.locator("#breakout-board li", has_text="More bins")
    await expect(theirs.get_by_role("button")).to_have_text("+1 · 1")
    await watch.step(phone, "keyboard-breakout-board")
    # "I'd rather not join a group": the phone stays in the main room.
    await tab_to(phone, "#breakout-decline", rings, limit=60)
    await phone.keyboard.press("Enter")
    await expect(phone.locator("#breakout-plenary")).to_be_visible()
    await expect(phone.locator("#breakout-group")).to_be_hidden()
    await watch.step(phone, "keyboard-breakout-declined")

    # "Message the research team": Enter opens it, the message is typed and sent with Enter.
    await tab_to(phone, "#private-details summary", rings, limit=60)
    await phone.keyboard.press("Enter")
    await expect(phone.locator("#private-text")).to_be_visible()
    await tab_to(phone, "#private-text", rings)
    await phone.keyboard.type("A word for the research team only.")
    await tab_to(phone, "#private-send", rings)
    await phone.keyboard.press("Enter")
    await expect(phone.locator("#private-status")).to_contain_text("Sent ✓")
    await watch.step(phone, "keyboard-private-sent")

    # "Withdraw my answers": Enter opens the privacy panel, Enter asks, and the focus moves to the
    # confirmation, which Enter gives.
    await tab_to(phone, "details.privacy summary", rings, limit=60)
    await phone.keyboard.press("Enter")
    await tab_to(phone, "#withdraw-me", rings)
    await phone.keyboard.press("Enter")
    await expect(phone.locator("#withdraw-confirm-box")).to_be_visible()
    await expect(phone.locator("#withdraw-confirm")).to_be_focused()
    if problem := await focus_ring(phone):
        rings.append(problem)
    await watch.step(phone, "keyboard-withdraw-confirm")
    await phone.keyboard.press("Enter")
    await expect(phone).to_have_url(re.compile(r"/withdraw\?done=1$"))
    await expect(phone.locator("#withdraw-done")).to_be_visible()
    assert rings == [], "focus was not visible at: " + "; ".join(sorted(set(rings)))


async def test_every_control_on_the_phone_has_a_name(watch: Watch, host: Host) -> None:
    session = host.create("Names", EVERY_KIND, min_group=3)
    phone = await watch.phone()
    await phone.goto(session["join_url"])
    await expect(phone.locator("#consent-agree")).to_be_visible()
    assert await unlabelled(phone) == []
    await phone.click("#consent-agree")
    missing: dict[str, list[str]] = {}
    for index, question in enumerate(EVERY_KIND):
        host.start(index)
        await expect(phone.locator("#prompt")).to_have_text(question["prompt"])
        await expect(phone.locator("#send")).to_be_enabled()
        await watch.step(phone, f"names-{question['kind']}")
        if found := await unlabelled(phone):
            missing[question["kind"]] = found
        # axe's own naming rules, reported separately so a failure names them.
        names = ["label", "button-name", "link-name", "select-name", "aria-input-field-name"]
        assert await watch.axe(phone, f"names-rules-{question['kind']}", rules=names) == []
    assert missing == {}


async def test_a_live_region_announces_question_answer_and_close(watch: Watch, host: Host) -> None:
    session = host.create("Announcements", [EVERY_KIND[0], EVERY_KIND[3]], min_group=3)
    phone = await watch.phone()
    await join(phone, session)
    announce = phone.locator("#announce")
    status = phone.locator("#answer-status")
    # Both are live regions a screen reader reads when their text changes.
    assert await announce.get_attribute("aria-live") in {"polite", "assertive"}
    assert await status.get_attribute("aria-live") in {"polite", "assertive"}
    host.start(0)
    await expect(announce).to_have_text(f"New question: {EVERY_KIND[0]['prompt']}")
    await phone.get_by_label("Work", exact=True).check()
    await phone.click("#send")
    await expect(announce).to_have_text("Thanks, your answer is in.")
    await expect(phone.locator("#thanks")).to_be_visible()
    # An accumulating kind says it in the status line, also a live region.
    host.patch(0, open=False)
    await expect(announce).to_have_text("This question is now closed.")
    host.start(1)
    await expect(announce).to_have_text(f"New question: {EVERY_KIND[3]['prompt']}")
    await phone.fill("#open-text", "More benches")
    await phone.click("#send")
    await expect(status).to_contain_text("Sent ✓")
    host.patch(1, open=False)
    await expect(announce).to_have_text("This question is now closed.")
    await watch.step(phone, "announced-closed")


async def _answered_choice(watch: Watch, host: Host, phone: Page) -> None:
    """Three phones answer a choice question with results shown, so the phone draws its bars."""
    session = host.create("Motion", EVERY_KIND[:1], min_group=3)
    host.start(0, results_visible=True)
    others = [await watch.phone() for _ in range(2)]
    for page, pick in [(phone, "Housing"), (others[0], "Health"), (others[1], "Housing")]:
        await join(page, session)
        await page.get_by_label(pick, exact=True).check()
        await page.click("#send")
        await expect(page.locator("#thanks")).to_be_visible()
    await expect(phone.locator("#result-view .bar")).to_have_count(3)


LONGEST_MOTION = """() => {
  let longest = 0;
  const secs = (v) => Math.max(...v.split(',')
    .map((s) => parseFloat(s) * (s.trim().endsWith('ms') ? 0.001 : 1)));
  for (const el of document.querySelectorAll('*')) {
    const s = getComputedStyle(el);
    const animation = s.animationName !== 'none' ? secs(s.animationDuration) : 0;
    longest = Math.max(longest, secs(s.transitionDuration), animation);
  }
  return longest;
}"""


@pytest.mark.parametrize("motion", ["reduce", "no-preference"])
async def test_the_phone_respects_prefers_reduced_motion(watch: Watch, host: Host, motion: str) -> None:
    """Under `reduce` nothing moves; under `no-preference` the bars do grow (so the test can tell)."""
    phone = await watch.phone(reduced_motion=motion)
    await _answered_choice(watch, host, phone)
    longest = await phone.evaluate(LONGEST_MOTION)
    if motion == "reduce":
        assert longest <= 0.01, f"an element still moves for {longest} s under prefers-reduced-motion"
    else:
        assert longest > 0.05


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_the_phone_respects_prefers_color_scheme(watch: Watch, host: Host, scheme: str) -> None:
    """The phone follows the system's light or dark scheme and keeps 4.5:1 contrast in both (axe runs
    on each kind in that scheme)."""
    session = host.create(f"Scheme {scheme}", EVERY_KIND, min_group=3)
    phone = await watch.phone(color_scheme=scheme)
    await join(phone, session)
    for index, question in enumerate(EVERY_KIND):
        host.start(index)
        await expect(phone.locator("#prompt")).to_have_text(question["prompt"])
        await expect(phone.locator("#send")).to_be_enabled()
        await watch.step(phone, f"{scheme}-{question['kind']}")
    background = await phone.evaluate("getComputedStyle(document.body).backgroundColor")
    channels = [int(c) for c in re.findall(r"\d+", background)[:3]]
    if scheme == "dark":
        assert max(channels) < 64, f"the dark scheme has a light background {background}"
    else:
        assert min(channels) > 240, f"the light scheme has a dark background {background}"
    assert await contrast(phone, "#prompt") >= 4.5


KEY_TEXT = ["#session-title", "#prompt", "#send", "#prefer-not", ".option", ".hint"]


async def test_key_text_keeps_a_contrast_of_4_5_to_1(watch: Watch, host: Host) -> None:
    """axe's color-contrast rule on the phone and the presenter, and our own measure of the key text."""
    session = host.create("Contrast", EVERY_KIND[:1], min_group=3)
    phone = await watch.phone()
    await join(phone, session)
    host.start(0, results_visible=True)
    await expect(phone.locator(".option").first).to_be_visible()
    assert await watch.axe(phone, "contrast-phone-question", rules=["color-contrast"]) == []
    ratios = {sel: await contrast(phone, sel) for sel in KEY_TEXT if await phone.locator(sel).count()}
    await phone.get_by_label("Housing", exact=True).check()
    await phone.click("#send")
    await expect(phone.locator("#thanks")).to_be_visible()
    assert await watch.axe(phone, "contrast-phone-thanks", rules=["color-contrast"]) == []
    for sel in ["#thanks-heading", "#thanks-text"]:
        ratios[sel] = await contrast(phone, sel)
    assert set(ratios) >= {"#prompt", "#send", ".option", "#thanks-heading"}
    low = {sel: round(r, 2) for sel, r in ratios.items() if r < 4.5}
    assert low == {}, f"text below 4.5:1 on the phone: {low}"

    presenter = await watch.facilitator(viewport={"width": 1280, "height": 720})
    await presenter.goto(f"/presenter/{session['id']}")
    await expect(presenter.locator("#prompt")).to_have_text(EVERY_KIND[0]["prompt"])
    assert await watch.axe(presenter, "contrast-presenter", rules=["color-contrast"]) == []
    for sel in ["#prompt", ".join-code", ".join-host", ".session-name", "#presence"]:
        ratio = await contrast(presenter, sel)
        assert ratio >= 4.5, f"{sel} on the presenter has {ratio:.2f}:1"


async def test_every_target_is_at_least_24_by_24_px(watch: Watch, host: Host) -> None:
    session = host.create("Targets", EVERY_KIND, min_group=3)
    phone = await watch.phone()
    await phone.goto(session["join_url"])
    await expect(phone.locator("#consent-agree")).to_be_visible()
    small: dict[str, list[str]] = {}
    if found := await small_targets(phone):
        small["consent"] = found
    await phone.click("#consent-agree")
    await phone.click("#withdrawal-done")
    for index, question in enumerate(EVERY_KIND):
        host.start(index)
        await expect(phone.locator("#prompt")).to_have_text(question["prompt"])
        await expect(phone.locator("#send")).to_be_enabled()
        await phone.locator("details.privacy summary").click()  # open: the withdraw button shows
        if found := await small_targets(phone):
            small[question["kind"]] = found
        await phone.locator("details.privacy summary").click()
    assert small == {}


@pytest.mark.parametrize(
    "device",
    [
        pytest.param({"width": 320, "height": 640, "scale": 1}, id="320px"),
        # A 640 px-wide phone at 200 % browser zoom lays out 320 CSS px, drawn at two device pixels
        # each: emulated with a 320 CSS px viewport at deviceScaleFactor 2.
        pytest.param({"width": 320, "height": 427, "scale": 2}, id="640px-at-200pc"),
    ],
)
async def test_no_sideways_scroll(watch: Watch, host: Host, device: dict[str, int]) -> None:
    session = host.create("A title that is rather long for a phone of this width, on purpose", EVERY_KIND)
    phone = await watch.phone(
        width=device["width"], height=device["height"], device_scale_factor=device["scale"]
    )
    await phone.goto("/")
    assert await sideways(phone) == 0
    await join(phone, session)
    wide: dict[str, int] = {}
    for index, question in enumerate(EVERY_KIND):
        host.start(index)
        await expect(phone.locator("#prompt")).to_have_text(question["prompt"])
        await expect(phone.locator("#send")).to_be_enabled()
        if (extra := await sideways(phone)) > 0:
            wide[question["kind"]] = extra
    await watch.step(phone, f"zoom-{device['scale']}x-qa")
    assert wide == {}, f"the phone scrolls sideways by these CSS px: {wide}"


async def _answer(phone: Page, kind: str, index: int) -> None:
    """Phone `index` (0 to 2) answers the open question of this kind (EVERY_KIND), as READ_ALOUD expects."""
    if kind == "choice":
        await phone.get_by_label(["Housing", "Housing", "Health"][index], exact=True).check()
    elif kind == "scale":
        for statement, point in [("I feel heard", [4, 5, 5][index]), ("Meetings help", 3)]:
            item = phone.locator("fieldset.scale-item", has_text=statement)
            await item.get_by_role("radio", name=re.compile(rf"^{point}\b")).check()
    elif kind == "wordcloud":
        for slot, word in enumerate([["river", "trust"], ["river"], ["river"]][index]):
            await phone.fill(f"#word-{slot}", word)
    elif kind == "open":
        await phone.fill(
            "#open-text", ["Safer crossings", "A bench by the river", "Longer library hours"][index]
        )
    elif kind == "ranking":
        for option in ["Schools", "Parks", "Buses"]:
            await phone.locator(".rank-pool").get_by_role("button", name=re.compile(f"^Add {option}")).click()
    else:
        await phone.fill("#qa-text", ["When do works start?", "Who pays?", "Can we help?"][index])
    await phone.click("#send")
    if kind in {"open", "qa"}:
        await expect(phone.locator("#answer-status")).to_contain_text("Sent" if kind == "open" else "sent")
    else:
        await expect(phone.locator("#thanks")).to_be_visible()


# What a screen reader reads from the presenter's text equivalent of each kind's result (#results-text,
# a list) once three phones answered as `_answer` says and the question closed (k = 3: exact values).
READ_ALOUD = {
    "choice": ["Housing: 2 (67%)", "Health: 1 (33%)", "Work: 0 (0%)"],
    "scale": [
        "I feel heard: n 3 · mean 4.67 · median 5 · 100% chose 4 or 5; ratings 1: 0, 2: 0, 3: 0, 4: 1, 5: 2.",
        "Meetings help: n 3 · mean 3 · median 3 · 0% chose 4 or 5; ratings 1: 0, 2: 0, 3: 3, 4: 0, 5: 0.",
    ],
    "wordcloud": ["river: 3"],  # "trust", used once, is under k and never read
    "open": ["Longer library hours", "A bench by the river", "Safer crossings"],
    "ranking": [
        "Schools: mean rank 1; 1st 3, 2nd 0, 3rd 0.",
        "Parks: mean rank 2; 1st 0, 2nd 3, 3rd 0.",
        "Buses: mean rank 3; 1st 0, 2nd 0, 3rd 3.",
    ],
    # Most votes first; ties newest first (as the presenter lists them).
    "qa": ["Who pays?: 2 votes", "Can we help?: 0 votes", "When do works start?: 0 votes"],
}

# What a screen reader reads from the drawn result itself, for the kinds whose result is a list of text
# (the wall's cards; the Q&A rows, whose drawn count and ▲ are hidden from it and read as words).
READ_IN_VIEW = {
    "open": ["Longer library hours", "A bench by the river", "Safer crossings"],
    "qa": ["Who pays? (2 votes)", "Can we help? (0 votes)", "When do works start? (0 votes)"],
}
# The drawn parts of each result that a screen reader must not read (it has the text instead).
DRAWN = {
    "choice": "#view .bar-track",
    "scale": "#view .diverging",
    "ranking": "#view .rank-dist",
    "qa": "#view .qa-votes",
}


@pytest.mark.parametrize("kind", list(READ_ALOUD))
async def test_the_presenter_chart_has_a_text_equivalent(watch: Watch, host: Host, kind: str) -> None:
    """What a screen reader reads on the presenter (its accessibility tree) names each value of the
    result, for every kind: the choice's counts, each scale statement's n, mean, median and ratings, the
    words at k, every entry of the open-text wall, each option's mean rank and ranks, and each Q&A
    question with its votes. The drawn bars, segments and cloud are hidden from it, so nothing is read
    twice, or given a name of their own."""
    index = next(i for i, q in enumerate(EVERY_KIND) if q["kind"] == kind)
    session = host.create(f"Read aloud: {kind}", [EVERY_KIND[index]], min_group=3)
    host.start(0, results_visible=kind == "qa")  # Q&A: the phones see the questions, to upvote them
    presenter = await watch.facilitator(viewport={"width": 1280, "height": 720})
    await presenter.goto(f"/presenter/{session['id']}")
    await expect(presenter.locator("#conn")).to_have_text("Connected")
    phones = []
    for i in range(3):
        phone = await watch.phone()
        await join(phone, session)
        await _answer(phone, kind, i)
        phones.append(phone)
    if kind == "qa":
        for phone in (phones[0], phones[2]):
            item = phone.locator(".qa-item", has_text="Who pays?")
            await item.get_by_role("button", name=re.compile("^Upvote")).click()
            await expect(phone.locator("#announce")).to_have_text("Upvote counted ✓")  # acknowledged
    host.patch(0, open=False)  # while open the values move in steps of k; at close they are exact
    await expect(presenter.locator("#state-badge")).to_have_text("Closed")
    text = presenter.locator("#results-text")
    await expect(text.locator("li")).to_have_text(READ_ALOUD[kind])  # the exact result after close
    assert listitems(await text.aria_snapshot()) == READ_ALOUD[kind]
    if kind in READ_IN_VIEW:
        view = presenter.locator("#view ul, #view ol").first
        snapshot = await view.aria_snapshot()
        assert listitems(snapshot) == READ_IN_VIEW[kind], snapshot
    if kind in DRAWN:
        drawn = presenter.locator(DRAWN[kind])
        assert await drawn.count() > 0
        for hidden in await drawn.evaluate_all("(nodes) => nodes.map((n) => n.getAttribute('aria-hidden'))"):
            assert hidden == "true", f"{DRAWN[kind]} is read by screen readers"
    if kind == "wordcloud":
        # The cloud is one image with a name; its words are read from the list, once each.
        cloud = presenter.locator("#view svg.cloud")
        await expect(cloud).to_have_attribute("role", "img")
        await expect(cloud).to_have_attribute("aria-label", "Word cloud of 1 word")
    await watch.step(presenter, f"read-aloud-{kind}", full=False)
