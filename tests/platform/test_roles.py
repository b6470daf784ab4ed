"""The role matrix: every route, opened by every role, is either allowed or refused — never both ways.

EXPECTED lists every route of the site. A route added without a line here fails
`test_every_route_is_in_the_matrix`, so nobody can add a page without deciding who may open it.
"""
from __future__ import annotations

import pytest

from tests.conftest import csrf_from

ROLES = ["anonymous", "trainee", "instructor", "org_admin", "site_admin"]
EVERYONE = {"anonymous", "trainee", "instructor", "org_admin", "site_admin"}
SIGNED_IN = EVERYONE - {"anonymous"}

LEARNERS = SIGNED_IN
STAFF = {"instructor", "org_admin"}
LESSON = "/tracks/TST1/modules/basics/lessons/01-ports"

# rule -> (a URL to open, roles that get it, the status they get). Other signed-in roles get 403 and
# anonymous users a redirect to /login. Objects that do not exist or belong to someone else are
# refused with 404 (tested where those objects are made).
EXPECTED = {
    "/": ("/", {"anonymous"}, 200),  # signed-in users are sent on to their dashboard
    "/login": ("/login", {"anonymous"}, 200),
    "/healthz": ("/healthz", EVERYONE, 200),
    "/dashboard": ("/dashboard", SIGNED_IN, 200),
    "/account/password": ("/account/password", SIGNED_IN, 200),
    "/cohorts": ("/cohorts", STAFF, 200),
    "/organization": ("/organization", {"org_admin"}, 200),
    "/organization/cohorts/<int:cohort_id>": ("/organization/cohorts/999999", STAFF, 404),
    "/organization/cohorts/<int:cohort_id>/report.csv": ("/organization/cohorts/999999/report.csv", STAFF, 404),
    "/organization/audit": ("/organization/audit", {"org_admin"}, 200),
    "/organization/readiness": ("/organization/readiness", {"org_admin"}, 200),
    "/organization/lms": ("/organization/lms", {"org_admin"}, 200),
    "/lti/login": ("/lti/login", EVERYONE, 400),  # an LMS sends iss, login_hint and target_link_uri
    "/lti/jwks/<kid>.json": ("/lti/jwks/no-such-key.json", EVERYONE, 404),
    "/lti/launch": None,  # public POST from an LMS with a signed id_token; tests/lti covers it
    "/organization/trainees/<int:user_id>": ("/organization/trainees/999999", STAFF, 404),
    "/authoring": ("/authoring", STAFF, 200),
    "/authoring/files/<int:file_id>": ("/authoring/files/999999", STAFF, 404),
    "/authoring/files/<int:file_id>/history": ("/authoring/files/999999/history", STAFF, 404),
    "/authoring/raw/<path:path>": ("/authoring/raw/curricula/NOPE/modules/m/a.svg", STAFF, 404),
    "/authoring/questions/new": ("/authoring/questions/new", STAFF, 200),
    "/authoring/questions/<int:file_id>/<question_id>": ("/authoring/questions/999999/q1", STAFF, 404),
    "/authoring/export.zip": ("/authoring/export.zip", STAFF, 200),
    "/invite/<token>": ("/invite/not-a-token", EVERYONE, 404),
    "/site": ("/site", {"site_admin"}, 200),
    "/tracks/<code>": ("/tracks/TST1", LEARNERS, 200),
    "/tracks/<code>/modules/<module>": ("/tracks/TST1/modules/basics", LEARNERS, 200),
    "/tracks/<code>/modules/<module>/lessons/<lesson>": (LESSON, LEARNERS, 200),
    "/tracks/<code>/modules/<module>/assets/<name>": ("/tracks/TST1/modules/basics/assets/flow.svg", LEARNERS, 200),
    "/practice": ("/practice", LEARNERS, 200),
    "/practice/<code>": ("/practice/TST1", LEARNERS, 200),
    "/review": ("/review", LEARNERS, 200),
    "/standing": ("/standing", LEARNERS, 200),
    "/exams": ("/exams", LEARNERS, 200),
    "/exams/<int:exam_id>": ("/exams/999999", LEARNERS, 404),
    "/exams/<int:exam_id>/<int:position>": ("/exams/999999/1", LEARNERS, 404),
    "/exams/<int:exam_id>/results": ("/exams/999999/results", LEARNERS, 404),
    "/instructor/items/<code>": ("/instructor/items/TST1", STAFF, 200),
    "/labs": ("/labs", LEARNERS, 200),
    "/paths": ("/paths", LEARNERS, 200),
    "/certificates": ("/certificates", LEARNERS, 200),
    "/certificates/<int:certificate_id>.pdf": ("/certificates/999999.pdf", LEARNERS, 404),
    "/verify/<code>": ("/verify/not-a-code", EVERYONE, 404),
    "/records/xapi.json": ("/records/xapi.json", LEARNERS, 200),
    "/records/xapi/<int:user_id>.json": ("/records/xapi/999999.json", STAFF, 404),
    "/paths/<key>": ("/paths/tst-first-week", LEARNERS, 200),
    "/paths/<key>/edit": ("/paths/tst-first-week/edit", {"org_admin"}, 404),  # bundled paths are read-only
    "/labs/<key>": ("/labs/tst-echo", LEARNERS, 200),
    "/runs/<int:run_id>": ("/runs/999999", LEARNERS, 404),
    "/runs/<int:run_id>/trace": ("/runs/999999/trace", LEARNERS, 404),
    "/runs/<int:run_id>/console/dicom": ("/runs/999999/console/dicom", LEARNERS, 404),
    "/runs/<int:run_id>/console/admin": ("/runs/999999/console/admin", LEARNERS, 404),
    "/runs/<int:run_id>/console/viewer": ("/runs/999999/console/viewer", LEARNERS, 404),
    "/runs/<int:run_id>/console/ris": ("/runs/999999/console/ris", LEARNERS, 404),
    "/runs/<int:run_id>/console/viewer/image/<uid>.png": ("/runs/999999/console/viewer/image/1.2.png", LEARNERS, 404),
    # the practice partition's consoles need a sandbox; tests/labs covers them with one running
    "/console/dicom": None, "/console/admin": None, "/console/viewer": None, "/console/viewer/image/<uid>.png": None,
    "/console/ris": None,
}
# POST-only rules -> (URL, roles allowed past the role check, the status a request without a real object gets)
POST_ONLY = {
    "/logout": ("/logout", SIGNED_IN, 302),
    "/practice/<code>/answer": ("/practice/TST1/answer", LEARNERS, 404),
    "/questions/<int:version_id>/flag": ("/questions/999999/flag", LEARNERS, 404),
    "/questions/<int:version_id>/report": ("/questions/999999/report", LEARNERS, 404),
    "/review/answer": ("/review/answer", LEARNERS, 404),
    "/exams/<code>/start": ("/exams/NOPE/start", LEARNERS, 404),
    "/exams/<int:exam_id>/submit": ("/exams/999999/submit", LEARNERS, 404),
    "/labs/<key>/start": ("/labs/no-such-lab/start", LEARNERS, 404),
    "/certificates/issue": ("/certificates/issue", LEARNERS, 404),
    "/paths/<key>/copy": ("/paths/no-such-path/copy", {"org_admin"}, 404),
    "/organization/cohorts/<int:cohort_id>/sign-off/<int:assignment_id>/<int:user_id>": (
        "/organization/cohorts/999999/sign-off/1/1", STAFF, 404),
    "/runs/<int:run_id>/check": ("/runs/999999/check", LEARNERS, 404),
    "/runs/<int:run_id>/hints/<check_id>": ("/runs/999999/hints/x", LEARNERS, 404),
    "/runs/<int:run_id>/reset": ("/runs/999999/reset", LEARNERS, 404),
    "/runs/<int:run_id>/submit": ("/runs/999999/submit", LEARNERS, 404),
    "/runs/<int:run_id>/abandon": ("/runs/999999/abandon", LEARNERS, 404),
    "/authoring/new/<kind>": ("/authoring/new/nothing", STAFF, 404),
    "/authoring/copy": ("/authoring/copy", STAFF, 302),  # an empty form: back to the page with what is missing
    "/authoring/assets": ("/authoring/assets", STAFF, 302),
    "/authoring/import": ("/authoring/import", STAFF, 302),
    "/authoring/preview": ("/authoring/preview", STAFF, 200),
    "/authoring/publish": ("/authoring/publish", STAFF, 302),  # nothing to publish yet
    "/authoring/files/<int:file_id>/restore/<int:number>": ("/authoring/files/999999/restore/1", STAFF, 404),
    "/authoring/files/<int:file_id>/delete": ("/authoring/files/999999/delete", STAFF, 404),
    "/authoring/files/<int:file_id>/try": ("/authoring/files/999999/try", STAFF, 404),
    "/organization/lms/<int:registration_id>/remove": ("/organization/lms/999999/remove", {"org_admin"}, 404),
}
PUBLIC_PREFIXES = ("/static/", "/bootstrap/")


