"""Ending logins: POST /api/auth/logout ends the token it is sent with, the page's POST /logout ends the
cookie's, and a password change ends every login of the account (app/api/auth.py, app/auth)."""

from __future__ import annotations

from app.auth import security
from app.auth import service as auth_service
from app.auth.models import RevokedToken
from tests.factories import Api, assert_error


class TestLogout:
    async def test_the_token_is_refused_afterwards_and_other_logins_go_on(self, api: Api) -> None:
        email = await api.create_account()
        first = await api.token(email)
        second = await api.token(email)
        r = await api.client.post("/api/auth/logout", headers=first)
        assert r.status_code == 200, r.text
        assert r.json() == {"logged_out": True}
        assert_error(await api.client.get("/api/sessions", headers=first), 401, "not_authenticated")
        assert (await api.client.get("/api/sessions", headers=second)).status_code == 200

    async def test_only_the_tokens_hash_is_kept(self, api: Api) -> None:
        auth = await api.token(await api.create_account())
        token = auth["Authorization"].removeprefix("Bearer ")
        await api.client.post("/api/auth/logout", headers=auth)
        async with api.app.state.database.read_session() as db:
            kept = await db.get(RevokedToken, security.access_token_hash(token))
        assert kept is not None
        assert token not in repr(kept.model_dump())

    async def test_without_a_credential_is_401(self, api: Api) -> None:
        assert_error(await api.client.post("/api/auth/logout"), 401, "not_authenticated")

    async def test_with_the_login_cookie_needs_the_csrf_token(self, api: Api) -> None:
        auth = await api.token(await api.create_account())
        token = auth["Authorization"].removeprefix("Bearer ")
        cookie = {"Cookie": f"ts_login={token}"}
        assert_error(await api.client.post("/api/auth/logout", headers=cookie), 403, "csrf_failed")
        csrf = security.csrf_token_for(api.app.state.secret_key, token)
        r = await api.client.post("/api/auth/logout", headers=cookie | {"X-CSRF-Token": csrf})
        assert r.status_code == 200, r.text
        assert_error(await api.client.get("/api/sessions", headers=auth), 401, "not_authenticated")

    async def test_the_logout_page_ends_the_cookies_login(self, api: Api) -> None:
        auth = await api.token(await api.create_account())
        token = auth["Authorization"].removeprefix("Bearer ")
        csrf = security.csrf_token_for(api.app.state.secret_key, token)
        r = await api.client.post(
            "/logout", data={"csrf_token": csrf}, headers={"Cookie": f"ts_login={token}"}
        )
        assert r.status_code == 303
        assert_error(await api.client.get("/api/sessions", headers=auth), 401, "not_authenticated")


class TestPasswordChange:
    async def test_ends_every_login_and_the_new_password_logs_in(self, api: Api) -> None:
        email = await api.create_account()
        logins = [await api.token(email) for _ in range(2)]
        async with api.app.state.database.session() as db:
            account = await auth_service.get_by_email(db, email=email)
            assert account is not None
            await auth_service.set_password(db, account=account, password="a brand new password")
            await db.commit()
        for auth in logins:
            assert_error(await api.client.get("/api/sessions", headers=auth), 401, "not_authenticated")
        fresh = await api.token(email, "a brand new password")
        assert (await api.client.get("/api/sessions", headers=fresh)).status_code == 200


class TestTokens:
    def test_a_token_of_the_old_format_is_refused(self) -> None:
        secret = "s" * 40
        token = security.issue_access_token(secret, "abc", 60)
        assert security.read_access_token(secret, token) is not None
        parts = token.split(".")
        old = ".".join([parts[0], parts[1], parts[3], parts[4]])
        assert security.read_access_token(secret, old) is None
