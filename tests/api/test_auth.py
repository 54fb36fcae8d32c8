"""Accounts: bearer tokens, failed logins, roles, and the login cookie with its CSRF token."""

from __future__ import annotations

import httpx
import pytest

from app.auth.models import Role
from app.config import Settings
from tests.factories import PASSWORD, Api, assert_error


async def cookie_login(client: httpx.AsyncClient, email: str, *, next_: str = "/console") -> httpx.Response:
    """The browser's way in: GET /login sets the `csrf` cookie, the form sends it back as csrf_token."""
    page = await client.get("/login")
    assert page.status_code == 200
    csrf = page.cookies["csrf"]
    return await client.post(
        "/login", data={"username": email, "password": PASSWORD, "csrf_token": csrf, "next": next_}
    )


class TestToken:
    async def test_good_credentials_get_a_bearer_token(self, api: Api, settings: Settings) -> None:
        email = await api.create_account()
        r = await api.client.post("/api/auth/token", data={"username": email, "password": PASSWORD})
        assert r.status_code == 200
        body = r.json()
        assert set(body) == {"access_token", "token_type", "expires_in"}
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == settings.ACCESS_TOKEN_SECONDS
        listed = await api.client.get(
            "/api/sessions", headers={"Authorization": f"Bearer {body['access_token']}"}
        )
        assert listed.status_code == 200

    async def test_wrong_password_is_401(self, api: Api) -> None:
        email = await api.create_account()
        r = await api.client.post("/api/auth/token", data={"username": email, "password": "wrong password"})
        assert_error(r, 401, "invalid_credentials")

    async def test_unknown_email_is_401(self, api: Api) -> None:
        r = await api.client.post(
            "/api/auth/token", data={"username": "nobody@example.org", "password": PASSWORD}
        )
        assert_error(r, 401, "invalid_credentials")

    async def test_repeated_failures_are_429_with_retry_after(self, api: Api, settings: Settings) -> None:
        email = await api.create_account()
        for _ in range(settings.LOGIN_FAILURES_ALLOWED):
            r = await api.client.post("/api/auth/token", data={"username": email, "password": "wrong!!!"})
            assert r.status_code == 401
        # The right password too: the limit is on the address, not on the guess.
        r = await api.client.post("/api/auth/token", data={"username": email, "password": PASSWORD})
        assert_error(r, 429, "too_many_attempts")
        assert 1 <= int(r.headers["Retry-After"]) <= settings.LOGIN_FAILURE_WINDOW_SECONDS

    async def test_forged_token_is_401(self, api: Api) -> None:
        auth = await api.quick_facilitator()
        forged = auth["Authorization"][:-4] + "AAAA"
        r = await api.client.get("/api/sessions", headers={"Authorization": forged})
        assert_error(r, 401, "not_authenticated")

    async def test_no_credential_is_401(self, api: Api) -> None:
        r = await api.client.get("/api/sessions")
        assert_error(r, 401, "not_authenticated")


class TestRoles:
    async def test_participant_token_on_an_account_route_is_401(self, api: Api) -> None:
        session = await api.create_session(await api.quick_facilitator())
        joined = await api.join(session)
        r = await api.client.get(
            "/api/sessions", headers={"Authorization": f"Bearer {joined['participant_token']}"}
        )
        assert_error(r, 401, "not_authenticated")

    async def test_researcher_cannot_create_a_session(self, api: Api) -> None:
        auth = await api.quick_facilitator(role=Role.researcher)
        r = await api.client.post("/api/sessions", json={"title": "Workshop"}, headers=auth)
        assert_error(r, 403, "forbidden")

    async def test_a_researchers_console_offers_no_form_it_would_refuse(self, api: Api) -> None:
        """/console for a researcher lists what is shared with them and no New session or template
        form (the API refuses a researcher's session with 403); a facilitator's has both forms."""
        researcher = await api.create_account(role=Role.researcher)
        owner = await api.quick_facilitator()
        session = await api.create_session(owner)
        r = await api.client.post(
            f"/api/sessions/{session['id']}/researchers", json={"email": researcher}, headers=owner
        )
        assert r.status_code == 201, r.text
        await cookie_login(api.client, researcher)
        page = (await api.client.get("/console")).text
        assert 'id="new-session"' not in page and 'id="import-template"' not in page
        assert "console_index.js" not in page and "Create one below" not in page
        assert "sessions a facilitator shares with you" in page
        assert "Shared with you as a researcher" in page and "Workshop" in page
        api.client.cookies.clear()
        await cookie_login(api.client, await api.create_account())
        page = (await api.client.get("/console")).text
        assert 'id="new-session"' in page and 'id="import-template"' in page

    async def test_admin_can_create_a_session(self, api: Api) -> None:
        auth = await api.quick_facilitator(role=Role.admin)
        r = await api.client.post("/api/sessions", json={"title": "Workshop"}, headers=auth)
        assert r.status_code == 201


