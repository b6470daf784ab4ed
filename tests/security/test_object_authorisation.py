"""Every id in a URL or a form is checked against the current user, not only against the role.

Two organisations (see conftest.World): General Hospital (trainee, instructor, org admin, cohort "Spring
intake") and Other Hospital (trainee, instructor, org admin, cohort "Their cohort"). For each id-bearing
route, people who may use the route but not that object get 404 (or 403), nothing changes, and the
owner's name and e-mail do not appear in what they get back.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from academy.extensions import db
from tests.security.conftest import login, row_counts, token_of

OUTSIDERS = ("other_trainee", "other_instructor", "other_admin")


def refused(app, client, method, path, leak: tuple[str, ...], data=None):
    before = row_counts(app)
    response = client.get(path) if method == "GET" else client.post(path, data=data or {"csrf_token": token_of(client)})
    body = response.get_data(as_text=True)
    assert response.status_code in (403, 404), f"{method} {path}: {response.status_code}"
    for text in leak:
        assert text not in body, f"{method} {path} shows {text!r}"
    assert row_counts(app) == before, f"{method} {path} changed the database"


def trainee_owned(ids):
    """The General trainee's own objects: only they may open these (instructors see the trace, read-only)."""
    exam, run = ids["exam_id"], ids["run_id"]
    return [("GET", f"/exams/{exam}"), ("GET", f"/exams/{exam}/1"), ("POST", f"/exams/{exam}/1"),
            ("GET", f"/exams/{exam}/results"), ("POST", f"/exams/{exam}/submit"),
            ("GET", f"/runs/{run}"), ("POST", f"/runs/{run}/check"), ("POST", f"/runs/{run}/hints/echo"),
            ("POST", f"/runs/{run}/reset"), ("POST", f"/runs/{run}/submit"), ("POST", f"/runs/{run}/abandon"),
            ("GET", f"/runs/{run}/console/dicom"), ("POST", f"/runs/{run}/console/dicom"),
            ("GET", f"/runs/{run}/console/admin"), ("POST", f"/runs/{run}/console/admin"),
            ("GET", f"/runs/{run}/console/ris"), ("POST", f"/runs/{run}/console/ris"),
            ("GET", f"/runs/{run}/console/viewer"), ("GET", f"/runs/{run}/console/viewer/image/1.2.3.png")]


def test_a_trainees_exams_and_runs_are_theirs_alone(app, world):
    name, email = world.names["trainee"]
    for intruder in ("instructor", "org_admin", "site_admin", *OUTSIDERS):
        client = login(app, world.accounts[intruder])
        for method, path in trainee_owned(world.ids):
            refused(app, client, method, path, (name, email))


def test_trace_certificate_record_and_statements_stay_in_the_organisation(app, world):
    ids, trainee = world.ids, world.accounts["trainee"].id
    leak = world.names["trainee"]
    for intruder in OUTSIDERS + ("site_admin",):
        client = login(app, world.accounts[intruder])
        for path in (f"/runs/{ids['run_id']}/trace", f"/certificates/{ids['certificate_id']}.pdf"):
            refused(app, client, "GET", path, leak)
        if intruder in ("other_instructor", "other_admin"):  # the staff-only pages (others get 403 by role)
            for path in (f"/organization/trainees/{trainee}", f"/records/xapi/{trainee}.json"):
                refused(app, client, "GET", path, leak)


