"""Mock exams and practice over HTTP: timing on the server, one submission, secrets kept, ids checked."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from academy.exams import mock_exams, questions
from academy.extensions import db
from academy.models import Attempt, ExamSession, ReviewCard
from tests.conftest import Auth, csrf_from


def start_exam(client) -> int:
    page = client.get("/exams")
    response = client.post("/exams/TST1/start", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/exams/(\d+)/1$", response.headers["Location"]).group(1))


def exam_items(app, exam_id):
    with app.app_context():
        exam = db.session.get(ExamSession, exam_id)
        return [(i.position, questions.as_dict(i.version)) for i in exam.items]


def right_values(question) -> list[str]:
    answer = question["answer"]
    if question["type"] == "numeric":
        return [str(answer["value"])]
    return answer if isinstance(answer, list) else [answer]


def save(client, exam_id, position, values, go="next", clock=None, think=0):
    page = client.get(f"/exams/{exam_id}/{position}")
    if clock is not None:
        clock.advance(seconds=think)
    return client.post(f"/exams/{exam_id}/{position}", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "answer": values, "go": go})


def submit(client, exam_id):
    page = client.get(f"/exams/{exam_id}")
    return client.post(f"/exams/{exam_id}/submit", data={"csrf_token": csrf_from(page.get_data(as_text=True))})


def test_an_exam_follows_the_blueprint_and_answers_never_reach_the_page(app, client, auth, accounts, clock):
    auth.login(accounts["trainee"])
    exam_id = start_exam(client)
    items = exam_items(app, exam_id)
    assert len(items) == 5
    with app.app_context():
        domains = [db.session.get(ExamSession, exam_id).items[n].domain.key for n in range(5)]
    assert sorted(domains) == ["networking"] * 3 + ["storage"] * 2
    for position, question in items:
        html = client.get(f"/exams/{exam_id}/{position}").get_data(as_text=True)
        assert question["explanation"] not in html
        for reference in question["references"]:
            assert reference not in html
        if question["type"] == "numeric":
            assert f'value="{question["answer"]["value"]}' not in html
        assert "data-deadline=\"2026-11-02T09:10:00+00:00\"" in html


def test_a_full_exam_is_marked_with_per_domain_results(app, client, auth, accounts, clock):
    auth.login(accounts["trainee"])
    exam_id = start_exam(client)
    items = exam_items(app, exam_id)
    for position, question in items[:4]:
        assert save(client, exam_id, position, right_values(question), clock=clock, think=30).status_code == 302
    response = submit(client, exam_id)
    assert response.headers["Location"].endswith(f"/exams/{exam_id}/results")
    html = client.get(f"/exams/{exam_id}/results").get_data(as_text=True)
    assert "80% — passed" in html and "4 of 5 right" in html
    assert items[0][1]["explanation"].strip()[:30] in html  # explanations after submission
    with app.app_context():
        exam = db.session.get(ExamSession, exam_id)
        assert exam.score == 0.8 and exam.passed and exam.submitted_by == "trainee"
        assert [i.seconds for i in exam.items][:4] == [30, 30, 30, 30]
        attempts = db.session.scalars(select(Attempt).where(Attempt.exam_item_id.is_not(None))).all()
        assert len(attempts) == 5 and sum(a.correct for a in attempts) == 4
        # the unanswered (wrong) question is scheduled for review
        assert db.session.scalar(select(func.count()).select_from(ReviewCard)) == 1


def test_submitting_twice_or_from_two_tabs_grades_once(app, client, auth, accounts, clock):
    auth.login(accounts["trainee"])
    exam_id = start_exam(client)
    second_tab = app.test_client()
    Auth(second_tab).login(accounts["trainee"])
    save(client, exam_id, 1, right_values(exam_items(app, exam_id)[0][1]))
    token_one = csrf_from(client.get(f"/exams/{exam_id}").get_data(as_text=True))
    token_two = csrf_from(second_tab.get(f"/exams/{exam_id}").get_data(as_text=True))
    assert client.post(f"/exams/{exam_id}/submit", data={"csrf_token": token_one}).status_code == 302
    assert second_tab.post(f"/exams/{exam_id}/submit", data={"csrf_token": token_two}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Attempt).where(Attempt.mode == "exam")) == 5
    # and a submitted exam cannot be changed
    response = second_tab.post(f"/exams/{exam_id}/2", data={"csrf_token": token_two, "answer": ["a"]})
    assert response.status_code == 303 and response.headers["Location"].endswith("/results")
    with app.app_context():
        assert db.session.get(ExamSession, exam_id).items[1].response is None


def test_the_server_closes_the_exam_at_the_deadline_even_if_the_browser_is_gone(app, client, auth, accounts, clock):
    auth.login(accounts["trainee"])
    exam_id = start_exam(client)
    items = exam_items(app, exam_id)
    save(client, exam_id, 1, right_values(items[0][1]))
    clock.advance(minutes=11)  # past the 10-minute limit: the browser was closed
    with app.app_context():
        assert mock_exams.expire_overdue(db.session, clock()) == 1
        exam = db.session.get(ExamSession, exam_id)
        assert exam.submitted_by == "deadline"
        assert exam.submitted_at == exam.deadline  # submitted as of its deadline
        assert exam.score == 0.2
        assert mock_exams.expire_overdue(db.session, clock()) == 0


def test_an_answer_after_the_deadline_is_refused_and_the_exam_closes(app, client, auth, accounts, clock):
    auth.login(accounts["trainee"])
    exam_id = start_exam(client)
    items = exam_items(app, exam_id)
    page = client.get(f"/exams/{exam_id}/1")
    clock.advance(minutes=10, seconds=30)
    response = client.post(f"/exams/{exam_id}/1", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                         "answer": right_values(items[0][1])})
    assert response.status_code == 303
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Time is up" in follow and "0% — not passed" in follow
    with app.app_context():
        exam = db.session.get(ExamSession, exam_id)
        assert exam.items[0].response is None and exam.submitted_by == "deadline"


def test_an_answer_in_the_last_seconds_is_accepted(app, client, auth, accounts, clock):
    auth.login(accounts["trainee"])
    exam_id = start_exam(client)
    page = client.get(f"/exams/{exam_id}/1")
    clock.advance(minutes=10, seconds=3)  # within the grace for a request in flight
    question = exam_items(app, exam_id)[0][1]
    response = client.post(f"/exams/{exam_id}/1", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                         "answer": right_values(question)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(ExamSession, exam_id).items[0].response is not None


def test_resuming_an_exam_shows_the_saved_answers(app, client, auth, accounts, clock):
    auth.login(accounts["trainee"])
    exam_id = start_exam(client)
    question = exam_items(app, exam_id)[0][1]
    if question["type"] not in ("single", "truefalse"):
        return
    save(client, exam_id, 1, right_values(question))
    other_device = app.test_client()
    Auth(other_device).login(accounts["trainee"])
    html = other_device.get(f"/exams/{exam_id}/1").get_data(as_text=True)
    assert re.search(rf'value="{question["answer"]}"\s+checked', html)


def test_another_trainees_exam_is_not_found(app, client, auth, accounts, clock):
    auth.login(accounts["trainee"])
    exam_id = start_exam(client)
    intruder = app.test_client()
    Auth(intruder).login(accounts["other_trainee"])
    for path in (f"/exams/{exam_id}", f"/exams/{exam_id}/1", f"/exams/{exam_id}/results"):
        assert intruder.get(path).status_code == 404
    token = csrf_from(intruder.get("/exams").get_data(as_text=True))
    assert intruder.post(f"/exams/{exam_id}/submit", data={"csrf_token": token}).status_code == 404
    assert intruder.post(f"/exams/{exam_id}/1", data={"csrf_token": token, "answer": ["a"]}).status_code == 404
    with app.app_context():
        assert db.session.get(ExamSession, exam_id).submitted_at is None


def test_an_answer_that_is_not_a_choice_is_refused_and_nothing_is_stored(app, client, auth, accounts, clock):
    auth.login(accounts["trainee"])
    exam_id = start_exam(client)
    response = save(client, exam_id, 1, ["zzz"])
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "not one of this question" in page or "is not a number" in page
    with app.app_context():
        assert db.session.get(ExamSession, exam_id).items[0].response is None


def test_a_locked_track_cannot_be_practised_or_examined(client, auth, accounts):
    auth.login(accounts["trainee"])
    response = client.get("/practice/TST2")
    assert response.status_code == 403
    assert "TST2 opens when you have completed TST1" in response.get_data(as_text=True)


def test_the_maintenance_round_closes_abandoned_exams(app, client, auth, accounts, clock, box):
    from academy import maintenance

    app.extensions["academy.sandbox"] = box
    auth.login(accounts["trainee"])
    exam_id = start_exam(client)
    clock.advance(minutes=30)
    assert maintenance.run_once(app)["exams_closed"] == 1
    with app.app_context():
        assert db.session.get(ExamSession, exam_id).submitted_by == "deadline"
