"""Breaking a page fails a named test: the harness (tests/e2e/conftest.py) must catch a script error on
the presenter and a missing label on the phone. Each test breaks a real page in the browser (the
presenter's script through Playwright's `route`, the phone's label through `add_init_script`; the
server untouched), asserts that the checker reports the fault and that
`Watch.check` fails with it, then clears the expected report so the test itself passes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import Route, expect

from tests.e2e.conftest import Watch
from tests.e2e.helpers import EVERY_KIND, Host, join, unlabelled

pytestmark = pytest.mark.browser


@pytest.fixture
def host(watch: Watch) -> Iterator[Host]:
    h = Host(watch.server)
    yield h
    h.close()


async def test_a_script_error_on_the_presenter_fails_the_test(watch: Watch, host: Host) -> None:
    session = host.create("Broken presenter", EVERY_KIND[:1])
    presenter = await watch.facilitator(viewport={"width": 1280, "height": 720})

    async def broken(route: Route) -> None:
        response = await route.fetch()
        body = await response.text() + "\nthrow new Error('the presenter broke on purpose');\n"
        await route.fulfill(response=response, body=body)

    await presenter.route("**/static/js/presenter.js", broken)
    await presenter.goto(f"/presenter/{session['id']}")
    await expect(presenter.locator("#prompt")).to_be_visible()
    await presenter.wait_for_timeout(500)  # the module runs after the page has loaded
    assert any("the presenter broke on purpose" in p for p in watch.problems), watch.problems
    with pytest.raises(AssertionError, match="the presenter broke on purpose"):
        watch.check()
    watch.problems.clear()


async def test_a_missing_label_on_the_phone_fails_the_test(watch: Watch, host: Host) -> None:
    question = {**EVERY_KIND[0], "comments": True}
    session = host.create("Broken phone", [question])
    host.start(0)
    phone = await watch.phone()

    # The comment box's label goes missing before the page's own scripts run.
    await phone.add_init_script(
        "document.addEventListener('DOMContentLoaded', () => "
        "document.querySelector('label[for=comment-text]').remove())"
    )
    await join(phone, session)
    await expect(phone.locator("#comment-text")).to_be_visible()
    await watch.step(phone, "comment-without-label")
    assert any("axe label (critical)" in p for p in watch.problems), watch.problems
    assert any('id="comment-text"' in p for p in await unlabelled(phone))
    with pytest.raises(AssertionError, match="axe label"):
        watch.check()
    watch.problems.clear()


async def test_a_payload_that_runs_fails_the_test(watch: Watch, host: Host) -> None:
    """What test_safety.py relies on: HTML that a page wrongly inserts as markup (here by hand) tries
    to run its handler; the CSP blocks it and the harness reports the violation (were the CSP loosened,
    the dialog and the `__xss` trap would report it)."""
    session = host.create("Unsafe page", EVERY_KIND[:1])
    phone = await watch.phone()
    await join(phone, session)
    await phone.evaluate(
        """() => { document.querySelector('#session-title').innerHTML =
             `<img src=x onerror="window.__xss = 'img'; alert('xss-ran')">`; }"""
    )
    for _ in range(50):  # the reports arrive as events, in any order
        if len(watch.problems) >= 2:
            break
        await phone.wait_for_timeout(100)
    found = "\n".join(watch.problems)
    assert "CSP violation: script-src-attr blocked inline" in found
    with pytest.raises(AssertionError, match="CSP violation"):
        watch.check()
    watch.problems.clear()
