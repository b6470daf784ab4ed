"""Assignments: what a cohort must do by when, and where each trainee stands on it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from academy.content import visibility
from academy.learn import progress
from academy.models import (
    Assignment, Cohort, CohortMember, ExamSession, OnboardingPath, SignOff, Track, User,
)

KINDS = ("track", "path", "module", "lab", "exam")


class AssignmentError(ValueError):
    pass


def target_title(session: Session, kind: str, target: str, organization_id: int | None = None) -> str | None:
    """The assigned thing's title, or None when it does not exist (or, for a path, is another
    organisation's)."""
    if kind in ("track", "exam"):
        track = visibility.track_by_code(session, target, organization_id)
        return None if track is None else (f"{track.code} · {track.title}" + (" — mock exam" if kind == "exam" else ""))
    if kind == "path":
        from academy.learn import paths

        path = paths.find(session, target, organization_id)
        return path.title if path else None
    if kind == "module":
        code, _, key = target.partition("/")
        module = visibility.module_by_key(session, code, key, organization_id)
        return f"{code}: {module.title}" if module else None
    if kind == "lab":
        lab = visibility.lab_by_key(session, target, organization_id)
        return lab.title if lab else None
    return None


def assign(session: Session, cohort: Cohort, kind: str, target: str, due_on: date, *, requires_signoff: bool,
           created_by: int | None) -> Assignment:
    if kind not in KINDS:
        raise AssignmentError(f"Assign one of: {', '.join(KINDS)}.")
    if target_title(session, kind, target, cohort.organization_id) is None:
        raise AssignmentError(f"There is no {kind} '{target}'.")
    assignment = Assignment(cohort=cohort, kind=kind, target=target, due_on=due_on, requires_signoff=requires_signoff,
                            created_by=created_by)
    session.add(assignment)
    return assignment


def is_done(session: Session, user_id: int, assignment: Assignment) -> bool:
    kind, target = assignment.kind, assignment.target
    if kind == "track":
        status = progress.statuses(session, user_id).get(target)
        return bool(status and status.complete)
    if kind == "module":
        code, _, key = target.partition("/")
        module = visibility.module_by_key(session, code, key, assignment.cohort.organization_id)
        lessons = [lesson.id for lesson in module.lessons if not lesson.retired] if module else []
        return bool(lessons) and set(lessons) <= progress.done_lessons(session, user_id)
    if kind == "lab":
        lab = visibility.lab_by_key(session, target, assignment.cohort.organization_id, live_only=False)
        return lab is not None and lab.id in progress.passed_labs(session, user_id)
    if kind == "exam":
        return session.scalar(select(ExamSession.id).join(Track).where(
            ExamSession.user_id == user_id, Track.code == target, ExamSession.passed.is_(True),
            visibility.visible(assignment.cohort.organization_id)).limit(1)) is not None
    from academy.learn import paths  # path: every step done

    path = session.scalar(select(OnboardingPath).where(OnboardingPath.key == target))
    return path is not None and all(step.done for step in paths.steps(session, user_id, path))


@dataclass
class AssignmentStatus:
    assignment: Assignment
    title: str
    done: bool
    signed_off: bool

    @property
    def complete(self) -> bool:
        return self.done and (self.signed_off or not self.assignment.requires_signoff)

    def overdue(self, today: date) -> bool:
        return not self.complete and self.assignment.due_on < today

    def state(self, today: date) -> str:
        return "done" if self.complete else "overdue" if self.overdue(today) else "open"


def for_trainee(session: Session, user: User) -> list[AssignmentStatus]:
    """The trainee's assignments from every cohort they learn in, soonest due first."""
    cohorts = select(CohortMember.cohort_id).where(CohortMember.user_id == user.id, CohortMember.as_instructor.is_(False))
    assignments = session.scalars(select(Assignment).where(Assignment.cohort_id.in_(cohorts)).order_by(Assignment.due_on)).all()
    signed = set(session.scalars(select(SignOff.assignment_id).where(SignOff.user_id == user.id)))
    return [AssignmentStatus(a, target_title(session, a.kind, a.target) or a.target, is_done(session, user.id, a),
                             a.id in signed) for a in assignments]


def grid(session: Session, cohort: Cohort) -> tuple[list[User], list[Assignment], dict]:
    """The cohort view: trainees x assignments -> AssignmentStatus."""
    trainees = sorted((m.user for m in cohort.members if not m.as_instructor), key=lambda u: u.display_name)
    assignments = session.scalars(select(Assignment).where(Assignment.cohort_id == cohort.id).order_by(Assignment.due_on)).all()
    signed = {(s.assignment_id, s.user_id) for s in session.scalars(select(SignOff).join(Assignment)
                                                                    .where(Assignment.cohort_id == cohort.id))}
    cells = {}
    for trainee in trainees:
        for a in assignments:
            cells[(trainee.id, a.id)] = AssignmentStatus(a, a.target, is_done(session, trainee.id, a), (a.id, trainee.id) in signed)
    return trainees, assignments, cells


def sign_off(session: Session, assignment: Assignment, trainee: User, *, by: User, note: str) -> SignOff:
    if not assignment.requires_signoff:
        raise AssignmentError("This assignment does not ask for a sign-off.")
    if not any(m.user_id == trainee.id and not m.as_instructor for m in assignment.cohort.members):
        raise AssignmentError("That trainee is not in this cohort.")
    if len(note) > 2000:
        raise AssignmentError("A note can have at most 2,000 characters.")
    existing = session.scalar(select(SignOff).where(SignOff.assignment_id == assignment.id, SignOff.user_id == trainee.id))
    if existing is not None:
        return existing
    record = SignOff(assignment=assignment, user_id=trainee.id, signed_by=by.id, note=note.strip())
    session.add(record)
    return record


def grid_table(session: Session, cohort: Cohort, today: date) -> tuple[list[str], list[list[str]]]:
    """The cohort grid as a header and rows (name, e-mail, then done/overdue/open per assignment), for CSV."""
    trainees, given, cells = grid(session, cohort)
    header = ["name", "email"] + [f"{a.kind} {a.target} (due {a.due_on.isoformat()})" for a in given]
    return header, [[t.display_name, t.email] + [cells[(t.id, a.id)].state(today) for a in given] for t in trainees]
