"""Variants of the flow an LMS may use: a GET login initiation, no client_id, a registration made through
the org admin's page, and an exam closed at its deadline by the server."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from academy import maintenance
from academy.extensions import db
from academy.models import ExamSession, LtiRegistration
from tests.conftest import Auth, csrf_from
from tests.lti.conftest import EXAM_TARGET, LAB_TARGET, Login, full_launch, launch
from tests.lti.platform import Platform, new_sub


def test_a_get_login_initiation_without_client_id_works_when_the_issuer_is_unambiguous(app, platform, registration, clock):
    response = app.test_client().get("/lti/login", query_string={"iss": platform.issuer, "login_hint": "u",
                                                                "target_link_uri": LAB_TARGET,
                                                                "lti_message_hint": "m-1"})
    assert response.status_code == 302
    params = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}
    # IMS Security Framework §5.1.1.1: the authentication request the platform expects
    assert params["scope"] == "openid" and params["response_type"] == "id_token"
    assert params["response_mode"] == "form_post" and params["prompt"] == "none"
    assert params["client_id"] == platform.client_id and params["redirect_uri"] == "http://localhost/lti/launch"
    assert params["login_hint"] == "u" and params["lti_message_hint"] == "m-1"
    assert not response.headers.getlist("Set-Cookie")  # no cookie is needed, and none is set
    login = Login(params["state"], params["nonce"], params["redirect_uri"], params)
    assert launch(app.test_client(), platform, login).status_code == 302


def test_without_client_id_an_issuer_with_two_registrations_is_ambiguous(app, platform, registration, clock):
    from academy.lti import registrations
    from academy.models import Organization

    with app.app_context():
        org = db.session.scalar(select(Organization).where(Organization.name == "General Hospital"))
        registrations.create(db.session, org, name="Second", issuer=platform.issuer, client_id="another-client",
                             deployment_ids="x", auth_login_url=f"{platform.url}/auth",
                             access_token_url=f"{platform.url}/token", key_set_url=f"{platform.url}/jwks",
                             created_by=None)
        db.session.commit()
    response = app.test_client().get("/lti/login", query_string={"iss": platform.issuer, "login_hint": "u",
                                                                "target_link_uri": LAB_TARGET})
    assert response.status_code == 403


def test_a_registration_made_on_the_admin_page_launches(app, client, auth, accounts, clock):
    lms = Platform(client_id="moodle-client-9", deployment_id="3").start()
    try:
        auth.login(accounts["org_admin"])
        token = csrf_from(client.get("/organization/lms").get_data(as_text=True))
        response = client.post("/organization/lms", data={
            "csrf_token": token, "name": "Moodle", "issuer": lms.issuer, "client_id": lms.client_id,
            "deployment_ids": "3", "auth_login_url": f"{lms.url}/auth", "access_token_url": f"{lms.url}/token",
            "key_set_url": f"{lms.url}/jwks"})
        assert response.status_code == 302
        page = client.get("/organization/lms").get_data(as_text=True)
        jwks_path = re.search(r"http://localhost(/lti/jwks/[^<]+\.json)", page).group(1)
        lms.tool_jwks = app.test_client().get(jwks_path).get_json()  # what the LMS fetches from the URL shown
        Auth(client).logout()
        browser, response = full_launch(app, lms, EXAM_TARGET, sub=new_sub())
        assert response.status_code == 302 and re.search(r"/exams/\d+/1$", response.headers["Location"])
        with app.app_context():
            assert db.session.scalar(select(LtiRegistration.name)) == "Moodle"
    finally:
        lms.stop()


def test_an_exam_the_server_closes_at_its_deadline_still_sends_its_score(app, platform, registration, clock):
    sub = new_sub()
    browser, response = full_launch(app, platform, EXAM_TARGET, sub=sub)
    exam_id = int(re.search(r"/exams/(\d+)/1$", response.headers["Location"]).group(1))
    with app.app_context():
        deadline = db.session.get(ExamSession, exam_id).deadline
    clock.now = deadline + timedelta(minutes=1)
    done = maintenance.run_once(app)  # the trainee closed the browser; the server submits and reports
    assert done["exams_closed"] == 1 and done["scores_sent"] == 1
    body = platform.scores[0]["body"]
    assert body["userId"] == sub and body["scoreGiven"] == 0 and body["scoreMaximum"] == 5
