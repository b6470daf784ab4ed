"""Where a trainee stands in the curriculum: lessons done, modules and tracks complete, what is locked,
and what to do next."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from academy.exams import questions, scoring
from academy.models import Lesson, LessonProgress, Module, Track


@dataclass
class TrackStatus:
    track: Track
    lessons_total: int
    lessons_done: int
    locked_by: list[str]

    @property
    def complete(self) -> bool:
        return self.lessons_total > 0 and self.lessons_done >= self.lessons_total

    @property
    def share(self) -> float:
        return self.lessons_done / self.lessons_total if self.lessons_total else 0.0


def tracks(session: Session) -> list[Track]:
    return list(session.scalars(select(Track).order_by(Track.position).options(
        selectinload(Track.domains), selectinload(Track.modules).selectinload(Module.lessons))))


def done_lessons(session: Session, user_id: int) -> set[int]:
    return set(session.scalars(select(LessonProgress.lesson_id).where(LessonProgress.user_id == user_id)))


def active_lessons(track: Track) -> list[Lesson]:
    return [lesson for module in track.modules if not module.retired for lesson in module.lessons if not lesson.retired]


def statuses(session: Session, user_id: int) -> dict[str, TrackStatus]:
    done = done_lessons(session, user_id)
    result = {}
    for track in tracks(session):
        lessons = active_lessons(track)
        result[track.code] = TrackStatus(track, len(lessons), sum(lesson.id in done for lesson in lessons), [])
    for status in result.values():
        status.locked_by = [code for code in status.track.requires if code in result and not result[code].complete]
    return result


def lock_reason(status: TrackStatus) -> str | None:
    if not status.locked_by:
        return None
    return (f"{status.track.code} opens when you have completed {' and '.join(status.locked_by)}: "
            f"{status.track.code} builds on both.")


def next_steps(session: Session, user_id: int, weakest_first: list[str] | None = None, limit: int = 3) -> list[Lesson]:
    """The next unfinished lessons in open tracks; modules of the trainee's weakest domains come first."""
    done = done_lessons(session, user_id)
    rank = {key: n for n, key in enumerate(weakest_first or [])}
    candidates = []
    for code, status in statuses(session, user_id).items():
        if status.locked_by:
            continue
        for module in status.track.modules:
            if module.retired:
                continue
            pending = [lesson for lesson in module.lessons if not lesson.retired and lesson.id not in done]
            if pending:
                candidates.append(((rank.get(module.domain.key, len(rank)), status.track.position, module.position),
                                   pending[0]))
    return [lesson for _, lesson in sorted(candidates, key=lambda c: c[0])[:limit]]


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
