"""The whole LTI 1.3 flow against a simulated LMS: login initiation, signed launch, the trainee's work,
and the score arriving at the LMS's line item (LTI AGS 2.0)."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from academy import maintenance
from academy.extensions import db
from academy.models import ExamSession, LabRun, LtiLaunch, LtiScore, LtiUserLink, User
from tests.conftest import csrf_from
from tests.exams.test_exam_integrity import exam_items, right_values, save
from tests.lti.conftest import EXAM_TARGET, LAB_TARGET, full_launch, initiate, launch
from tests.lti.platform import SCORE_SCOPE, new_sub


def start_run(client) -> int:
    page = client.get("/labs/tst-echo")
    response = client.post("/labs/tst-echo/start", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/runs/(\d+)$", response.headers["Location"]).group(1))


def solve_and_submit(app, client, box, run_id):
    with app.app_context():
        code = db.session.get(LabRun, run_id).partition_code
    box.add_node(code, "MYVIEWER", "127.0.0.1", 11113)
    assert box.devices(code).echo(f"{code}_PACS").ok
    token = csrf_from(client.get(f"/runs/{run_id}").get_data(as_text=True))
    client.post(f"/runs/{run_id}/check", data={"csrf_token": token, "answer-modality": "ct"})
    # buffered: the WSGI response is closed at once, as a server does after sending it
    response = client.post(f"/runs/{run_id}/submit", data={"csrf_token": token}, buffered=True)
    assert response.status_code == 302


def test_a_launch_signs_the_lms_user_in_and_the_lab_score_reaches_the_lms(app, platform, registration, box, clock):
    sub = new_sub()
    browser, response = full_launch(app, platform, LAB_TARGET, sub=sub)
    assert response.status_code == 302 and response.headers["Location"] == "/labs/tst-echo"
    page = browser.get("/labs/tst-echo").get_data(as_text=True)
    assert "Ada Lovelace" in page  # signed in as the platform's user
    with app.app_context():
        link = db.session.scalar(select(LtiUserLink).where(LtiUserLink.subject == sub))
        user = link.user
        assert user.role == "trainee" and user.organization.name == "General Hospital"
        assert user.email.endswith("@lti.invalid") and user.password_hash == "!lti"
        launch_row = db.session.scalar(select(LtiLaunch).where(LtiLaunch.user_id == user.id))
        assert launch_row.kind == "lab" and launch_row.target == "tst-echo" and SCORE_SCOPE in launch_row.scopes
        assert launch_row.lineitem_url == f"{platform.url}/courses/3/lineitems/9/lineitem"
    run_id = start_run(browser)
    solve_and_submit(app, browser, box, run_id)
    assert len(platform.scores) == 1
    score = platform.scores[0]
    assert score["path"] == "/courses/3/lineitems/9/lineitem/scores"
    body = score["body"]
    assert body["userId"] == sub and body["scoreGiven"] == 10 and body["scoreMaximum"] == 10
    assert body["activityProgress"] == "Completed" and body["gradingProgress"] == "FullyGraded"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["timestamp"])
    assert platform.token_requests[0]["scope"].split() == sorted(launch_row.scopes)
    with app.app_context():
        row = db.session.scalar(select(LtiScore))
        assert row.state == "sent" and row.attempts == 1 and row.source == f"run:{run_id}"
    assert maintenance.run_once(app)["scores_sent"] == 0  # nothing is sent twice


def test_a_second_launch_finds_the_same_account(app, platform, registration, clock):
    sub = new_sub()
    full_launch(app, platform, LAB_TARGET, sub=sub)
    full_launch(app, platform, LAB_TARGET, sub=sub, name="Ada King")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LtiUserLink).where(LtiUserLink.subject == sub)) == 1
        assert db.session.scalar(select(func.count()).select_from(LtiLaunch)) == 2


def test_a_mock_exam_launch_starts_the_exam_and_its_score_goes_back(app, platform, registration, clock):
    sub = new_sub()
    browser, response = full_launch(app, platform, EXAM_TARGET, sub=sub)
    assert response.status_code == 302
    exam_id = int(re.search(r"/exams/(\d+)/1$", response.headers["Location"]).group(1))
    # launching again while it is open goes back to the same exam
    _, again = full_launch(app, platform, EXAM_TARGET, sub=sub)
    assert again.headers["Location"] == response.headers["Location"]
    items = exam_items(app, exam_id)
    for position, question in items[:3]:
        save(browser, exam_id, position, right_values(question))
    page = browser.get(f"/exams/{exam_id}")
    browser.post(f"/exams/{exam_id}/submit", data={"csrf_token": csrf_from(page.get_data(as_text=True))}, buffered=True)
    assert len(platform.scores) == 1
    body = platform.scores[0]["body"]
    assert body["userId"] == sub and body["scoreGiven"] == 3 and body["scoreMaximum"] == len(items) == 5
    with app.app_context():
        assert db.session.get(ExamSession, exam_id).submitted_at is not None


def test_when_the_lms_is_down_the_score_waits_and_is_delivered_later(app, platform, registration, box, clock):
    browser, _ = full_launch(app, platform, LAB_TARGET, sub=new_sub())
    run_id = start_run(browser)
    platform.down = True
    solve_and_submit(app, browser, box, run_id)  # the trainee's submission is not affected
    with app.app_context():
        assert db.session.get(LabRun, run_id).state == "submitted"
        row = db.session.scalar(select(LtiScore))
        assert row.state == "pending" and row.attempts == 1 and "503" in row.last_error
    assert platform.scores == []
    platform.down = False
    assert maintenance.run_once(app)["scores_sent"] == 0  # not due yet
    clock.advance(minutes=3)
    assert maintenance.run_once(app)["scores_sent"] == 1
    assert platform.scores[0]["body"]["scoreGiven"] == 10
    with app.app_context():
        row = db.session.scalar(select(LtiScore))
        assert row.state == "sent" and row.attempts == 2 and row.last_error == ""


def test_a_lab_done_without_a_launch_sends_nothing(app, platform, registration, box, client, auth, accounts, clock):
    auth.login(accounts["trainee"])
    run_id = start_run(client)
    solve_and_submit(app, client, box, run_id)
    assert platform.scores == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LtiScore)) == 0


def test_the_login_and_the_launch_may_reach_different_site_instances(app, platform, registration, clock):
    """Two app objects on one database stand for two gunicorn instances: state lives in the database."""
    from tests.conftest import make_app

    other_instance = make_app(app.config["ACADEMY_DATA_DIR"], app.config["SQLALCHEMY_DATABASE_URI"])
    other_instance.config["ACADEMY_CLOCK"] = clock
    login = initiate(app.test_client(), platform)
    response = launch(other_instance.test_client(), platform, login)
    assert response.status_code == 302 and response.headers["Location"] == "/labs/tst-echo"
    with other_instance.app_context():
        db.engine.dispose()


def test_the_users_of_a_launch_are_trainees_without_a_password(app, platform, registration, client, clock):
    sub = new_sub()
    full_launch(app, platform, LAB_TARGET, sub=sub)
    with app.app_context():
        user = db.session.scalar(select(User).join(LtiUserLink).where(LtiUserLink.subject == sub))
        email = user.email
    response = client.post("/login", data={"email": email, "password": "!lti",
                                           "csrf_token": csrf_from(client.get("/login").get_data(as_text=True))})
    assert response.status_code != 302
