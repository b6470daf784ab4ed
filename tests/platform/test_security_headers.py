"""Every response carries the security headers; cookies are HttpOnly and SameSite."""
import pytest

from academy.security import CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", ["/", "/login", "/healthz", "/no-such-page"])
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"


def test_pages_load_no_script_or_style_from_another_host(client, auth, accounts):
    pages = [client.get("/").get_data(as_text=True)]
    auth.login(accounts["trainee"])
    pages.append(client.get("/dashboard").get_data(as_text=True))
    for html in pages:
        assert "cdn" not in html.lower()
        assert "<script>" not in html and "<script type" not in html  # no inline scripts at all
        assert "/bootstrap/static/" in html  # Bootstrap is served from the installed package


def test_bootstrap_is_served_locally(client):
    assert client.get("/bootstrap/static/css/bootstrap.min.css").status_code == 200


def test_session_cookie_is_httponly_and_samesite_lax(client, auth, accounts):
    response = auth.login(accounts["trainee"])
    cookie = next(value for name, value in response.headers.items() if name == "Set-Cookie" and "session=" in value)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP by default


def test_cookies_are_secure_when_configured_for_https(tmp_path, template_database, accounts):
    from tests.conftest import Auth, make_app
    import shutil

    path = tmp_path / "https.db"
    shutil.copyfile(tmp_path / "academy.db", path)
    app = make_app(tmp_path, f"sqlite:///{path}", SESSION_COOKIE_SECURE=True, ACADEMY_HTTPS=True)
    client = app.test_client()
    response = Auth(client).login(accounts["trainee"])
    cookie = next(value for name, value in response.headers.items() if name == "Set-Cookie" and "session=" in value)
    assert "Secure" in cookie
    assert "max-age" in client.get("/").headers["Strict-Transport-Security"]
