"""Fixtures for the security review: two organisations with real objects behind every id in a URL.

`world` builds, in the test's own database: General Hospital (the accounts of tests/conftest.py, cohort
"Spring intake") and Other Hospital (its trainee plus an instructor, an org admin and a cohort of its own);
for the General trainee a mock exam, a lab run (on the session sandbox), an assignment, a certificate, an
open invitation and an organisation copy of the fixture path. Every id route is then tested against those
real rows rather than against ids that do not exist.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from academy.extensions import db
from tests.conftest import Account, Auth, csrf_from


@pytest.fixture
def app(app, box):
    app.extensions["academy.sandbox"] = box
    return app


@dataclass
class World:
    accounts: dict[str, Account]
    ids: dict[str, object] = field(default_factory=dict)
    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # account key -> (display name, email)


def login(app, account: Account):
    client = app.test_client()
    response = Auth(client).login(account)
    assert response.status_code == 302, (account.email, response.status_code)
    return client


def token_of(client, path: str = "/account/password") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def row_counts(app) -> dict[str, int]:
    """How many rows every table holds: a request refused before its view changes none of them."""
    with app.app_context():
        return {table.name: db.session.scalar(select(func.count()).select_from(table))
                for table in db.metadata.sorted_tables}


def start_run(client, lab: str = "tst-echo") -> int:
    response = client.post(f"/labs/{lab}/start", data={"csrf_token": token_of(client, f"/labs/{lab}")})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/runs/(\d+)$", response.headers["Location"]).group(1))


def authored_tree(organization_id: int, author_id: int | None, title: str) -> dict:
    """A small authored tree (track, lab, question bank, diagram): the file ids the authoring routes take."""
    from academy.authoring import questions, starters, tree

    files = {"curricula/OWN/track.yaml": starters.track_file("OWN", title),
             "curricula/OWN/labs/own-lab.yaml": starters.lab_file("own-lab", "OWN", "local-practice", "Our lab"),
             "curricula/OWN/modules/intro/diagram.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="4" height="4"/></svg>',
             "question_banks/OWN/local-practice.yaml": questions.put(None, "OWN", "local-practice", {
                 "id": "own-q1", "type": "truefalse", "stem": "Is this ours?", "choices": [
                     {"id": "a", "text": "True"}, {"id": "b", "text": "False"}], "answer": "a",
                 "explanation": "It is.", "references": ["DICOM PS3.1"]})}
    ids = {}
    for path, data in files.items():
        ids[path] = tree.save(db.session, organization_id, path, data, author_id=author_id).file_id
    return {"lab": ids["curricula/OWN/labs/own-lab.yaml"], "bank": ids["question_banks/OWN/local-practice.yaml"],
            "asset": "curricula/OWN/modules/intro/diagram.svg"}


@pytest.fixture
def world(app, accounts) -> World:
    from academy.auth import service
    from academy.exams import mock_exams
    from academy.learn import paths
    from academy.models import Assignment, Certificate, Cohort, CohortMember, OnboardingPath, Organization, Track, User
    from academy.org import invitations
    from academy import clock

    made = dict(accounts)
    w = World(made)
    with app.test_request_context():
        other = db.session.scalar(select(Organization).where(Organization.name == "Other Hospital"))
        general = db.session.scalar(select(Organization).where(Organization.name == "General Hospital"))
        their_cohort = Cohort(organization=other, name="Their cohort")
        db.session.add(their_cohort)
        for role, key in (("instructor", "other_instructor"), ("org_admin", "other_admin")):
            password = f"pw-{key}-{uuid.uuid4().hex[:8]}"
            user = service.create_user(db.session, email=f"{key}@other.example.org", password=password, role=role,
                                       organization=other, display_name=f"Zorblatt {key.title()}")
            made[key] = Account(user.email, password, role, user.id)
            if role == "instructor":
                db.session.add(CohortMember(cohort=their_cohort, user=user, as_instructor=True))
        db.session.add(CohortMember(cohort=their_cohort, user=db.session.get(User, made["other_trainee"].id)))
        db.session.flush()
        cohort = db.session.scalar(select(Cohort).where(Cohort.name == "Spring intake"))
        track = db.session.scalar(select(Track).where(Track.code == "TST1"))
        exam = mock_exams.start(db.session, made["trainee"].id, track, clock.now())
        their_exam = mock_exams.start(db.session, made["other_trainee"].id, track, clock.now())
        assignment = Assignment(cohort=cohort, kind="track", target="TST1", due_on=date.today() + timedelta(days=7),
                                requires_signoff=True, created_by=made["instructor"].id)
        their_assignment = Assignment(cohort=their_cohort, kind="track", target="TST1",
                                      due_on=date.today() + timedelta(days=7), requires_signoff=True)
        certificate = Certificate(user_id=made["trainee"].id, organization_id=general.id, subject="track:TST1",
                                  title="TST1 test certificate", holder_name="Trainee General Hospital",
                                  verification_code=uuid.uuid4().hex[:20])
        db.session.add_all([assignment, their_assignment, certificate])
        invitation, token = invitations.invite(db.session, general, "newcomer@general.example.org", "trainee",
                                               name="Newcomer", now=clock.now())
        bundled = db.session.scalar(select(OnboardingPath).where(OnboardingPath.organization_id.is_(None)))
        own_path = paths.copy_for(db.session, bundled, general.id, general.name)
        their_path = paths.copy_for(db.session, bundled, other.id, other.name)
        own_files = authored_tree(general.id, made["instructor"].id, "General's own imaging track")
        their_files = authored_tree(other.id, None, "Other's own imaging track")
        db.session.commit()
        w.ids.update(own_file_id=own_files["lab"], their_file_id=their_files["lab"], own_bank_id=own_files["bank"],
                     their_bank_id=their_files["bank"], own_question_id="own-q1", own_asset_path=own_files["asset"],
                     cohort_id=cohort.id, their_cohort_id=their_cohort.id, exam_id=exam.id,
                     their_exam_id=their_exam.id, assignment_id=assignment.id,
                     their_assignment_id=their_assignment.id, certificate_id=certificate.id,
                     verification_code=certificate.verification_code, invitation_token=token,
                     path_key=bundled.key, own_path_key=own_path.key, their_path_key=their_path.key,
                     version_id=exam.items[0].question_version_id, track="TST1", module="basics",
                     lesson="01-ports", asset="flow.svg", lab="tst-echo")
        from academy.lti import registrations as lms  # an LMS registration per organisation
        own_lms, their_lms = (lms.create(db.session, org, name=f"{org.name} LMS", issuer="https://lms.example.org",
                                         client_id=f"client-{org.id}", deployment_ids="1",
                                         auth_login_url="https://lms.example.org/auth",
                                         access_token_url="https://lms.example.org/token",
                                         key_set_url="https://lms.example.org/jwks", created_by=None)
                              for org in (general, other))
        db.session.commit()
        w.ids.update(lti_registration_id=own_lms.id, their_lti_registration_id=their_lms.id, lti_kid=own_lms.tool_key_id)
        for key, account in made.items():
            user = db.session.get(User, account.id)
            w.names[key] = (user.display_name, user.email)
    trainee = login(app, made["trainee"])
    w.ids["run_id"] = start_run(trainee)
    other_trainee = login(app, made["other_trainee"])
    w.ids["their_run_id"] = start_run(other_trainee)
    return w