def test_every_route_is_in_the_matrix(app):
    routes = {rule.rule for rule in app.url_map.iter_rules() if not rule.rule.startswith(PUBLIC_PREFIXES)}
    missing = routes - set(EXPECTED) - set(POST_ONLY)
    assert not missing, f"routes without an access decision in tests/platform/test_roles.py: {sorted(missing)}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_the_pages_meant_for_it(client, auth, accounts, role):
    if role != "anonymous":
        assert auth.login(accounts[role]).status_code == 302
    for rule, expected in EXPECTED.items():
        if expected is None:
            continue
        path, allowed, status = expected
        response = client.get(path)
        if role in allowed:
            assert response.status_code == status, f"{role} should get {status} from {path}"
        elif role == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"], path
        elif path in ("/", "/login"):
            assert response.status_code == 302, f"{role} is sent on from {path}"
        else:
            assert response.status_code == 403, f"{role} must not open {path}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_post_only_where_it_is_allowed(client, auth, accounts, role):
    if role != "anonymous":
        auth.login(accounts[role])
    for rule, (path, allowed, status) in POST_ONLY.items():
        token = csrf_from(client.get("/login" if role == "anonymous" else "/account/password").get_data(as_text=True))
        response = client.post(path, data={"csrf_token": token})
        if role == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"], path
        elif role in allowed:
            assert response.status_code == status, f"{role} posting to {path}: {response.status_code}"
        else:
            assert response.status_code == 403, f"{role} must not post to {path}"
        if rule == "/logout" and role != "anonymous":
            auth.login(accounts[role])


