"""Secrets never reach a log: passwords, session cookies, SECRET_KEY, invitation tokens, LRS secrets.

Everything logged (every logger at DEBUG, werkzeug included; SQL statements and their parameters as
SQLALCHEMY_ECHO logs them), the audit trail (which
is a log too, readable by org admins) and the command line's output are searched for the secrets used
while logging in and failing to, changing a password, inviting and accepting, configuring an LRS and
creating accounts from the command line.
"""
from __future__ import annotations

import json
import logging
import re
import uuid

import pytest
from sqlalchemy import select

from academy.extensions import db
from tests.conftest import Auth
from tests.security.conftest import login, token_of


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("werkzeug", "academy", "flask.app", "sandbox", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)
    # SQL statements as SQLALCHEMY_ECHO=True logs them (INFO). DEBUG would add every result row: that dumps
    # the database by design and is not something an operator leaves on.
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    return caplog


def everything_logged(app, caplog, *extra: str) -> str:
    from academy.models import AuditEvent

    text = [r.getMessage() + " " + repr(r.args) + " " + (r.exc_text or "") for r in caplog.records]
    with app.app_context():
        for event in db.session.scalars(select(AuditEvent)):
            text.append(f"{event.action} {event.target} {json.dumps(event.detail)}")
    return "\n".join(text + list(extra))


def assert_absent(haystack: str, secrets: dict[str, str]) -> None:
    for what, secret in secrets.items():
        assert secret and secret not in haystack, f"the {what} appears in the logs"


def test_logins_password_changes_and_failures_log_no_secret(app, world, logs):
    account = world.accounts["trainee"]
    client = app.test_client()
    wrong = f"Wrong-{uuid.uuid4().hex}"
    Auth(client).login(account, password=wrong)
    Auth(client).login(email=f"nobody-{uuid.uuid4().hex[:6]}@example.org", password=wrong + "x")
    assert Auth(client).login(account).status_code == 302
    cookie = client.get_cookie("session").value
    new = f"New-pass-{uuid.uuid4().hex}"
    response = client.post("/account/password", data={"csrf_token": token_of(client), "current": account.password,
                                                      "new": new, "confirm": new})
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    for too_short in ("short", ""):
        client.post("/account/password", data={"csrf_token": token_of(client), "current": new,
                                               "new": too_short + "Q", "confirm": too_short + "Q"})
    haystack = everything_logged(app, logs)
    assert "login" in haystack  # the logins were recorded, without what follows
    assert_absent(haystack, {"password": account.password, "wrong password": wrong, "new password": new,
                             "session cookie": cookie, "SECRET_KEY": app.config["SECRET_KEY"]})


def test_invitations_log_neither_the_token_nor_the_invitees_password(app, world, logs):
    admin = login(app, world.accounts["org_admin"])
    token = token_of(admin, "/organization")
    response = admin.post("/organization", data={"csrf_token": token, "action": "invite", "invite-csrf_token": token,
                                                  "invite-email": "joiner@general.example.org", "invite-role": "trainee",
                                                  "invite-name": "Joiner", "invite-cohort": ""})
    link = re.search(r"/invite/([A-Za-z0-9_-]{20,})", response.get_data(as_text=True))
    assert link, "the admin sees the link once"
    new_token = link.group(1)
    assert new_token not in admin.get("/organization").get_data(as_text=True), "the link is shown only once"
    invitee = app.test_client()
    password = f"Joiner-pass-{uuid.uuid4().hex}"
    for used in (new_token, world.ids["invitation_token"]):
        path = f"/invite/{used}"
        response = invitee.post(path, data={"csrf_token": token_of(invitee, path), "display_name": "Joiner",
                                            "password": password, "confirm": password})
        assert response.status_code == 302
        invitee = app.test_client()
    invitee.get(f"/invite/{new_token}")  # a used token: refused, and still not logged
    haystack = everything_logged(app, logs)
    assert "invitation.accepted" in haystack
    assert_absent(haystack, {"invitation token": new_token, "fixture invitation token": world.ids["invitation_token"],
                             "invitee's password": password})
    from academy.models import Invitation

    with app.app_context():
        stored = " ".join(i.token_hash for i in db.session.scalars(select(Invitation)))
    assert new_token not in stored  # only a hash is kept


def test_the_lrs_secret_is_neither_logged_audited_nor_shown_again(app, world, logs):
    from academy.models import Organization
    from academy.records import lrs

    admin = login(app, world.accounts["org_admin"])
    secret = f"lrs-secret-{uuid.uuid4().hex}"
    token = token_of(admin, "/organization")
    response = admin.post("/organization", data={"csrf_token": token, "action": "lrs", "lrs-csrf_token": token,
                                                  "lrs-endpoint": "http://127.0.0.1:9/xapi", "lrs-username": "key",
                                                  "lrs-secret": secret})
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    page = admin.get("/organization").get_data(as_text=True)
    assert secret not in page
    with app.test_request_context():
        org = db.session.scalar(select(Organization).where(Organization.name == "General Hospital"))
        assert org.lrs_secret == secret
        from academy import clock

        from academy.models import XapiOutbox

        db.session.add(XapiOutbox(organization_id=org.id, statement_id=str(uuid.uuid4()), statement={"verb": "x"},
                                  next_attempt_at=clock.now()))
        db.session.flush()
        lrs.send_due(db.session, org, clock.now())  # nothing listens on port 9: a logged failure
        db.session.commit()
    assert any("not delivered" in r.getMessage() for r in logs.records)
    assert_absent(everything_logged(app, logs), {"LRS secret": secret})
    assert secret not in admin.get("/organization").get_data(as_text=True)


def test_creating_accounts_on_the_command_line_prints_and_logs_no_password(app, logs):
    runner = app.test_cli_runner()
    password = f"cli-pass-{uuid.uuid4().hex}"
    result = runner.invoke(args=["user", "create", "cli.person@general.example.org", "--role", "trainee",
                                 "--org", "General Hospital", "--password-stdin"], input=password + "\n")
    assert result.exit_code == 0, result.output
    short = "Qx1"
    refused = runner.invoke(args=["user", "create", "cli.short@general.example.org", "--role", "trainee",
                                  "--password-stdin"], input=short + "\n")
    assert refused.exit_code != 0
    prompted = f"cli-prompt-{uuid.uuid4().hex}"
    asked = runner.invoke(args=["user", "create", "cli.prompt@general.example.org", "--role", "trainee",
                                "--org", "General Hospital"],
                          input=f"{prompted}\n{prompted}\n")
    assert asked.exit_code == 0, asked.output
    haystack = everything_logged(app, logs, result.output, refused.output, asked.output)
    assert "user.created" in haystack
    assert_absent(haystack, {"password": password, "prompted password": prompted, "SECRET_KEY": app.config["SECRET_KEY"]})
    assert short not in refused.output


def test_an_unhandled_error_logs_the_traceback_but_not_the_form(app, world, logs, monkeypatch):
    """The 500 handler logs method and path; a crash in a view must not dump the submitted password."""
    from academy.auth import service

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(service, "authenticate", explode)
    client = app.test_client()
    password = f"Crash-pass-{uuid.uuid4().hex}"
    response = Auth(client).login(world.accounts["trainee"], password=password)
    assert response.status_code == 500
    assert "boom" in everything_logged(app, logs)
    assert_absent(everything_logged(app, logs), {"password": password})
