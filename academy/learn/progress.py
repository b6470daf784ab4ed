"""Where a trainee stands in the curriculum: lessons done, modules and tracks complete, what is locked,
and what to do next."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, defer, selectinload

from academy.content import visibility
from academy.exams import questions, scoring
from academy.models import Lab, LabRun, Lesson, LessonProgress, Module, Track

LAB_PASS = 0.7  # a lab counts as done once a submitted run reached this share of its points


@dataclass
class TrackStatus:
    track: Track
    lessons_total: int
    lessons_done: int
    locked_by: list[str]
    labs_total: int = 0
    labs_passed: int = 0

    @property
    def complete(self) -> bool:
        return self.lessons_total > 0 and self.lessons_done >= self.lessons_total and self.labs_passed >= self.labs_total

    @property
    def share(self) -> float:
        total = self.lessons_total + self.labs_total
        return (self.lessons_done + self.labs_passed) / total if total else 0.0


def tracks(session: Session, organization_id: int | None) -> list[Track]:
    """The tracks this organisation's people see: bundled ones first, then its own."""
    # Counting and ordering need neither lesson bodies nor self-checks (loaded when a page shows them).
    return list(session.scalars(select(Track).where(visibility.visible(organization_id)).order_by(
        Track.organization_id.is_not(None), Track.position, Track.code).options(
        selectinload(Track.domains),
        selectinload(Track.modules).selectinload(Module.lessons).defer(Lesson.body).defer(Lesson.self_check))))


def done_lessons(session: Session, user_id: int) -> set[int]:
    return set(session.scalars(select(LessonProgress.lesson_id).where(LessonProgress.user_id == user_id)))


def active_lessons(track: Track) -> list[Lesson]:
    return [lesson for module in track.modules if not module.retired for lesson in module.lessons if not lesson.retired]


def passed_labs(session: Session, user_id: int) -> set[int]:
    """Labs with a submitted run that reached the pass share of its points."""
    return set(session.scalars(select(LabRun.lab_id).where(
        LabRun.user_id == user_id, LabRun.state == "submitted", LabRun.score >= LabRun.max_score * LAB_PASS)))


def active_labs(session: Session) -> dict[int, list[Lab]]:
    labs: dict[int, list[Lab]] = {}
    # The spec (a large JSON document) is not needed to count and order labs: loaded on access.
    for lab in session.scalars(select(Lab).where(Lab.retired.is_(False)).order_by(Lab.position).options(defer(Lab.spec))):
        labs.setdefault(lab.track_id, []).append(lab)
    return labs


def statuses(session: Session, user_id: int) -> dict[str, TrackStatus]:
    done = done_lessons(session, user_id)
    passed = passed_labs(session, user_id)
    labs = active_labs(session)
    result = {}
    for track in tracks(session, visibility.organization_of(session, user_id)):
        lessons = active_lessons(track)
        track_labs = labs.get(track.id, [])
        result[track.code] = TrackStatus(track, len(lessons), sum(lesson.id in done for lesson in lessons), [],
                                         len(track_labs), sum(lab.id in passed for lab in track_labs))
    for status in result.values():
        status.locked_by = [code for code in status.track.requires if code in result and not result[code].complete]
    return result


def lock_reason(status: TrackStatus) -> str | None:
    if not status.locked_by:
        return None
    needed = " and ".join(status.locked_by)
    return (f"{status.track.code} opens when you have completed {needed}: "
            f"{status.track.code} builds on {'both' if len(status.locked_by) > 1 else 'it'}.")


def next_steps(session: Session, user_id: int, weakest_first: list[str] | None = None, limit: int = 3, *,
               known: dict[str, TrackStatus] | None = None) -> list:
    """The next unfinished lessons and labs (Lesson or Lab rows) in open tracks: the weakest domains
    first, then the track's order; within a domain, a module's next lesson before the domain's labs.
    `known` takes statuses the caller already computed for this request (the dashboard does)."""
    done, passed = done_lessons(session, user_id), passed_labs(session, user_id)
    rank = {key: n for n, key in enumerate(weakest_first or [])}
    labs = active_labs(session)
    candidates = []
    for code, status in (known or statuses(session, user_id)).items():
        if status.locked_by:
            continue
        for module in status.track.modules:
            if module.retired:
                continue
            pending = [lesson for lesson in module.lessons if not lesson.retired and lesson.id not in done]
            if pending:
                candidates.append(((rank.get(module.domain.key, len(rank)), status.track.position, 0, module.position),
                                   pending[0]))
        for lab in labs.get(status.track.id, []):
            if lab.id not in passed:
                candidates.append(((rank.get(lab.domain.key, len(rank)), status.track.position, 1, lab.position), lab))
    return [item for _, item in sorted(candidates, key=lambda c: c[0])[:limit]]


@dataclass
class SelfCheckResult:
    question: dict
    response: object
    correct: bool
    correct_answer: str
    error: str | None = None


def complete_lesson(session: Session, user_id: int, lesson: Lesson, answers: dict[str, list[str]],
                    now: datetime) -> list[SelfCheckResult]:
    """Mark the self-check and record the lesson (its current version) as done for this trainee."""
    results = []
    for item in lesson.self_check:
        try:
            response = scoring.parse_response(item, answers.get(item["id"], []))
            correct = scoring.is_correct(item, response)
            results.append(SelfCheckResult(item, response, correct, scoring.describe_answer(item)))
        except scoring.ResponseError as exc:
            results.append(SelfCheckResult(item, None, False, scoring.describe_answer(item), str(exc)))
    progress = session.scalar(select(LessonProgress).where(LessonProgress.user_id == user_id,
                                                           LessonProgress.lesson_id == lesson.id))
    if progress is None:
        progress = LessonProgress(user_id=user_id, lesson_id=lesson.id, lesson_version=lesson.version)
        session.add(progress)
    progress.lesson_version, progress.completed_at = lesson.version, now
    progress.self_check_correct = sum(r.correct for r in results)
    progress.self_check_total = len(results)
    return results


def public_self_check(lesson: Lesson) -> list[dict]:
    return [questions.public(item) for item in lesson.self_check]
