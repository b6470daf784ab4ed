"""Answers, explanations and lab checks' expected values never reach a trainee's browser before grading.

Each test reads the secrets from the database (the question versions, lesson self-checks, lab specs) and
looks for them in what the pages send; the positive controls show that the same secrets do appear once
the trainee has answered, so the searches are for the right strings.
tests/exams/test_exam_integrity.py covers the mock-exam pages; this file covers practice, review, lesson
self-checks, lab runs and their consoles, and every question and lab of the bundled content.
"""
from __future__ import annotations

import re

from sqlalchemy import select

from academy.extensions import db
from tests.security.conftest import login, token_of

INPUT = re.compile(r'<input[^>]*name="answer(?:-[\w-]+)?"[^>]*>')


def secrets_of(question: dict) -> list[str]:
    found = [question["explanation"].strip()] + list(question.get("references") or [])
    return [s for s in found if s]


def assert_choices_look_alike(html: str, question: dict, name: str = "answer") -> None:
    """The right choice's control is the wrong ones' but for its id: no data-*, class or checked marks it."""
    if question["type"] not in ("single", "multiple", "truefalse"):
        if question["type"] == "numeric":
            assert f'value="{question["answer"]["value"]}"' not in html
        return
    shapes = set()
    for tag in INPUT.findall(html):
        if f'name="{name}"' not in tag:
            continue
        shapes.add(re.sub(r'(value|id)="[^"]*"', r'\1="ID"', " ".join(tag.split())))
    assert len(shapes) == 1, shapes


def version_on(html: str) -> int:
    return int(re.search(r'name="version_id" value="(\d+)"', html).group(1))


def test_practice_pages_hold_no_answer_until_answered(app, world):
    from academy.exams import questions
    from academy.models import QuestionVersion

    client = login(app, world.accounts["trainee"])
    seen, after = set(), None
    for _ in range(8):
        html = client.get("/practice/TST1" + (f"?after={after}" if after else "")).get_data(as_text=True)
        after = version_on(html)
        with app.app_context():
            question = questions.as_dict(db.session.get(QuestionVersion, after))
        for secret in secrets_of(question):
            assert secret not in html, f"question {question['id']} shows {secret!r} before the answer"
        assert_choices_look_alike(html, question)
        seen.add(after)
    # answering shows the explanation: the secret strings are the ones the feedback page uses
    feedback = client.post("/practice/TST1/answer", data={"csrf_token": token_of(client, "/practice/TST1"),
                                                          "version_id": after, "answer": "a"})
    assert feedback.status_code in (200, 400)
    if feedback.status_code == 200:
        assert question["explanation"].strip().split("\n")[0][:40] in feedback.get_data(as_text=True)
    assert seen


def test_the_review_page_holds_no_answer(app, world):
    from academy.exams import questions
    from academy.models import QuestionVersion

    client = login(app, world.accounts["trainee"])
    version_id = world.ids["version_id"]
    response = client.post(f"/questions/{version_id}/flag", data={"csrf_token": token_of(client), "next": "/review"})
    assert response.status_code == 302
    html = client.get("/review").get_data(as_text=True)
    shown = version_on(html)
    with app.app_context():
        question = questions.as_dict(db.session.get(QuestionVersion, shown))
    for secret in secrets_of(question):
        assert secret not in html
    assert_choices_look_alike(html, question)


def test_lesson_self_checks_hold_no_answer_until_submitted(app, world):
    from academy.models import Lesson

    with app.app_context():
        lesson = db.session.scalar(select(Lesson).where(Lesson.key == "01-ports"))
        items = list(lesson.self_check)
    assert items
    client = login(app, world.accounts["trainee"])
    path = "/tracks/TST1/modules/basics/lessons/01-ports"
    html = client.get(path).get_data(as_text=True)
    for item in items:
        assert item["explanation"] not in html
        assert_choices_look_alike(html, item, f"answer-{item['id']}")
    after = client.post(path, data={"csrf_token": token_of(client, path)}).get_data(as_text=True)
    assert any(item["explanation"] in after for item in items), "the self-check results show the explanations"


def expected_values(spec: dict) -> list[str]:
    """What a lab's knowledge checks accept: the strings a page must not carry before grading."""
    from academy.labs import registry

    found = []
    for check in spec["checks"]:
        if not registry.get(check["type"]).knowledge:
            continue
        params = check["params"]
        for key in ("value", "values", "pattern", "expected", "answers"):
            value = params.get(key)
            for item in (value if isinstance(value, list) else [value]):
                if item is not None:
                    found.append(str(item))
    return found


def test_a_lab_run_and_its_consoles_hold_no_expected_value_or_solution(app, world):
    from academy.models import LabRun

    client = login(app, world.accounts["trainee"])
    run = world.ids["run_id"]
    with app.app_context():
        spec = db.session.get(LabRun, run).spec
    values = expected_values(spec)
    assert values == ["CT"]
    pages = {path: client.get(path).get_data(as_text=True)
             for path in (f"/runs/{run}", f"/runs/{run}/console/dicom", f"/runs/{run}/console/admin",
                          f"/runs/{run}/console/ris", f"/runs/{run}/console/viewer", f"/runs/{run}/trace")}
    for path, html in pages.items():
        for value in values:
            assert not re.search(rf'name="answer-[^"]*"[^>]*value="{re.escape(value)}"', html), path
            assert f"value: {value}" not in html and f'"value": "{value}"' not in html, path
        for step in spec["solution"]:
            assert f"do: {step['do']}" not in html and f'"do": "{step["do"]}"' not in html, path
        assert "answer_exact" not in html and '"params"' not in html, path


def test_no_bundled_lab_shows_a_check_parameter_before_grading(bundled_app):
    """Every bundled lab: what the run page is given (questions, shown checks) carries no expected value."""
    import json

    from academy.labs import service
    from academy.models import Lab

    with bundled_app.app_context():
        labs = db.session.scalars(select(Lab)).all()
        assert len(labs) > 20
        for lab in labs:
            given = service.knowledge_checks(lab.spec) + service.shown_checks(lab.spec, {})
            text = json.dumps(given)
            for check in service.shown_checks(lab.spec, {}):
                assert set(check) == {"id", "points", "hint"}, lab.key
            for question in service.knowledge_checks(lab.spec):
                assert set(question) == {"id", "question"}, lab.key
            for value in expected_values(lab.spec):
                if len(value) >= 4:  # short values (CT, 3) occur in ordinary words and numbers
                    asked = " ".join(q["question"] for q in service.knowledge_checks(lab.spec))
                    assert value in asked or f'"{value}"' not in text, f"{lab.key} shows {value!r}"


def test_no_bundled_question_renders_its_answer_on_the_question_page(bundled_app):
    """Every question of every bundled bank, through the form practice and review use."""
    from flask import render_template

    from academy.auth.forms import EmptyForm
    from academy.exams import questions
    from academy.models import Question

    with bundled_app.test_request_context():
        rows = db.session.scalars(select(Question).where(Question.retired.is_(False))).all()
        assert len(rows) > 100
        for row in rows:
            question = questions.as_dict(row.current)
            public = questions.public(question)
            assert not set(public) & set(questions.SECRET_FIELDS)
            html = render_template("exams/_question_form.html", q=public, form=EmptyForm(), action="/x", filters={})
            for secret in secrets_of(question):
                if len(secret) > 12:  # a whole sentence of explanation or a reference, not a word
                    assert secret not in html, f"{question['id']}: {secret[:60]!r}"
            assert_choices_look_alike(html, question)
