"""Onboarding paths: each step's target, and whether the trainee has done it."""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from academy.learn import progress
from academy.models import ExamSession, Lab, Module, OnboardingPath, Track


@dataclass
class StepView:
    day: int
    kind: str
    title: str
    url: str | None
    done: bool
    note: str


def steps(session: Session, user_id: int, path: OnboardingPath) -> list[StepView]:
    done_lessons = progress.done_lessons(session, user_id)
    passed = progress.passed_labs(session, user_id)
    passed_exams = set(session.scalars(select(Track.code).join(ExamSession, ExamSession.track_id == Track.id)
                                       .where(ExamSession.user_id == user_id, ExamSession.passed.is_(True))))
    views = []
    for step in path.steps:
        note = step.get("note", "")
        if "module" in step:
            code, _, key = step["module"].partition("/")
            module = session.scalar(select(Module).join(Track).where(Track.code == code, Module.key == key))
            lessons = [lesson for lesson in module.lessons if not lesson.retired] if module else []
            views.append(StepView(step["day"], "module", f"{code}: {module.title}" if module else step["module"],
                                  url_for("learn.module", code=code, module=key) if module else None,
                                  bool(lessons) and all(lesson.id in done_lessons for lesson in lessons), note))
        elif "lab" in step:
            lab = session.scalar(select(Lab).where(Lab.key == step["lab"]))
            views.append(StepView(step["day"], "lab", lab.title if lab else step["lab"],
                                  url_for("labs.lab", key=lab.key) if lab else None,
                                  lab is not None and lab.id in passed, note))
        else:
            views.append(StepView(step["day"], "exam", f"{step['exam']} mock exam", url_for("exams.exams_home"),
                                  step["exam"] in passed_exams, note))
    return views
