"""The org admin's LMS page: register, list, remove; what the LMS administrator must enter; isolation
between organisations; audit; the tool's public key set; no private key anywhere it could leak."""
from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import func, select

from academy.extensions import db
from academy.models import AuditEvent, LtiRegistration, Organization
from tests.conftest import Account, Auth, csrf_from
from tests.lti.conftest import full_launch, register
from tests.lti.platform import Platform

FORM = {"name": "Moodle", "issuer": "https://moodle.general.example.org", "client_id": "abc123",
        "deployment_ids": "1\n2", "auth_login_url": "https://moodle.general.example.org/mod/lti/auth.php",
        "access_token_url": "https://moodle.general.example.org/mod/lti/token.php",
        "key_set_url": "https://moodle.general.example.org/mod/lti/certs.php"}


def post_form(client, **data):
    token = csrf_from(client.get("/organization/lms").get_data(as_text=True))
    return client.post("/organization/lms", data={"csrf_token": token, **FORM, **data})


@pytest.fixture
def other_admin(app) -> Account:
    from academy.auth import service

    password = f"pw-{uuid.uuid4().hex[:10]}"
    with app.app_context():
        org = db.session.scalar(select(Organization).where(Organization.name == "Other Hospital"))
        user = service.create_user(db.session, email="admin@other.example.org", password=password, role="org_admin",
                                   organization=org)
        db.session.commit()
        return Account(user.email, password, "org_admin", user.id)


def test_an_org_admin_registers_an_lms_and_sees_what_to_enter(app, client, auth, accounts):
    auth.login(accounts["org_admin"])
    assert 'href="/organization/lms"' in client.get("/organization").get_data(as_text=True)
    response = post_form(client)
    assert response.status_code == 302
    page = client.get("/organization/lms").get_data(as_text=True)
    with app.app_context():
        row = db.session.scalar(select(LtiRegistration))
        assert row.deployment_ids == ["1", "2"] and row.created_by == accounts["org_admin"].id
        private_key, kid = row.tool_private_key, row.tool_key_id
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "lti.registered"))
        assert event.target == "Moodle" and event.detail["client_id"] == "abc123"
        assert "BEGIN PRIVATE KEY" not in str(event.detail)
    for url in ("http://localhost/lti/login", "http://localhost/lti/launch", f"http://localhost/lti/jwks/{kid}.json",
                "http://localhost/labs/tst-echo", "http://localhost/exams/TST1/start"):
        assert url in page, url
    assert "PRIVATE KEY" not in page and private_key.splitlines()[1] not in page
    jwks = client.get(f"/lti/jwks/{kid}.json").get_json()
    (key,) = jwks["keys"]
    assert key["kid"] == kid and key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)
    assert app.test_client().get("/lti/jwks/unknown.json").status_code == 404


@pytest.mark.parametrize("field, value, message", [
    ("issuer", "http://moodle.example.org", "issuer must be an https"),
    ("auth_login_url", "ftp://moodle.example.org/auth", "authentication request URL must be an https"),
    ("key_set_url", "https://", "keyset URL must be an https"),
    ("deployment_ids", " , ", "at least one deployment id"),
])
def test_bad_values_are_refused_with_the_reason(app, client, auth, accounts, field, value, message):
    auth.login(accounts["org_admin"])
    response = post_form(client, **{field: value})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LtiRegistration)) == 0


def test_the_same_issuer_and_client_cannot_be_registered_twice(app, client, auth, accounts, other_admin):
    auth.login(accounts["org_admin"])
    post_form(client)
    other = app.test_client()
    Auth(other).login(other_admin)
    response = post_form(other)
    assert response.status_code == 400 and "already registered" in response.get_data(as_text=True)


def test_another_organisations_admin_neither_sees_nor_removes_a_registration(app, client, auth, accounts, other_admin):
    auth.login(accounts["org_admin"])
    post_form(client)
    with app.app_context():
        registration_id = db.session.scalar(select(LtiRegistration.id))
    other = app.test_client()
    Auth(other).login(other_admin)
    page = other.get("/organization/lms").get_data(as_text=True)
    assert "abc123" not in page and "moodle.general" not in page
    token = csrf_from(page)
    assert other.post(f"/organization/lms/{registration_id}/remove", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        assert db.session.get(LtiRegistration, registration_id) is not None
    # a trainee and an instructor of the same organisation cannot either
    for role in ("trainee", "instructor"):
        someone = app.test_client()
        Auth(someone).login(accounts[role])
        assert someone.get("/organization/lms").status_code == 403
        token = csrf_from(someone.get("/account/password").get_data(as_text=True))
        assert someone.post(f"/organization/lms/{registration_id}/remove", data={"csrf_token": token}).status_code == 403
    # its own admin can
    token = csrf_from(client.get("/organization/lms").get_data(as_text=True))
    assert client.post(f"/organization/lms/{registration_id}/remove", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(LtiRegistration, registration_id) is None
        assert db.session.scalar(select(AuditEvent.target).where(AuditEvent.action == "lti.removed")) == "Moodle"


def test_a_removed_registration_launches_no_more(app, client, auth, accounts, clock):
    platform = Platform().start()
    try:
        registration_id = register(app, platform)
        assert full_launch(app, platform)[1].status_code == 302
        auth.login(accounts["org_admin"])
        token = csrf_from(client.get("/organization/lms").get_data(as_text=True))
        client.post(f"/organization/lms/{registration_id}/remove", data={"csrf_token": token})
        response = app.test_client().post("/lti/login", data={"iss": platform.issuer, "login_hint": "x",
                                                              "client_id": platform.client_id,
                                                              "target_link_uri": "http://localhost/labs/tst-echo"})
        assert response.status_code == 403
    finally:
        platform.stop()


def test_no_key_token_or_assertion_reaches_the_logs(app, platform, registration, box, clock, caplog):
    from tests.lti.test_launch import solve_and_submit, start_run

    caplog.set_level(logging.DEBUG)
    browser, _ = full_launch(app, platform)
    platform.down = True
    solve_and_submit(app, browser, box, start_run(browser))
    platform.down = False
    clock.advance(minutes=3)
    from academy import maintenance

    maintenance.run_once(app)
    with app.app_context():
        row = db.session.get(LtiRegistration, registration)
        secrets = [line for line in row.tool_private_key.splitlines() if "PRIVATE" not in line][:3]
    secrets += list(platform.tokens) + [r["client_assertion"] for r in platform.token_requests]
    assert platform.tokens and platform.scores
    text = caplog.text
    for secret in secrets:
        assert secret not in text
    assert "not delivered" in text  # the failure itself is logged, with its reason
