"""Launches that must not work: forged, replayed, expired, for someone else, or for content the
organisation cannot see. Each gets a clear 400/403/404 page, never a traceback, and nobody is signed in."""
from __future__ import annotations

from sqlalchemy import func, select

from academy.extensions import db
from academy.models import LtiLaunch, LtiUserLink, Organization, Track
from tests.lti.conftest import EXAM_TARGET, LAB_TARGET, SITE, full_launch, initiate, launch
from tests.lti.platform import LTI, new_sub, rsa_key


def refused(response, status: int, words: str):
    body = response.get_data(as_text=True)
    assert response.status_code == status, (response.status_code, body[:500])
    assert words in body, body[:2000]
    assert "Traceback" not in body


def signed_in(client) -> bool:
    return client.get("/dashboard").status_code == 200


def nobody_launched(app):
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LtiLaunch)) == 0
        assert db.session.scalar(select(func.count()).select_from(LtiUserLink)) == 0


def test_a_forged_signature_is_refused(app, platform, registration, clock):
    login = initiate(app.test_client(), platform)
    forger_key, _ = rsa_key()
    browser = app.test_client()
    response = launch(browser, platform, login, key_pem=forger_key)  # the platform's kid, another key
    refused(response, 403, "could not be verified")
    assert not signed_in(browser)
    nobody_launched(app)


def test_a_token_for_another_tool_is_refused(app, platform, registration, clock):
    login = initiate(app.test_client(), platform)
    refused(launch(app.test_client(), platform, login, aud="some-other-tool"), 403, "could not be verified")
    login = initiate(app.test_client(), platform)
    # several audiences: azp must name this tool (IMS Security Framework §5.1.3)
    refused(launch(app.test_client(), platform, login, aud=[platform.client_id, "some-other-tool"], azp="some-other-tool"),
            403, "azp")
    nobody_launched(app)


def test_an_expired_token_is_refused(app, platform, registration, clock):
    import time

    login = initiate(app.test_client(), platform)
    refused(launch(app.test_client(), platform, login, exp=int(time.time()) - 3600, iat=int(time.time()) - 7200),
            403, "expired")
    nobody_launched(app)


def test_a_replayed_state_is_refused(app, platform, registration, clock):
    login = initiate(app.test_client(), platform)
    assert launch(app.test_client(), platform, login).status_code == 302
    # the same state again (the same form re-posted, or an attacker's copy): refused
    refused(launch(app.test_client(), platform, login), 403, "already used")


def test_a_state_the_tool_never_issued_or_that_expired_is_refused(app, platform, registration, clock):
    login = initiate(app.test_client(), platform)
    login.state = "state-made-up"
    refused(launch(app.test_client(), platform, login), 403, "State not found")
    login = initiate(app.test_client(), platform)
    clock.advance(minutes=11)
    refused(launch(app.test_client(), platform, login), 403, "State not found")
    nobody_launched(app)


def test_a_nonce_from_another_login_is_refused(app, platform, registration, clock):
    first, second = initiate(app.test_client(), platform), initiate(app.test_client(), platform)
    token = platform.id_token(second.nonce, LAB_TARGET)
    response = app.test_client().post("/lti/launch", data={"id_token": token, "state": first.state})
    refused(response, 403, "Invalid Nonce")
    nobody_launched(app)


def test_an_unknown_deployment_is_refused(app, platform, registration, clock):
    login = initiate(app.test_client(), platform)
    refused(launch(app.test_client(), platform, login, **{LTI + "deployment_id": "deploy-unknown"}), 403,
            "Unable to find deployment")
    nobody_launched(app)


def test_an_unknown_issuer_or_client_cannot_even_start(app, platform, registration, clock):
    client = app.test_client()
    refused(client.post("/lti/login", data={"iss": "https://lms.example.org", "login_hint": "x",
                                            "target_link_uri": LAB_TARGET}), 403, "not registered")
    refused(client.post("/lti/login", data={"iss": platform.issuer, "login_hint": "x", "client_id": "nope",
                                            "target_link_uri": LAB_TARGET}), 403, "not registered")
    refused(client.get("/lti/login"), 400, "needs iss")
    refused(client.post("/lti/launch", data={}), 400, "needs an id_token")
    refused(client.post("/lti/launch", data={"id_token": "not.a.jwt", "state": "state-x"}), 403, "could not be verified")


