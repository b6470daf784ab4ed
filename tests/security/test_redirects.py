"""Redirect targets taken from the request (login's ?next=, the question flag/report forms' next) stay on
this site, including the forms browsers read as another host: //host, /\\host, /<tab>/host."""
from __future__ import annotations

from urllib.parse import urlsplit

from tests.conftest import csrf_from
from tests.security.conftest import login, token_of

OFFSITE = ["//evil.example.com/", "/\\evil.example.com/", "/\\/evil.example.com", "/\t/evil.example.com",
           "/\n/evil.example.com", "https://evil.example.com/", "javascript:alert(1)", "\\\\evil.example.com"]


def stays_here(location: str) -> bool:
    normalised = location.replace("\\", "/")
    normalised = "".join(c for c in normalised if c not in "\t\r\n")
    parts = urlsplit(normalised)
    return not parts.scheme and not parts.netloc and normalised.startswith("/") and not normalised.startswith("//")


def test_flagging_or_reporting_a_question_never_redirects_off_site(app, world):
    """Found by this review: `next` was followed when it merely started with "/" (so //host went off site,
    and a newline in it was a 500)."""
    client = login(app, world.accounts["trainee"])
    version = world.ids["version_id"]
    for action, target in ((a, t) for a in ("flag", "report") for t in OFFSITE):
        response = client.post(f"/questions/{version}/{action}", data={"csrf_token": token_of(client), "next": target,
                                                                       "message": "The stem has a typo."})
        assert response.status_code == 302
        assert stays_here(response.headers["Location"]), f"{action} redirects to {response.headers['Location']!r}"


def test_a_same_site_next_is_still_followed(app, world):
    client = login(app, world.accounts["trainee"])
    response = client.post(f"/questions/{world.ids['version_id']}/flag",
                           data={"csrf_token": token_of(client), "next": "/practice/TST1?domain=networking"})
    assert response.headers["Location"] == "/practice/TST1?domain=networking"


def test_login_never_redirects_off_site(app, accounts):
    from urllib.parse import quote

    account = accounts["trainee"]
    for target in OFFSITE:
        client = app.test_client()
        page = client.get("/login")
        response = client.post(f"/login?next={quote(target)}", data={
            "email": account.email, "password": account.password, "csrf_token": csrf_from(page.get_data(as_text=True))})
        assert response.status_code == 302
        assert stays_here(response.headers["Location"]), (target, response.headers["Location"])


def test_local_path_accepts_only_paths_of_this_site():
    from academy.navigation import local_path

    for target in OFFSITE + ["", None, "dashboard", "/ok\x00"]:
        assert local_path(target) is None, target
    assert local_path("/runs/3?event=4#check-echo") == "/runs/3?event=4#check-echo"
