"""Shared steps of the browser suite: a facilitator's API client for setting a scene quickly (the event
test builds its session from the console instead), and page measurements (focus, names, targets,
contrast, sideways scroll) that the accessibility and event tests assert on."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.conftest import ServerProcess
from tests.factories import PASSWORD

# One question of every kind, as the API takes it.
EVERY_KIND: list[dict[str, Any]] = [
    {"kind": "choice", "prompt": "Which area matters most?", "options": ["Housing", "Health", "Work"]},
    {"kind": "scale", "prompt": "How far do you agree?", "statements": ["I feel heard", "Meetings help"]},
    {"kind": "wordcloud", "prompt": "One word for community", "max_entries": 2},
    {"kind": "open", "prompt": "What should we change first?"},
    {"kind": "ranking", "prompt": "Rank these priorities", "options": ["Parks", "Buses", "Schools"]},
    {"kind": "qa", "prompt": "Questions for the panel"},
]


class Host:
    """The facilitator through the public API (scene setting only; never what a test asserts on)."""

    def __init__(self, server: ServerProcess) -> None:
        self.http = httpx.Client(base_url=server.http, timeout=10)
        login = {"username": "facilitator@example.org", "password": PASSWORD}
        token = self.http.post("/api/auth/token", data=login).json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.session: dict[str, Any] = {}
        self.questions: list[dict[str, Any]] = []

    def create(self, title: str, questions: list[dict[str, Any]], **settings: Any) -> dict[str, Any]:
        settings.setdefault("consent_text", "We keep your answers **without your name**.")
        r = self.http.post("/api/sessions", json={"title": title, "settings": settings})
        assert r.status_code == 201, r.text
        self.session = r.json()
        for body in questions:
            r = self.http.post(f"/api/sessions/{self.session['id']}/questions", json=body)
            assert r.status_code == 201, r.text
            self.questions.append(r.json())
        return self.session

    def start(self, index: int, **patch: Any) -> str:
        qid = str(self.questions[index]["id"])
        base = f"/api/sessions/{self.session['id']}"
        assert self.http.put(f"{base}/current", json={"question_id": qid}).status_code == 200
        r = self.http.patch(f"{base}/questions/{qid}", json={"open": True, **patch})
        assert r.status_code == 200, r.text
        return qid

    def patch(self, index: int, **patch: Any) -> None:
        qid = self.questions[index]["id"]
        r = self.http.patch(f"/api/sessions/{self.session['id']}/questions/{qid}", json=patch)
        assert r.status_code == 200, r.text

    def start_round(self, **body: Any) -> dict[str, Any]:
        """A breakout round (the API's RoundCreate body), among the phones that joined so far."""
        r = self.http.post(f"/api/sessions/{self.session['id']}/rounds", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def close(self) -> None:
        self.http.close()


async def join(phone: Page, session: dict[str, Any], *, agree: bool = True) -> None:
    """Open the join link and agree to the sheet (the tests that type the code do so themselves)."""
    await phone.goto(session["join_url"])
    await expect(phone).to_have_url(re.compile(rf"/s/{session['id']}$"))
    if agree:
        await phone.click("#consent-agree")
        await expect(phone.locator("#consent")).to_be_hidden()
        done = phone.locator("#withdrawal-done")
        if await done.is_visible():
            await done.click()


# ---------------------------------------------------------------------------------------------
# Measurements (JavaScript run in the page)

FOCUS_RING = """() => {
  // The focused control, or the label/box drawn around it, carries a visible outline or box-shadow.
  let el = document.activeElement;
  if (!el || el === document.body) return 'nothing has focus';
  const name = `${el.tagName.toLowerCase()}#${el.id}.${el.className}`;
  for (let i = 0; el && i < 3; i += 1, el = el.parentElement) {
    const s = getComputedStyle(el);
    if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) return '';
    if (s.boxShadow && s.boxShadow !== 'none') return '';
  }
  return `no visible focus on ${name}`;
}"""

# Every interactive element the person can reach: its name as a screen reader computes it is not
# exhaustive here, but a control without any of these has none.
UNLABELLED = """() => {
  const out = [];
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  for (const el of document.querySelectorAll('input, select, textarea, button, a[href], [role=button]')) {
    if (!visible(el) || el.type === 'hidden') continue;
    const named = (el.getAttribute('aria-label') || '').trim()
      || (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)
           .map((id) => (document.getElementById(id)?.textContent || '').trim()).join('')
      || Array.from(el.labels || []).map((l) => l.textContent.trim()).join('')
      || ((el.tagName === 'BUTTON' || el.tagName === 'A' || el.getAttribute('role') === 'button')
          ? el.textContent.trim() : '')
      || (el.type === 'submit' || el.type === 'button' ? (el.value || '').trim() : '')
      || (el.getAttribute('title') || '').trim();
    if (!named) out.push(el.outerHTML.slice(0, 120));
  }
  return out;
}"""

# WCAG 2.2 SC 2.5.8: a target at least 24x24 CSS px (or 24 px of spacing around a smaller one). A
# radio or checkbox counts with its label, which takes the tap too.
SMALL_TARGETS = """() => {
  const out = [];
  const sel = 'input:not([type=hidden]), select, textarea, button, a[href], summary, [role=button]';
  for (const el of document.querySelectorAll(sel)) {
    if (!(el.offsetWidth || el.offsetHeight)) continue;
    if (el.closest('.visually-hidden')) continue;
    let box = el.getBoundingClientRect();
    if ((el.type === 'radio' || el.type === 'checkbox') && el.labels && el.labels[0]) {
      const l = el.labels[0].getBoundingClientRect();
      box = {width: Math.max(box.width, l.width), height: Math.max(box.height, l.height)};
    }
    // Inline links inside a sentence are exempt (SC 2.5.8 "inline").
    const inline = el.tagName === 'A' && getComputedStyle(el).display === 'inline'
      && el.parentElement && el.parentElement.textContent.trim() !== el.textContent.trim();
    if (inline) continue;
    if (box.width < 24 || box.height < 24) {
      out.push(`${el.outerHTML.slice(0, 90)} is ${box.width.toFixed(1)}x${box.height.toFixed(1)}`);
    }
  }
  return out;
}"""

# The contrast of an element's text on the first opaque background behind it (WCAG relative luminance).
CONTRAST = """(el) => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const fg = rgb(getComputedStyle(el).color);
  let node = el, bg = null;
  while (node) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] === 1)) { bg = c; break; }
    node = node.parentElement;
  }
  bg = bg || [255, 255, 255];
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


async def focus_ring(page: Page) -> str:
    return str(await page.evaluate(FOCUS_RING))


async def unlabelled(page: Page) -> list[str]:
    return list(await page.evaluate(UNLABELLED))


async def small_targets(page: Page) -> list[str]:
    return list(await page.evaluate(SMALL_TARGETS))


async def contrast(page: Page, selector: str) -> float:
    return float(await page.locator(selector).first.evaluate(CONTRAST))


async def sideways(page: Page) -> int:
    """How many CSS px the page scrolls sideways (0 when it fits its viewport)."""
    return int(await page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def listitems(snapshot: str) -> list[str]:
    """The items of the first list in a Playwright ARIA snapshot, each as the text read out: its own
    text, or its children's joined by spaces (YAML quoting undone)."""
    items: list[list[str]] = []
    depth = None
    for line in snapshot.splitlines():
        found = re.match(r"(\s*)- ([a-z]+)(?: \"[^\"]*\")?(?::\s*(.*))?$", line)
        if not found:
            continue
        indent, role, text = len(found.group(1)), found.group(2), found.group(3) or ""
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
            text = text[1:-1].replace('\\"', '"')
        if depth is None and role != "listitem":
            continue
        if depth is not None and indent < depth:
            break  # the list ended
        if depth is None or indent == depth:
            depth = indent
            items.append([text] if text else [])
        elif text:
            items[-1].append(text)
    return [" ".join(parts) for parts in items]
