"""A hospital runs its training: invitations, CSV import, cohorts, assignments, sign-off, exports, audit."""
from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from academy.extensions import db
from academy.models import Invitation, User
from academy.org.exports import cell, to_csv
from tests.conftest import Auth, csrf_from


def post_form(client, path, **data):
    page = client.get(path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_from(page), **data}, content_type="multipart/form-data")


def invite(client, email="new.tech@general.example.org", role="trainee", cohort=""):
    body = post_form(client, "/organization", action="invite", **{"invite-email": email, "invite-name": "New Tech",
                                                                  "invite-role": role, "invite-cohort": cohort}).get_data(as_text=True)
    match = re.search(r"(https?://[^<\s]+/invite/[A-Za-z0-9_-]+)", body)
    assert match, body[-2000:]
    return match.group(1).split("localhost", 1)[-1]


def test_an_invitation_creates_an_account_once_and_stores_only_a_hash(app, client, auth, accounts):
    auth.login(accounts["org_admin"])
    link = invite(client)
    token = link.rsplit("/", 1)[1]
    with app.app_context():
        stored = db.session.scalar(select(Invitation))
        assert token not in stored.token_hash and len(stored.token_hash) == 64
    newcomer = app.test_client()
    page = newcomer.get(link).get_data(as_text=True)
    assert "Join General Hospital" in page and "new.tech@general.example.org" in page
    response = newcomer.post(link, data={"csrf_token": csrf_from(page), "display_name": "New Tech",
                                         "password": "a-long-enough-secret", "confirm": "a-long-enough-secret"})
    assert response.status_code == 302 and newcomer.get("/dashboard").status_code == 200
    again = app.test_client()
    assert again.get(link).status_code == 404  # single use
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new.tech@general.example.org"))
        assert user.role == "trainee" and user.organization.name == "General Hospital"


def test_an_expired_or_made_up_invitation_is_refused(app, client, auth, accounts):
    auth.login(accounts["org_admin"])
    link = invite(client, email="late@general.example.org")
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        invitation.expires_at = datetime.now(timezone.utc) - timedelta(minutes=1)
        db.session.commit()
    assert app.test_client().get(link).status_code == 404
    assert app.test_client().get("/invite/" + "x" * 43).status_code == 404


def test_inviting_an_existing_account_is_refused(app, client, auth, accounts):
    auth.login(accounts["org_admin"])
    response = post_form(client, "/organization", action="invite", **{"invite-email": accounts["trainee"].email,
                                                                      "invite-role": "trainee", "invite-cohort": ""})
    assert response.status_code == 400 and "already has an account" in response.get_data(as_text=True)


def test_a_csv_import_invites_the_good_rows_and_explains_the_bad_ones(app, client, auth, accounts):
    auth.login(accounts["org_admin"])
    data = ("email,name,role,cohort\n"
            "ana@general.example.org,Ana Lima,trainee,Spring intake\n"
            "not-an-email,Bad Row,trainee,\n"
            "ana@general.example.org,Ana Again,trainee,\n"
            "bo@general.example.org,Bo,wizard,\n"
            "cy@general.example.org,Cy,instructor,No Such Cohort\n"
            f"{accounts['trainee'].email},Existing,trainee,\n"
            "dee@general.example.org,=HYPERLINK(\"http://evil\"),trainee,\n").encode()
    body = post_form(client, "/organization", action="csv", **{"csv-file": (io.BytesIO(data), "staff.csv")}).get_data(as_text=True)
    assert body.count("/invite/") == 2  # ana and dee
    for reason in ("Line 3 (not-an-email)", "appears twice", "not a role you can invite", "no cohort named",
                   "already has an account"):
        assert reason in body, reason
    response = post_form(client, "/organization", action="csv", **{"csv-file": (io.BytesIO(b"\xff\xfe junk"), "x.csv")})
    assert "not UTF-8 text" in response.get_data(as_text=True)


