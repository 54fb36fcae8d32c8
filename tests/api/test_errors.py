"""Every error, from every route, has the one shape."""

from __future__ import annotations

from tests.factories import PASSWORD, Api, assert_error


class TestErrorShape:
    async def test_unknown_api_route_is_404(self, api: Api) -> None:
        r = await api.client.get("/api/no-such-thing")
        assert_error(r, 404, "not_found")

    async def test_wrong_method_is_405(self, api: Api) -> None:
        r = await api.client.delete("/api/sessions")
        assert_error(r, 405, "method_not_allowed")

    async def test_body_that_is_not_an_object_is_400(self, api: Api) -> None:
        r = await api.client.post("/api/join", json=["12345678"])
        assert_error(r, 400, "bad_request", fields={"body"})

    async def test_missing_body_is_400(self, api: Api) -> None:
        r = await api.client.post("/api/join")
        assert_error(r, 400, "bad_request", fields={"body"})

    async def test_missing_form_field_is_422(self, api: Api) -> None:
        r = await api.client.post("/api/auth/token", data={"username": "a@example.org"})
        assert_error(r, 422, "invalid", fields={"password"})

    async def test_api_errors_are_json_even_when_html_is_accepted(self, api: Api) -> None:
        r = await api.client.get("/api/no-such-thing", headers={"Accept": "text/html"})
        assert r.headers["content-type"].startswith("application/json")
        assert_error(r, 404, "not_found")


class TestHtmlErrorPage:
    async def test_page_error_renders_html(self, api: Api) -> None:
        email = await api.create_account()
        page = await api.client.get("/login")
        await api.client.post(
            "/login", data={"username": email, "password": PASSWORD, "csrf_token": page.cookies["csrf"]}
        )
        r = await api.client.get("/console/0123456789abcdef", headers={"Accept": "text/html"})
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("text/html")
        assert "<html" in r.text.lower()
        assert "does not exist, or it is not yours" in r.text

    async def test_page_error_without_html_accept_is_json(self, api: Api) -> None:
        email = await api.create_account()
        page = await api.client.get("/login")
        await api.client.post(
            "/login", data={"username": email, "password": PASSWORD, "csrf_token": page.cookies["csrf"]}
        )
        r = await api.client.get("/console/0123456789abcdef", headers={"Accept": "application/json"})
        assert_error(r, 404, "not_found")
