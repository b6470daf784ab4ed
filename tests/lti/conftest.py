"""LTI tests: the site with a real sandbox, a simulated LMS on a local HTTP server, and the OIDC flow."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from academy.extensions import db
from academy.models import Organization, utcnow
from tests.lti.platform import Platform

SITE = "http://localhost"  # the Flask test client's host
LAB_TARGET = f"{SITE}/labs/tst-echo"
EXAM_TARGET = f"{SITE}/exams/TST1/start"


class FakeClock:
    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)


@pytest.fixture
def app(app, box):
    app.extensions["academy.sandbox"] = box
    return app


@pytest.fixture
def clock(app):
    fake = FakeClock()
    app.config["ACADEMY_CLOCK"] = fake
    return fake


@pytest.fixture
def platform():
    lms = Platform().start()
    yield lms
    lms.stop()


def register(app, platform: Platform, organization: str = "General Hospital"):
    """The registration an org admin would make (the page itself is tested in test_admin.py)."""
    from academy.lti import keys, registrations

    with app.app_context():
        org = db.session.scalar(select(Organization).where(Organization.name == organization))
        row = registrations.create(db.session, org, name="Hospital Moodle", issuer=platform.issuer,
                                   client_id=platform.client_id, deployment_ids=platform.deployment_id,
                                   auth_login_url=f"{platform.url}/auth", access_token_url=f"{platform.url}/token",
                                   key_set_url=f"{platform.url}/jwks", created_by=None)
        db.session.commit()
        platform.tool_jwks = {"keys": [keys.public_jwk(row.tool_public_key, row.tool_key_id)]}
        return row.id


@pytest.fixture
def registration(app, platform) -> int:
    return register(app, platform)


@dataclass
class Login:
    state: str
    nonce: str
    redirect_uri: str
    params: dict


def initiate(client, platform: Platform, target: str = LAB_TARGET, **extra) -> Login:
    """Step 1 (LTI Core 1.3 §5.1.1): the LMS sends the browser to the login initiation URL; the tool
    answers with a redirect to the platform's authentication endpoint carrying state and nonce."""
    response = client.post("/lti/login", data={"iss": platform.issuer, "login_hint": "user-42",
                                               "target_link_uri": target, "client_id": platform.client_id,
                                               "lti_deployment_id": platform.deployment_id, **extra})
    assert response.status_code == 302, response.get_data(as_text=True)
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{platform.url}/auth"
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    return Login(params["state"], params["nonce"], params["redirect_uri"], params)


def launch(client, platform: Platform, login: Login, target: str = LAB_TARGET, **claims):
    """Step 2 (§5.1.2): the platform form-posts the signed id_token and the state to the redirect URI."""
    token = platform.id_token(login.nonce, target, **claims)
    return client.post(urlsplit(login.redirect_uri).path, data={"id_token": token, "state": login.state})


def full_launch(app, platform: Platform, target: str = LAB_TARGET, **claims):
    """The whole flow as a browser does it: the login in one request, the launch as a cross-site POST that
    carries no cookie of ours (a client without cookies). Returns the launched browser and the response."""
    login = initiate(app.test_client(), platform, target)
    browser = app.test_client()
    return browser, launch(browser, platform, login, target, **claims)
