"""Practice and spaced review: feedback after answering, attempts stored against the version seen."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from academy.exams import questions
from academy.extensions import db
from academy.models import Attempt, Question, QuestionReport, QuestionVersion, ReviewCard
from tests.conftest import csrf_from


def shown_question(app, html):
    version_id = int(re.search(r'name="version_id" value="(\d+)"', html).group(1))
    with app.app_context():
        return questions.as_dict(db.session.get(QuestionVersion, version_id))


def wrong_values(question):
    if question["type"] == "numeric":
        return [str(question["answer"]["value"] + 100)]
    ids = [c["id"] for c in question["choices"]]
    if question["type"] == "ordering":
        return list(reversed(question["answer"]))
    if question["type"] == "multiple":
        return [i for i in ids if i not in question["answer"]][:1]
    return [next(i for i in ids if i != question["answer"])]


def answer(client, html, values, confidence="2", path="/practice/TST1/answer"):
    version_id = re.search(r'name="version_id" value="(\d+)"', html).group(1)
    return client.post(path, data={"csrf_token": csrf_from(html), "version_id": version_id, "answer": values,
                                   "confidence": confidence})


def test_a_practice_question_hides_its_answer_until_answered(app, client, auth, accounts, clock):
    auth.login(accounts["trainee"])
    html = client.get("/practice/TST1").get_data(as_text=True)
    question = shown_question(app, html)
    assert question["explanation"] not in html
    response = answer(client, html, wrong_values(question))
    feedback = response.get_data(as_text=True)
    assert response.status_code == 200 and "Not right." in feedback
    assert question["explanation"].strip().split("\n")[0][:25] in feedback
    with app.app_context():
        attempt = db.session.scalar(select(Attempt))
        assert attempt.mode == "practice" and not attempt.correct
        card = db.session.scalar(select(ReviewCard))
        assert card.due.date() == (clock() + timedelta(days=1)).date()  # a miss comes back tomorrow


def test_a_right_sure_answer_schedules_nothing_and_a_guess_is_reviewed(app, client, auth, accounts, clock):
    auth.login(accounts["trainee"])
    html = client.get("/practice/TST1").get_data(as_text=True)
    question = shown_question(app, html)
    right = question["answer"] if isinstance(question["answer"], list) else (
        [str(question["answer"]["value"])] if question["type"] == "numeric" else [question["answer"]])
    assert "Right." in answer(client, html, right, confidence="3").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(ReviewCard)) is None
    html = client.get("/practice/TST1").get_data(as_text=True)
    second = shown_question(app, html)
    assert second["id"] != question["id"]  # an unanswered question comes first
    right = second["answer"] if isinstance(second["answer"], list) else (
        [str(second["answer"]["value"])] if second["type"] == "numeric" else [second["answer"]])
    answer(client, html, right, confidence="1")
    with app.app_context():
        assert db.session.scalar(select(ReviewCard)).question.key == second["id"]


def test_the_review_brings_back_what_was_missed_when_it_is_due(app, client, auth, accounts, clock):
    auth.login(accounts["trainee"])
    html = client.get("/practice/TST1").get_data(as_text=True)
    missed = shown_question(app, html)
    answer(client, html, wrong_values(missed))
    assert "Nothing to review right now" in client.get("/review").get_data(as_text=True)
    clock.advance(days=1, minutes=1)
    assert 'id="due-reviews">1<' in client.get("/dashboard").get_data(as_text=True)
    review_html = client.get("/review").get_data(as_text=True)
    assert shown_question(app, review_html)["id"] == missed["id"]
    right = missed["answer"] if isinstance(missed["answer"], list) else (
        [str(missed["answer"]["value"])] if missed["type"] == "numeric" else [missed["answer"]])
    answer(client, review_html, right, confidence="2", path="/review/answer")
    with app.app_context():
        card = db.session.scalar(select(ReviewCard))
        assert card.reviews == 2 and card.due > clock() + timedelta(days=1)


def test_an_attempt_keeps_the_version_the_trainee_saw(app, client, auth, accounts, clock):
    auth.login(accounts["trainee"])
    html = client.get("/practice/TST1").get_data(as_text=True)
    seen = shown_question(app, html)
    with app.app_context():  # an author edits the question while it is on screen
        question = db.session.scalar(select(Question).where(Question.key == seen["id"]))
        edited = QuestionVersion(question=question, number=2, type=question.current.type,
                                 difficulty=question.current.difficulty, stem="Edited stem", exhibit=None,
                                 choices=question.current.choices, answer=question.current.answer,
                                 explanation="Edited", references=["x"], content_hash="edited")
        db.session.add(edited)
        db.session.flush()
        question.current = edited
        db.session.commit()
    answer(client, html, wrong_values(seen))
    with app.app_context():
        attempt = db.session.scalar(select(Attempt))
        assert attempt.version.id == seen["version_id"] and attempt.version.stem != "Edited stem"


def test_a_tampered_version_id_or_answer_is_refused(app, client, auth, accounts, clock):
    auth.login(accounts["trainee"])
    html = client.get("/practice/TST1").get_data(as_text=True)
    token = csrf_from(html)
    assert client.post("/practice/TST1/answer", data={"csrf_token": token, "version_id": "999999",
                                                      "answer": ["a"]}).status_code == 404
    response = answer(client, html, ["not-a-choice"])
    assert response.status_code == 400
    assert "not one of this question" in response.get_data(as_text=True) or "is not a number" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Attempt)) is None


def test_a_trainee_can_report_a_problem_and_flag_for_review(app, client, auth, accounts, clock):
    auth.login(accounts["trainee"])
    html = client.get("/practice/TST1").get_data(as_text=True)
    question = shown_question(app, html)
    feedback = answer(client, html, wrong_values(question)).get_data(as_text=True)
    token = csrf_from(feedback)
    response = client.post(f"/questions/{question['version_id']}/report",
                           data={"csrf_token": token, "message": "Choice B is also defensible.", "next": "/practice"})
    assert response.status_code == 302
    assert client.post(f"/questions/{question['version_id']}/report",
                       data={"csrf_token": token, "message": "x"}).status_code == 302  # too short: refused
    with app.app_context():
        reports = db.session.scalars(select(QuestionReport)).all()
        assert [r.message for r in reports] == ["Choice B is also defensible."]


def test_instructors_see_item_analysis_of_their_trainees_only(app, client, auth, accounts, clock):
    from tests.conftest import Auth

    trainee, outsider = app.test_client(), app.test_client()
    for tester, account in ((trainee, accounts["trainee"]), (outsider, accounts["other_trainee"])):
        Auth(tester).login(account)
        html = tester.get("/practice/TST1").get_data(as_text=True)
        answer(tester, html, wrong_values(shown_question(app, html)))
    auth.login(accounts["instructor"])
    html = client.get("/instructor/items/TST1").get_data(as_text=True)
    assert "From 1 answers by the trainees you follow" in html
