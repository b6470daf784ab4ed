"""Logging in and out: the happy path, every way it can fail, rate limits and CSRF."""
from __future__ import annotations

from sqlalchemy import select

from academy.extensions import db
from academy.models import AuditEvent
from tests.conftest import csrf_from


def test_a_trainee_logs_in_and_reaches_the_dashboard(client, auth, accounts):
    response = auth.login(accounts["trainee"])
    assert response.status_code == 302 and response.headers["Location"].endswith("/dashboard")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "Welcome, Trainee General Hospital" in page.get_data(as_text=True)


def test_a_wrong_password_is_refused_with_a_clear_message_and_audited(app, client, auth, accounts):
    response = auth.login(accounts["trainee"], password="not-the-password")
    assert response.status_code == 401
    assert "The email or password is not right." in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302  # still anonymous
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "login.failed" in actions


def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(client, auth, accounts):
    response = auth.login(email="nobody@general.example.org", password="whatever-it-is")
    assert response.status_code == 401
    assert "The email or password is not right." in response.get_data(as_text=True)


def test_empty_and_overlong_fields_are_a_400_with_field_messages(client, auth, accounts):
    empty = auth.login(email="", password="")
    assert empty.status_code == 400
    body = empty.get_data(as_text=True)
    assert "Enter your email address." in body and "Enter your password." in body
    overlong = auth.login(email="a" * 300 + "@x.org", password="x" * 300)
    assert overlong.status_code == 400


def test_unicode_credentials_are_handled(client, auth, accounts):
    assert auth.login(email="zoë@général.example.org", password="пароль-密码-🔑").status_code == 401


def test_email_is_case_insensitive(client, auth, accounts):
    account = accounts["instructor"]
    assert auth.login(email=account.email.upper(), password=account.password).status_code == 302


def test_a_deactivated_account_cannot_log_in(app, client, auth, accounts):
    from academy.models import User

    with app.app_context():
        db.session.get(User, accounts["trainee"].id).active = False
        db.session.commit()
    assert auth.login(accounts["trainee"]).status_code == 401


def test_login_without_a_csrf_token_is_rejected(client, accounts):
    account = accounts["trainee"]
    response = client.post("/login", data={"email": account.email, "password": account.password})
    assert response.status_code == 400
    assert "expired or was not sent from this site" in response.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_logout_needs_a_post_with_csrf(client, auth, accounts):
    auth.login(accounts["trainee"])
    assert client.get("/logout").status_code == 405
    assert client.post("/logout", data={}).status_code == 400
    assert client.get("/dashboard").status_code == 200  # still logged in
    assert auth.logout().status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_failed_logins_for_one_account_are_rate_limited(client, auth, accounts):
    account = accounts["trainee"]
    for _ in range(5):
        assert auth.login(account, password="wrong-password").status_code == 401
    blocked = auth.login(account)  # even the right password waits now
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    # another account from the same address is not locked out by this one's failures
    assert auth.login(accounts["instructor"]).status_code == 302


def test_login_attempts_from_one_address_are_rate_limited(app, client, auth, accounts):
    app.config["ACADEMY_LOGIN_LIMIT_ADDRESS"] = "3 per 15 minutes"
    for n in range(3):
        auth.login(email=f"user{n}@general.example.org", password="wrong-password")
    assert auth.login(accounts["trainee"]).status_code == 429


def test_a_successful_login_does_not_count_against_the_account(client, auth, accounts):
    account = accounts["trainee"]
    for _ in range(7):
        assert auth.login(account).status_code == 302
        auth.logout()


def test_next_only_redirects_within_the_site(client, accounts):
    account = accounts["trainee"]
    for target, expected in (("/organization", "/organization"), ("https://evil.example.com/", "/dashboard"),
                             ("//evil.example.com/", "/dashboard")):
        page = client.get("/login")
        response = client.post(f"/login?next={target}", data={
            "email": account.email, "password": account.password, "csrf_token": csrf_from(page.get_data(as_text=True))})
        assert response.headers["Location"] == expected
        client.post("/logout", data={"csrf_token": csrf_from(client.get("/dashboard").get_data(as_text=True))})


def test_changing_the_password_ends_other_sessions(app, accounts):
    account = accounts["trainee"]
    first, second = app.test_client(), app.test_client()
    from tests.conftest import Auth

    Auth(first).login(account)
    Auth(second).login(account)
    page = first.get("/account/password")
    response = first.post("/account/password", data={
        "current": account.password, "new": "a-brand-new-passphrase", "confirm": "a-brand-new-passphrase",
        "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302
    assert first.get("/dashboard").status_code == 200  # the session that changed it stays in
    assert second.get("/dashboard").status_code == 302  # the stale one is logged out
    assert Auth(app.test_client()).login(email=account.email, password="a-brand-new-passphrase").status_code == 302


def test_a_wrong_current_password_does_not_change_it(client, auth, accounts):
    account = accounts["trainee"]
    auth.login(account)
    page = client.get("/account/password")
    response = client.post("/account/password", data={
        "current": "not-my-password", "new": "another-passphrase", "confirm": "another-passphrase",
        "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 400
    assert "The current password is not right." in response.get_data(as_text=True)
    auth.logout()
    assert auth.login(account).status_code == 302


def test_a_user_without_a_role_sees_403_not_a_crash(app, client, auth):
    from academy.auth.passwords import hash_password
    from academy.models import User

    with app.app_context():
        db.session.add(User(email="orphan@general.example.org", display_name="Orphan",
                            password_hash=hash_password("orphan-password")))
        db.session.commit()
    assert auth.login(email="orphan@general.example.org", password="orphan-password").status_code == 302
    response = client.get("/dashboard")
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)
