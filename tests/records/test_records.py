"""Certificates and xAPI learning records."""
from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
from sqlalchemy import select

from academy.extensions import db
from academy.models import Certificate, ExamSession, Track
from tests.conftest import Auth, csrf_from
from tests.learn.test_lessons import BYTES, PORTS, pass_lab

SCHEMA = json.loads((Path(__file__).parent / "xapi_statement.schema.json").read_text())


def complete_tst1(app, client, accounts):
    for path in (PORTS, BYTES):
        client.post(path, data={"csrf_token": csrf_from(client.get(path).get_data(as_text=True))})
    pass_lab(app, accounts["trainee"].id, score=10)
    pass_lab(app, accounts["trainee"].id, score=10, key="tst-order")


def passed_exam(app, user_id):
    from academy.models import utcnow

    with app.app_context():
        track = db.session.scalar(select(Track).where(Track.code == "TST1"))
        db.session.add(ExamSession(user_id=user_id, track=track, form="x", started_at=utcnow(), deadline=utcnow(),
                                   submitted_at=utcnow(), submitted_by="trainee", pass_mark=0.6, score=0.8, passed=True))
        db.session.commit()


def test_a_certificate_needs_everything_then_is_issued_verified_and_printed(app, client, auth, accounts):
    auth.login(accounts["trainee"])
    page = client.get("/certificates").get_data(as_text=True)
    assert "Still to do: 2 lesson(s) to complete; 2 lab(s) to pass" in page and "a passed TST1 mock exam" in page
    complete_tst1(app, client, accounts)
    passed_exam(app, accounts["trainee"].id)
    page = client.get("/certificates").get_data(as_text=True)
    client.post("/certificates/issue", data={"csrf_token": csrf_from(page), "subject": "track:TST1"})
    with app.app_context():
        certificate = db.session.scalar(select(Certificate))
        code, cert_id = certificate.verification_code, certificate.id
    assert len(code) >= 16
    pdf = client.get(f"/certificates/{cert_id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    public = app.test_client().get(f"/verify/{code}").get_data(as_text=True)
    assert "Trainee General Hospital" in public and "TST1" in public and "not a PARCA certification" in public
    assert accounts["trainee"].email not in public  # only what the certificate states
    assert app.test_client().get(f"/verify/{code[:-1]}x").status_code == 404
    other = app.test_client()
    Auth(other).login(accounts["other_trainee"])
    assert other.get(f"/certificates/{cert_id}.pdf").status_code == 404
    staff = app.test_client()
    Auth(staff).login(accounts["instructor"])
    assert staff.get(f"/certificates/{cert_id}.pdf").status_code == 200  # the trainee's instructor may


def test_a_certificate_cannot_be_issued_early(app, client, auth, accounts):
    auth.login(accounts["trainee"])
    page = client.get("/certificates").get_data(as_text=True)
    client.post("/certificates/issue", data={"csrf_token": csrf_from(page), "subject": "track:TST1"})
    with app.app_context():
        assert db.session.scalar(select(Certificate)) is None


def test_xapi_statements_follow_the_statement_schema(app, client, auth, accounts):
    auth.login(accounts["trainee"])
    complete_tst1(app, client, accounts)
    passed_exam(app, accounts["trainee"].id)
    statements = client.get("/records/xapi.json").get_json()
    assert {s["object"]["definition"]["type"].rsplit("/", 1)[1] for s in statements} == {"lesson", "simulation", "assessment"}
    for statement in statements:
        jsonschema.validate(statement, SCHEMA)
    again = client.get("/records/xapi.json").get_json()
    assert [s["id"] for s in again] == [s["id"] for s in statements]  # stable ids: resending is idempotent
    assert re.match(r"^PT\d+H\d+M\d+S$", next(s for s in statements if "duration" in s["result"])["result"]["duration"])


def test_instructors_get_their_trainees_statements_only(app, client, auth, accounts):
    auth.login(accounts["instructor"])
    assert client.get(f"/records/xapi/{accounts['trainee'].id}.json").status_code == 200
    assert client.get(f"/records/xapi/{accounts['other_trainee'].id}.json").status_code == 404