def test_a_leaver_is_deactivated_logged_out_and_kept(app, client, auth, accounts):
    leaver = app.test_client()
    Auth(leaver).login(accounts["trainee"])
    auth.login(accounts["org_admin"])
    response = post_form(client, "/organization", action="deactivate", user_id=str(accounts["trainee"].id))
    assert response.status_code == 302
    assert leaver.get("/dashboard").status_code == 302  # their session ended
    assert Auth(app.test_client()).login(accounts["trainee"]).status_code == 401
    assert "Deactivated" in client.get("/organization").get_data(as_text=True)
    other = post_form(client, "/organization", action="deactivate", user_id=str(accounts["other_trainee"].id))
    assert other.status_code == 400 and "No such person in your organisation" in other.get_data(as_text=True)


def test_assignments_show_on_the_dashboard_overdue_and_in_the_cohort_view(app, client, auth, accounts):
    from academy.models import Cohort

    with app.app_context():
        cohort_id = db.session.scalar(select(Cohort.id).where(Cohort.name == "Spring intake"))
    auth.login(accounts["org_admin"])
    path = f"/organization/cohorts/{cohort_id}"
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).date().isoformat()
    assert post_form(client, path, action="assign", **{"assign-kind": "module", "assign-target": "TST1/basics",
                                                       "assign-due_on": yesterday}).status_code == 302
    bad = post_form(client, path, action="assign", **{"assign-kind": "lab", "assign-target": "no-such-lab",
                                                      "assign-due_on": yesterday})
    assert bad.status_code == 400 and "There is no lab" in bad.get_data(as_text=True)
    assert "overdue" in client.get(path).get_data(as_text=True)
    trainee = app.test_client()
    Auth(trainee).login(accounts["trainee"])
    dashboard = trainee.get("/dashboard").get_data(as_text=True)
    assert "Assigned to you" in dashboard and "overdue" in dashboard and "TST1: Network basics" in dashboard
    for lesson in ("01-ports", "02-bytes"):
        url = f"/tracks/TST1/modules/basics/lessons/{lesson}"
        trainee.post(url, data={"csrf_token": csrf_from(trainee.get(url).get_data(as_text=True))})
    assert "done ✓" in trainee.get("/dashboard").get_data(as_text=True)


def test_a_supervisor_signs_off_a_competency(app, client, auth, accounts):
    from academy.models import Cohort, SignOff

    with app.app_context():
        cohort_id = db.session.scalar(select(Cohort.id).where(Cohort.name == "Spring intake"))
    auth.login(accounts["instructor"])
    path = f"/organization/cohorts/{cohort_id}"
    due = (datetime.now(timezone.utc) + timedelta(days=7)).date().isoformat()
    post_form(client, path, action="assign", **{"assign-kind": "module", "assign-target": "TST1/basics",
                                                "assign-due_on": due, "assign-requires_signoff": "y"})
    trainee = app.test_client()
    Auth(trainee).login(accounts["trainee"])
    for lesson in ("01-ports", "02-bytes"):
        url = f"/tracks/TST1/modules/basics/lessons/{lesson}"
        trainee.post(url, data={"csrf_token": csrf_from(trainee.get(url).get_data(as_text=True))})
    page = client.get(path).get_data(as_text=True)
    assert "awaiting sign-off" in page
    action = re.search(r'action="(/organization/cohorts/\d+/sign-off/\d+/\d+)"', page).group(1)
    client.post(action, data={"csrf_token": csrf_from(page), "note": "Watched her register a node unaided."})
    assert "done" in client.get(path).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(SignOff.note)) == "Watched her register a node unaided."