def test_the_general_staff_do_see_them(app, world):
    """The positive control for the test above: the trainee's own instructor is allowed."""
    client = login(app, world.accounts["instructor"])
    ids, trainee = world.ids, world.accounts["trainee"].id
    for path in (f"/runs/{ids['run_id']}/trace", f"/certificates/{ids['certificate_id']}.pdf",
                 f"/organization/trainees/{trainee}", f"/records/xapi/{trainee}.json",
                 f"/organization/cohorts/{ids['cohort_id']}"):
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("intruder", ["other_instructor", "other_admin"])
def test_another_organisations_cohorts_assignments_and_sign_offs_are_not_found(app, world, intruder):
    client = login(app, world.accounts[intruder])
    ids, trainee = world.ids, world.accounts["trainee"].id
    leak = world.names["trainee"]
    cohort = ids["cohort_id"]
    refused(app, client, "GET", f"/organization/cohorts/{cohort}", leak)
    refused(app, client, "GET", f"/organization/cohorts/{cohort}/report.csv", leak)
    refused(app, client, "POST", f"/organization/cohorts/{cohort}", leak,
            {"csrf_token": token_of(client), "action": "assign", "assign-kind": "track", "assign-target": "TST1",
             "assign-due_on": "2030-01-01"})
    refused(app, client, "POST", f"/organization/cohorts/{cohort}/sign-off/{ids['assignment_id']}/{trainee}", leak)
    # their own cohort in the URL does not make someone else's assignment or trainee theirs
    theirs = ids["their_cohort_id"]
    refused(app, client, "POST", f"/organization/cohorts/{theirs}/sign-off/{ids['assignment_id']}/{trainee}", leak)
    before = row_counts(app)
    response = client.post(f"/organization/cohorts/{theirs}/sign-off/{ids['their_assignment_id']}/{trainee}",
                           data={"csrf_token": token_of(client)})
    assert response.status_code in (302, 403, 404)
    assert row_counts(app) == before, "a sign-off was recorded for another organisation's trainee"
    assert world.names["trainee"][0] not in client.get(response.headers.get("Location", "/cohorts")).get_data(as_text=True)


def test_an_instructor_cannot_sign_off_a_trainee_of_another_organisation_in_their_own_cohort(app, world):
    client = login(app, world.accounts["instructor"])
    ids, outsider = world.ids, world.accounts["other_trainee"].id
    before = row_counts(app)
    client.post(f"/organization/cohorts/{ids['cohort_id']}/sign-off/{ids['assignment_id']}/{outsider}",
                data={"csrf_token": token_of(client)})
    assert row_counts(app) == before


def test_org_admin_forms_take_only_their_own_people_and_cohorts(app, world):
    from academy.models import CohortMember, Invitation, User

    client = login(app, world.accounts["other_admin"])
    general_trainee = world.accounts["trainee"].id
    token = token_of(client, "/organization")
    for action in ("deactivate", "reactivate"):
        before = row_counts(app)
        response = client.post("/organization", data={"csrf_token": token, "action": action, "user_id": general_trainee})
        assert response.status_code in (400, 403, 404), action
        assert world.names["trainee"][1] not in response.get_data(as_text=True)
        assert row_counts(app) == before
    with app.app_context():
        assert db.session.get(User, general_trainee).active
    # invite into another organisation's cohort
    response = client.post("/organization", data={
        "csrf_token": token, "action": "invite", "invite-email": "sneaky@other.example.org", "invite-role": "trainee",
        "invite-cohort": str(world.ids["cohort_id"]), "invite-csrf_token": token})
    with app.app_context():
        made = db.session.scalar(select(Invitation).where(Invitation.email == "sneaky@other.example.org"))
        assert made is None or made.cohort_id != world.ids["cohort_id"], "invited into another organisation's cohort"
    # add/remove a member of a cohort: their cohort, General's trainee
    theirs = world.ids["their_cohort_id"]
    for data in ({"action": "add-member", "member-user_id": general_trainee, "member-csrf_token": token},
                 {"action": "remove-member", "user_id": general_trainee}):
        client.post(f"/organization/cohorts/{theirs}", data={"csrf_token": token, **data})
        with app.app_context():
            assert db.session.scalar(select(CohortMember).where(CohortMember.cohort_id == theirs,
                                                                CohortMember.user_id == general_trainee)) is None
    # and General's cohort with General's trainee is simply not found
    refused(app, client, "POST", f"/organization/cohorts/{world.ids['cohort_id']}", world.names["trainee"],
            {"csrf_token": token, "action": "remove-member", "user_id": general_trainee})


def test_an_organisations_own_paths_are_its_own(app, world):
    ids = world.ids
    general_admin = login(app, world.accounts["org_admin"])
    for method, path in (("GET", f"/paths/{ids['their_path_key']}"), ("GET", f"/paths/{ids['their_path_key']}/edit"),
                         ("POST", f"/paths/{ids['their_path_key']}/edit"), ("POST", f"/paths/{ids['their_path_key']}/copy")):
        refused(app, general_admin, method, path, ("Other Hospital",))
    trainee = login(app, world.accounts["trainee"])
    refused(app, trainee, "GET", f"/paths/{ids['their_path_key']}", ("Other Hospital",))
    assert trainee.get(f"/paths/{ids['own_path_key']}").status_code == 200  # positive control
    other_trainee = login(app, world.accounts["other_trainee"])
    refused(app, other_trainee, "GET", f"/paths/{ids['own_path_key']}", ("General Hospital",))


