"""Onboarding paths: each step's target, and whether the trainee has done it."""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from academy.content import visibility
from academy.learn import progress
from academy.models import ExamSession, OnboardingPath, Track


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
    organization_id = visibility.organization_of(session, user_id)
    views = []
    for step in path.steps:
        note = step.get("note", "")
        if "module" in step:
            code, _, key = step["module"].partition("/")
            module = visibility.module_by_key(session, code, key, organization_id)
            lessons = [lesson for lesson in module.lessons if not lesson.retired] if module else []
            views.append(StepView(step["day"], "module", f"{code}: {module.title}" if module else step["module"],
                                  url_for("learn.module", code=code, module=key) if module else None,
                                  bool(lessons) and all(lesson.id in done_lessons for lesson in lessons), note))
        elif "lab" in step:
            lab = visibility.lab_by_key(session, step["lab"], organization_id, live_only=False)
            views.append(StepView(step["day"], "lab", lab.title if lab else step["lab"],
                                  url_for("labs.lab", key=lab.key) if lab else None,
                                  lab is not None and lab.id in passed, note))
        else:
            views.append(StepView(step["day"], "exam", f"{step['exam']} mock exam", url_for("exams.exams_home"),
                                  step["exam"] in passed_exams, note))
    return views


class PathError(ValueError):
    pass


def visible(session: Session, organization_id: int | None):
    """The paths a member of this organisation may follow: the bundled ones and the organisation's own."""
    query = select(OnboardingPath).where(OnboardingPath.retired.is_(False))
    if organization_id is None:
        return query.where(OnboardingPath.organization_id.is_(None))
    return query.where((OnboardingPath.organization_id.is_(None)) | (OnboardingPath.organization_id == organization_id))


def find(session: Session, key: str, organization_id: int | None) -> OnboardingPath | None:
    return session.scalar(visible(session, organization_id).where(OnboardingPath.key == key))


def as_yaml(path: OnboardingPath) -> str:
    """The path in the content format (curricula/paths/*.yaml), for editing and export."""
    import yaml

    data = {"id": path.key, "title": path.title, "summary": path.summary, "description": path.description,
            "steps": path.steps}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


def copy_for(session: Session, path: OnboardingPath, organization_id: int, organization_name: str) -> OnboardingPath:
    """An organisation's own copy of a path, to adapt; the bundled original stays as it is."""
    base = f"o{organization_id}-{path.key}"[:90]
    key, n = base, 1
    while session.scalar(select(OnboardingPath.id).where(OnboardingPath.key == key)) is not None:
        n += 1
        key = f"{base}-{n}"
    copy = OnboardingPath(key=key, organization_id=organization_id, title=f"{path.title} ({organization_name})",
                          summary=path.summary, description=path.description, steps=list(path.steps), version=1)
    session.add(copy)
    session.flush()
    return copy


def update_from_yaml(session: Session, path: OnboardingPath, text: str) -> None:
    """Check an edited path as the content validator would (format, order of days, every step's target
    exists) and save it as the path's next version. The id cannot change."""
    import yaml
    from pydantic import ValidationError

    from academy.content.schema import PathSpec

    try:
        data = yaml.safe_load(text)
        spec = PathSpec.model_validate(data)
    except yaml.YAMLError as exc:
        raise PathError(f"The YAML does not parse: {getattr(exc, 'problem', exc)}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise PathError(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    if spec.id != path.key:
        raise PathError(f"Keep the id '{path.key}'.")
    days = [step.day for step in spec.steps]
    if days != sorted(days):
        raise PathError("Put the steps in the order of their days.")
    for number, step in enumerate(spec.steps, start=1):
        if step.module:
            code, _, key = step.module.partition("/")
            if visibility.module_by_key(session, code, key, path.organization_id) is None:
                raise PathError(f"Step {number}: module '{step.module}' does not exist.")
        elif step.lab and visibility.lab_by_key(session, step.lab, path.organization_id) is None:
            raise PathError(f"Step {number}: lab '{step.lab}' does not exist.")
        elif step.exam and visibility.track_by_code(session, step.exam, path.organization_id) is None:
            raise PathError(f"Step {number}: track '{step.exam}' does not exist.")
    data = spec.model_dump(mode="json", exclude_none=True)
    path.title, path.summary, path.description, path.steps = spec.title, spec.summary, spec.description, data["steps"]
    path.version += 1