class TestLoginCookie:
    async def test_login_form_sets_the_cookie_and_redirects(self, api: Api) -> None:
        email = await api.create_account()
        r = await cookie_login(api.client, email)
        assert r.status_code == 303
        assert r.headers["location"] == "/console"
        (login_cookie,) = [c for c in r.headers.get_list("set-cookie") if c.startswith("ts_login=")]
        assert "httponly" in login_cookie.lower()

    async def test_cookie_write_without_csrf_header_is_403(self, api: Api) -> None:
        await cookie_login(api.client, await api.create_account())
        r = await api.client.post("/api/sessions", json={"title": "Workshop"})
        assert_error(r, 403, "csrf_failed")

    async def test_cookie_write_with_a_wrong_csrf_header_is_403(self, api: Api) -> None:
        await cookie_login(api.client, await api.create_account())
        r = await api.client.post("/api/sessions", json={"title": "Workshop"}, headers={"X-CSRF-Token": "x"})
        assert_error(r, 403, "csrf_failed")

    async def test_cookie_write_with_the_csrf_cookie_as_header_is_201(self, api: Api) -> None:
        await cookie_login(api.client, await api.create_account())
        csrf = api.client.cookies["csrf"]
        r = await api.client.post("/api/sessions", json={"title": "Workshop"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 201, r.text

    async def test_cookie_read_needs_no_csrf(self, api: Api) -> None:
        await cookie_login(api.client, await api.create_account())
        r = await api.client.get("/api/sessions")
        assert r.status_code == 200
        assert r.json() == []

    async def test_login_form_with_a_wrong_csrf_token_is_403(self, api: Api) -> None:
        email = await api.create_account()
        await api.client.get("/login")
        r = await api.client.post(
            "/login", data={"username": email, "password": PASSWORD, "csrf_token": "not-the-cookie"}
        )
        assert_error(r, 403, "csrf_failed")
        assert "ts_login" not in r.cookies

    async def test_login_form_with_a_wrong_password_sets_no_cookie(self, api: Api) -> None:
        email = await api.create_account()
        page = await api.client.get("/login")
        r = await api.client.post(
            "/login",
            data={"username": email, "password": "wrong password", "csrf_token": page.cookies["csrf"]},
        )
        assert r.status_code == 401
        assert "ts_login" not in r.cookies

    async def test_next_to_another_site_goes_to_console(self, api: Api) -> None:
        r = await cookie_login(api.client, await api.create_account(), next_="//evil.example")
        assert r.status_code == 303
        assert r.headers["location"] == "/console"

    @pytest.mark.parametrize("target", ["https://evil.example/", "/\\evil.example", "javascript:alert(1)"])
    async def test_next_never_leaves_this_site(self, api: Api, target: str) -> None:
        r = await cookie_login(api.client, await api.create_account(), next_=target)
        assert r.status_code == 303
        location = r.headers["location"]
        assert location.startswith("/") and not location.startswith(("//", "/\\"))

    async def test_next_on_this_site_is_followed(self, api: Api) -> None:
        r = await cookie_login(api.client, await api.create_account(), next_="/console/abc")
        assert r.status_code == 303
        assert r.headers["location"] == "/console/abc"