def test_consoles_work_only_on_the_runs_own_partition(app, world, box):
    """UIDs and rule ids in console forms and URLs are looked up in the run's partition only."""
    from academy.models import LabRun

    with app.app_context():
        mine = db.session.get(LabRun, world.ids["run_id"]).partition_code
        theirs = db.session.get(LabRun, world.ids["their_run_id"]).partition_code
    # a study only their partition holds (the lab's scenario gives both partitions the same UIDs)
    [uid] = box.generate(theirs, seed=4242, images_per_series=1, rows=32, columns=32)
    study = next(s for s in box.studies(theirs) if s.study_uid == uid)
    [instance] = box.instances(theirs, study_uid=uid)[:1]
    before = {s.study_uid for s in box.studies(theirs)}
    rule = box.add_routing_rule(theirs, f"{theirs}_WS")
    client = login(app, world.accounts["trainee"])
    run = world.ids["run_id"]
    assert client.get(f"/runs/{run}/console/viewer/image/{instance.sop_instance_uid}.png").status_code == 404
    assert client.get(f"/console/viewer/image/{instance.sop_instance_uid}.png").status_code == 404
    page = client.get(f"/runs/{run}/console/viewer?study={study.study_uid}&instance={instance.sop_instance_uid}")
    assert page.status_code == 404
    token = token_of(client, f"/runs/{run}/console/admin")
    for data in ({"action": "delete-study", "delete-study-study_uid": study.study_uid, "delete-study-confirm": "DELETE"},
                 {"action": "remove-rule", "remove-rule-rule_id": rule.id},
                 {"action": "move-series", "move-series-series_uid": instance.series_uid,
                  "move-series-target_study_uid": study.study_uid}):
        response = client.post(f"/runs/{run}/console/admin", data={"csrf_token": token, **data})
        assert response.status_code in (400, 404), data["action"]
    assert {s.study_uid for s in box.studies(theirs)} == before
    assert [r.id for r in box.routing_rules(theirs)] == [rule.id]
    assert box.studies(mine) and mine != theirs


def test_an_lms_registration_is_seen_and_removed_only_by_its_own_organisations_admin(app, world):
    ids = world.ids
    own = login(app, world.accounts["org_admin"])
    assert "Other Hospital LMS" not in own.get("/organization/lms").get_data(as_text=True)
    refused(app, own, "POST", f"/organization/lms/{ids['their_lti_registration_id']}/remove", ("Other Hospital LMS",))
    outsider = login(app, world.accounts["other_admin"])
    assert "General Hospital LMS" not in outsider.get("/organization/lms").get_data(as_text=True)
    refused(app, outsider, "POST", f"/organization/lms/{ids['lti_registration_id']}/remove", ("General Hospital LMS",))


@pytest.mark.parametrize("intruder", ["other_instructor", "other_admin"])
def test_another_organisations_authored_files_are_not_found(app, world, intruder):
    client = login(app, world.accounts[intruder])
    ids, leak = world.ids, ("General's own imaging track",)
    own, bank = ids["own_file_id"], ids["own_bank_id"]
    for method, path in [("GET", f"/authoring/files/{own}"), ("POST", f"/authoring/files/{own}"),
                         ("GET", f"/authoring/files/{own}/history"), ("POST", f"/authoring/files/{own}/restore/1"),
                         ("POST", f"/authoring/files/{own}/delete"), ("POST", f"/authoring/files/{own}/try"),
                         ("GET", f"/authoring/questions/{bank}/own-q1"), ("POST", f"/authoring/questions/{bank}/own-q1")]:
        refused(app, client, method, path, leak)
    assert "General&#39;s own imaging track" not in client.get("/authoring").get_data(as_text=True)
    from academy.authoring import archive

    exported = archive.from_zip(client.get("/authoring/export.zip").data)
    assert b"Other's own imaging track" in exported["curricula/OWN/track.yaml"]  # their own tree, and only it
    assert all(leak[0].encode() not in data for data in exported.values())
