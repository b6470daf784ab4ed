"""Learning records reach a hospital's learning record store, and a failure is retried, not lost."""
from __future__ import annotations

import base64
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select

from academy.extensions import db
from academy.models import Organization, XapiOutbox, utcnow
from academy.records import lrs
from tests.conftest import csrf_from
from tests.records.test_records import complete_tst1


class FakeLrs(BaseHTTPRequestHandler):
    """A learning record store on loopback that refuses its first request (a 503), then stores."""

    received: list = []
    failures_left = 1

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeLrs.headers_seen = self.headers  # looked up without regard to case, as HTTP headers are
        if FakeLrs.failures_left:
            FakeLrs.failures_left -= 1
            self.send_response(503)
            self.end_headers()
            return
        FakeLrs.received.extend(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps([s["id"] for s in body]).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_lrs():
    FakeLrs.received, FakeLrs.failures_left = [], 1
    server = HTTPServer(("127.0.0.1", 0), FakeLrs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/xapi"
    server.shutdown()


def test_statements_are_sent_after_a_failure_and_never_twice(app, client, auth, accounts, fake_lrs):
    auth.login(accounts["org_admin"])
    page = client.get("/organization").get_data(as_text=True)
    client.post("/organization", data={"csrf_token": csrf_from(page), "action": "lrs", "lrs-endpoint": fake_lrs,
                                       "lrs-username": "academy", "lrs-secret": "s3cret-key"})
    trainee = app.test_client()
    from tests.conftest import Auth

    Auth(trainee).login(accounts["trainee"])
    complete_tst1(app, trainee, accounts)
    with app.app_context():
        now = utcnow()
        first = lrs.run(db.session, now, "https://academy.example.org")
        assert first["statements_failed"] > 0 and FakeLrs.received == []
        row = db.session.scalar(select(XapiOutbox))
        assert row.state == "pending" and row.attempts == 1 and row.last_error
        assert lrs.run(db.session, now, "https://academy.example.org")["statements_sent"] == 0  # not due yet
        later = now + timedelta(minutes=5)
        second = lrs.run(db.session, later, "https://academy.example.org")
        assert second["statements_sent"] == first["statements_failed"]
        assert lrs.run(db.session, later, "https://academy.example.org")["statements_sent"] == 0  # nothing twice
    assert len({s["id"] for s in FakeLrs.received}) == len(FakeLrs.received) > 0
    assert FakeLrs.headers_seen.get("X-Experience-API-Version") == "1.0.3"
    assert base64.b64decode(FakeLrs.headers_seen.get("Authorization").split()[1]) == b"academy:s3cret-key"
    assert "s3cret-key" not in client.get("/organization").get_data(as_text=True)


def test_an_lrs_must_be_https_except_on_this_machine(app, client, auth, accounts):
    auth.login(accounts["org_admin"])
    page = client.get("/organization").get_data(as_text=True)
    response = client.post("/organization", data={"csrf_token": csrf_from(page), "action": "lrs",
                                                  "lrs-endpoint": "http://lrs.example.org/xapi"})
    assert response.status_code == 400 and "must be an https:// address" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Organization.lrs_endpoint).where(Organization.name == "General Hospital")) == ""