def test_garbage_id_tokens_are_refused_cleanly(app, platform, registration, clock):
    for token in ("a.b.c", "x", "eyJhbGciOiJub25lIn0.e30.", "...."):
        login = initiate(app.test_client(), platform)
        response = app.test_client().post("/lti/launch", data={"id_token": token, "state": login.state})
        refused(response, 403, "could not be verified")
    login = initiate(app.test_client(), platform)
    refused(launch(app.test_client(), platform, login, kid="unknown-kid"), 403, "could not be verified")


def test_a_target_that_is_not_a_lab_or_exam_is_refused(app, platform, registration, clock):
    _, response = full_launch(app, platform, f"{SITE}/organization")
    refused(response, 400, "does not name a PACS Academy lab or mock exam")
    _, response = full_launch(app, platform, f"{SITE}/labs/no-such-lab")
    refused(response, 404, "There is no lab")


def test_content_of_another_organisation_is_refused(app, platform, registration, clock):
    with app.app_context():
        other = db.session.scalar(select(Organization).where(Organization.name == "Other Hospital"))
        db.session.add(Track(code="OTH1", organization_id=other.id, title="Their own track"))
        db.session.commit()
    _, response = full_launch(app, platform, f"{SITE}/exams/OTH1/start")
    refused(response, 404, "There is no mock exam")


def test_a_locked_track_is_refused_with_its_reason(app, platform, registration, clock):
    _, response = full_launch(app, platform, f"{SITE}/exams/TST2/start")
    refused(response, 403, "TST2 opens when you have completed TST1")


def test_the_custom_parameter_names_the_target(app, platform, registration, clock):
    _, response = full_launch(app, platform, f"{SITE}/somewhere", **{LTI + "custom": {"pacs_target": "exam:TST1"}})
    assert response.status_code == 302 and "/exams/" in response.headers["Location"]


def test_a_deactivated_account_cannot_launch(app, platform, registration, clock):
    sub = new_sub()
    full_launch(app, platform, LAB_TARGET, sub=sub)
    with app.app_context():
        db.session.scalar(select(LtiUserLink).where(LtiUserLink.subject == sub)).user.active = False
        db.session.commit()
    browser, response = full_launch(app, platform, LAB_TARGET, sub=sub)
    refused(response, 403, "deactivated")
    assert not signed_in(browser)


def test_deep_linking_is_not_offered(app, platform, registration, clock):
    login = initiate(app.test_client(), platform, EXAM_TARGET)
    response = launch(app.test_client(), platform, login, EXAM_TARGET, **{
        LTI + "message_type": "LtiDeepLinkingRequest",
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": {
            "deep_link_return_url": f"{platform.url}/dl", "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["window"]}})
    refused(response, 400, "resource link launches only")


def test_a_token_signed_with_a_symmetric_algorithm_is_refused(app, platform, registration, clock):
    import jwt

    platform.jwks["keys"].append({"kty": "oct", "k": "a2V5LW9mLXRoZS1hdHRhY2tlci0zMi1ieXRlcy1sb25nIQ", "kid": "hmac", "alg": "HS256"})
    login = initiate(app.test_client(), platform)
    token = jwt.decode(platform.id_token(login.nonce, LAB_TARGET), options={"verify_signature": False})
    forged = jwt.encode(token, "key-of-the-attacker-32-bytes-long!", algorithm="HS256", headers={"kid": "hmac"})
    refused(app.test_client().post("/lti/launch", data={"id_token": forged, "state": login.state}), 403,
            "is not accepted")
    nobody_launched(app)


def test_claims_of_the_wrong_shape_are_a_clear_400_or_ignored(app, platform, registration, clock):
    login = initiate(app.test_client(), platform)
    refused(launch(app.test_client(), platform, login, **{LTI + "resource_link": "not-an-object"}), 400, "cannot read")
    login = initiate(app.test_client(), platform)
    odd = {LTI + "custom": ["x"], "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": "nope"}
    response = launch(app.test_client(), platform, login, **odd)
    assert response.status_code == 302  # a custom claim or AGS claim of the wrong shape is ignored
    with app.app_context():
        assert db.session.scalar(select(LtiLaunch.lineitem_url)) == ""