def test_an_instructor_sees_only_the_cohorts_they_teach(app, client, auth, accounts):
    from academy.auth import service
    from academy.extensions import db
    from academy.models import Cohort, Organization
    from sqlalchemy import select

    with app.app_context():
        org = db.session.scalar(select(Organization).where(Organization.name == "General Hospital"))
        db.session.add(Cohort(organization=org, name="Night shift"))
        other = service.get_or_create_organization(db.session, "Other Hospital")
        db.session.add(Cohort(organization=other, name="Their cohort"))
        db.session.commit()
    auth.login(accounts["instructor"])
    body = client.get("/cohorts").get_data(as_text=True)
    assert "Spring intake" in body and "Night shift" not in body and "Their cohort" not in body
    auth.logout()
    auth.login(accounts["org_admin"])
    body = client.get("/cohorts").get_data(as_text=True)
    assert "Spring intake" in body and "Night shift" in body and "Their cohort" not in body


def test_an_org_admin_sees_only_their_own_organisations_people(client, auth, accounts):
    auth.login(accounts["org_admin"])
    body = client.get("/organization").get_data(as_text=True)
    assert accounts["trainee"].email in body
    assert accounts["other_trainee"].email not in body


def test_the_navigation_fits_the_role(client, auth, accounts):
    auth.login(accounts["trainee"])
    body = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/dashboard"' in body and 'href="/cohorts"' not in body and 'href="/site"' not in body
    auth.logout()
    auth.login(accounts["org_admin"])
    body = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/cohorts"' in body and 'href="/organization"' in body and 'href="/site"' not in body
