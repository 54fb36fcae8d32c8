"""The QR code and the join link behind a reverse proxy at a sub-path: `thirdspace serve` runs with
THIRDSPACE_PUBLIC_URL=http://127.0.0.1:<port>/thirdspace. The presenter's QR image is decoded from its
screenshot (zxing-cpp) and must carry the sub-path, the same link the console and the presenter show;
a phone opening it through a proxy that strips the sub-path (emulated with Playwright's `route`) joins.

The pages' own paths (/static, /api, /ws) stay at the root: a proxy at a sub-path must also pass those
through (docs/operations.md says so); this test checks the links people follow."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image
from playwright.async_api import Page, Route, expect

from tests.e2e.conftest import Watch

pytestmark = pytest.mark.browser

PREFIX = "/thirdspace"


@pytest.fixture(scope="module")
def e2e_server_env() -> dict[str, str]:
    return {"THIRDSPACE_PUBLIC_URL": "http://127.0.0.1:{port}" + PREFIX}


async def decode_qr(page: Page) -> str:
    """The text of the QR code the presenter shows large (its Q button), read from its pixels."""
    await page.click("#qr-small")
    png = await page.locator("#qr-big .qr-large").screenshot()
    await page.click("#qr-close")
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    assert len(found) == 1, f"{len(found)} codes found in the presenter's QR image"
    return str(found[0].text)


async def test_the_qr_code_and_join_link_keep_the_public_sub_path(watch: Watch) -> None:
    public = f"{watch.server.http}{PREFIX}"
    console = await watch.facilitator()
    await console.fill("#title", "Behind a proxy")
    await console.click("#new-session button[type=submit]")
    await expect(console).to_have_url(re.compile(r"/console/[0-9a-f]{32}$"))
    session_id = console.url.rsplit("/", 1)[1]
    join_url = await console.locator("#join-url").get_attribute("href")
    assert join_url is not None and re.fullmatch(rf"{re.escape(public)}/j/\d{{8}}", join_url), join_url

    presenter = await console.context.new_page()
    await presenter.set_viewport_size({"width": 1280, "height": 720})
    await presenter.goto(f"/presenter/{session_id}")
    # The strip says where to go (the host and sub-path, which asks for the code) and the code.
    host_and_path = public.split("://", 1)[1]
    await expect(presenter.locator(".join-strip .join-host")).to_have_text(host_and_path)
    code = join_url.rsplit("/", 1)[1]
    await expect(presenter.locator(".join-strip .join-code")).to_have_text(f"{code[:4]}\u200b{code[4:]}")
    assert await decode_qr(presenter) == join_url
    await watch.step(presenter, "presenter-subpath", full=False)

    # The proxy: /thirdspace/... reaches the app without the prefix.
    phone = await watch.phone()

    async def proxy(route: Route) -> None:
        await route.continue_(url=route.request.url.replace(public, watch.server.http, 1))

    await phone.route(f"{public}/**", proxy)
    await phone.goto(join_url)
    await expect(phone.locator("#session-title")).to_have_text("Behind a proxy")
    await expect(phone.locator("#conn")).to_have_text(re.compile("Connected"))