def test_other_organisations_and_untaught_cohorts_are_not_found(app, client, auth, accounts):
    from academy.auth import service
    from academy.models import Cohort

    with app.app_context():
        ours = db.session.scalar(select(Cohort.organization_id).where(Cohort.name == "Spring intake"))
        other = service.get_or_create_organization(db.session, "Other Hospital")
        theirs = Cohort(organization_id=other.id, name="Their cohort")
        ours_untaught = Cohort(organization_id=ours, name="Night shift")
        db.session.add_all([theirs, ours_untaught])
        db.session.commit()
        theirs_id, untaught_id = theirs.id, ours_untaught.id
    auth.login(accounts["org_admin"])
    assert client.get(f"/organization/cohorts/{theirs_id}").status_code == 404
    assert client.get(f"/organization/cohorts/{theirs_id}/report.csv").status_code == 404
    assert client.get(f"/organization/cohorts/{untaught_id}").status_code == 200
    auth.logout()
    auth.login(accounts["instructor"])
    assert client.get(f"/organization/cohorts/{untaught_id}").status_code == 404  # instructors: only their cohorts


def test_csv_exports_defuse_formulas():
    assert cell("=HYPERLINK(\"http://evil\")") == "'=HYPERLINK(\"http://evil\")"
    assert cell("+1") == "'+1" and cell("-2") == "'-2" and cell("@x") == "'@x" and cell("plain") == "plain"
    assert to_csv(["name"], [["=1+1"]]).splitlines()[1] == "'=1+1"


def test_the_audit_log_shows_this_organisations_actions_only(app, client, auth, accounts):
    auth.login(accounts["org_admin"])
    invite(client, email="audited@general.example.org")
    log = client.get("/organization/audit").get_data(as_text=True)
    assert "invitation.created" in log and "audited@general.example.org" in log
    assert accounts["other_trainee"].email not in log


def test_instructors_read_their_trainees_record_and_trace_but_no_one_elses(app, client, auth, accounts, box):
    from academy.models import Lab, LabRun, utcnow

    app.extensions["academy.sandbox"] = box
    with app.app_context():
        lab = db.session.scalar(select(Lab).where(Lab.key == "tst-echo"))
        box.create_partition("RTRACE01") if "RTRACE01" not in {p.code for p in box.list_partitions()} else None
        run = LabRun(user_id=accounts["trainee"].id, lab=lab, lab_version=1, spec=lab.spec, partition_code="RTRACE01",
                     state="submitted", score=4, max_score=10, finished_at=utcnow())
        db.session.add(run)
        db.session.commit()
        run_id = run.id
    auth.login(accounts["instructor"])
    record = client.get(f"/organization/trainees/{accounts['trainee'].id}").get_data(as_text=True)
    assert "Register a viewer and verify connectivity" in record and "TST1" in record
    assert client.get(f"/runs/{run_id}/trace").status_code == 200
    assert client.get(f"/organization/trainees/{accounts['other_trainee'].id}").status_code == 404
    outsider = app.test_client()
    Auth(outsider).login(accounts["other_trainee"])
    assert outsider.get(f"/runs/{run_id}/trace").status_code == 404
    admin = app.test_client()
    Auth(admin).login(accounts["org_admin"])
    assert "Trainee General Hospital" in admin.get("/organization/readiness").get_data(as_text=True)


def test_the_cohort_report_charts_completion_mastery_and_labs(app, client, auth, accounts):
    from academy.models import Cohort
    from tests.learn.test_lessons import pass_lab

    with app.app_context():
        cohort_id = db.session.scalar(select(Cohort.id).where(Cohort.name == "Spring intake"))
    trainee = app.test_client()
    Auth(trainee).login(accounts["trainee"])
    url = "/tracks/TST1/modules/basics/lessons/01-ports"
    trainee.post(url, data={"csrf_token": csrf_from(trainee.get(url).get_data(as_text=True))})
    pass_lab(app, accounts["trainee"].id, score=8)
    auth.login(accounts["instructor"])
    page = client.get(f"/organization/cohorts/{cohort_id}").get_data(as_text=True)
    assert "Lessons completed per week" in page and re.search(r"week of \d{4}-\d\d-\d\d: 1<", page)
    assert "Register a viewer and verify connectivity</td><td class=\"text-end\">80%" in page
    assert "TST1 mastery per domain" in page
