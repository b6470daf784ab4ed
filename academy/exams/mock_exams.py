"""Timed mock exams: assembled on the blueprint, timed and closed by the server, submitted once.

Integrity rules kept here, not in the views:
- the server picks the questions and the deadline; the browser only shows them;
- an answer is saved only while the exam is open (row-locked against a concurrent submission);
- an exam past its deadline is submitted as of its deadline, by whichever request notices first or by
  the sweeper (`expire_overdue`), even if the trainee closed the browser;
- submission is claimed with one conditional UPDATE, so two tabs or a double click grade it once.
"""
from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from academy.exams import questions, review, scoring
from academy.exams.selection import assemble
from academy.lti import scores as lti_scores
from academy.models import Attempt, ExamItem, ExamSession, QuestionVersion, Track

GRACE = timedelta(seconds=5)  # an answer sent in the last seconds may arrive just after the deadline


class ExamClosed(Exception):
    """The exam no longer takes answers (submitted, or past its deadline)."""


def start(session: Session, user_id: int, track: Track, now: datetime, *, form: str | None = None,
          length: int | None = None, minutes: int | None = None) -> ExamSession:
    """Assemble and open a mock exam. `form` fixes the draw (the same form gives the same questions)."""
    form = form or secrets.token_hex(8)
    weights = {d.key: d.weight for d in track.domains}
    seen = set(session.scalars(select(Attempt.question_id).where(Attempt.user_id == user_id, Attempt.mode == "exam")))
    drawn = assemble(questions.candidates(session, track.id), weights, length or track.exam_length,
                     random.Random(f"{track.code}:{form}"), avoid=seen if not form.startswith("fixed:") else set())
    domain_ids = {d.key: d.id for d in track.domains}
    exam = ExamSession(user_id=user_id, track=track, form=form, started_at=now,
                       deadline=now + timedelta(minutes=minutes or track.exam_minutes), pass_mark=track.pass_mark)
    exam.items = [ExamItem(position=n, question_version_id=c.version_id, domain_id=domain_ids[c.domain])
                  for n, c in enumerate(drawn, start=1)]
    session.add(exam)
    session.flush()
    return exam


def owned(session: Session, user_id: int, exam_id: int) -> ExamSession | None:
    """The exam, if it is this user's; None otherwise (the caller answers 404, revealing nothing)."""
    exam = session.get(ExamSession, exam_id)
    return exam if exam is not None and exam.user_id == user_id else None


def is_open(exam: ExamSession, now: datetime) -> bool:
    return exam.submitted_at is None and now <= exam.deadline + GRACE


def save_answer(session: Session, exam: ExamSession, position: int, values: list[str] | None, *,
                flagged: bool, seconds: int, now: datetime) -> ExamItem:
    """Store (or clear, with values None/empty) the answer to one item. Raises ExamClosed, ResponseError."""
    session.execute(select(ExamSession.id).where(ExamSession.id == exam.id).with_for_update())
    session.refresh(exam)
    if not is_open(exam, now):
        raise ExamClosed()
    item = next((i for i in exam.items if i.position == position), None)
    if item is None:
        raise LookupError(position)
    if values and any(v.strip() for v in values):
        item.response = scoring.parse_response(questions.as_dict(item.version), values)
    elif values is not None:
        item.response = None
    item.flagged = flagged
    item.seconds += max(0, min(seconds, int((exam.deadline - exam.started_at).total_seconds())))
    return item


def submit(session: Session, exam: ExamSession, now: datetime, *, by: str = "trainee") -> bool:
    """Grade and close the exam. Returns False when it was already submitted (nothing changes)."""
    submitted_at = min(now, exam.deadline) if by == "deadline" else now
    claimed = session.execute(update(ExamSession).where(ExamSession.id == exam.id, ExamSession.submitted_at.is_(None))
                              .values(submitted_at=submitted_at, submitted_by=by)).rowcount
    if claimed != 1:
        session.refresh(exam)
        return False
    session.refresh(exam)
    items = session.scalars(select(ExamItem).where(ExamItem.session_id == exam.id).options(
        selectinload(ExamItem.version).selectinload(QuestionVersion.question))).all()
    right = 0
    for item in items:
        item.correct = scoring.is_correct({"type": item.version.type, "answer": item.version.answer}, item.response)
        right += item.correct
        session.add(Attempt(user_id=exam.user_id, question_id=item.version.question_id,
                            question_version_id=item.question_version_id, domain_id=item.domain_id, mode="exam",
                            exam_item_id=item.id, response=item.response, correct=item.correct,
                            seconds=item.seconds, answered_at=submitted_at))
    review.record_many(session, exam.user_id, [(i.version.question_id, i.correct) for i in items], submitted_at)
    exam.score = right / len(items) if items else 0.0
    exam.passed = exam.score >= exam.pass_mark
    lti_scores.queue_for_exam(session, exam, now)  # for an exam opened by an LMS launch, the score goes back
    return True


def close_if_overdue(session: Session, exam: ExamSession, now: datetime) -> bool:
    if exam.submitted_at is None and now > exam.deadline + GRACE:
        return submit(session, exam, now, by="deadline")
    return False


def expire_overdue(session: Session, now: datetime) -> int:
    """Submit every exam whose deadline has passed (the sweeper; also `flask exams expire`)."""
    overdue = session.scalars(select(ExamSession).where(ExamSession.submitted_at.is_(None),
                                                        ExamSession.deadline < now - GRACE)).all()
    closed = 0
    for exam in overdue:
        closed += submit(session, exam, now, by="deadline")
        session.commit()
    return closed


def expire_overdue_for(session: Session, user_id: int, now: datetime) -> int:
    """The same, for one trainee's exams (run whenever they open their exam list)."""
    overdue = session.scalars(select(ExamSession).where(ExamSession.user_id == user_id,
                                                        ExamSession.submitted_at.is_(None),
                                                        ExamSession.deadline < now - GRACE)).all()
    return sum(submit(session, exam, now, by="deadline") for exam in overdue)


@dataclass
class DomainResult:
    title: str
    right: int = 0
    total: int = 0

    @property
    def share(self) -> float:
        return self.right / self.total if self.total else 0.0


@dataclass
class Results:
    exam: ExamSession
    right: int
    total: int
    domains: list[DomainResult] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)


def results(session: Session, exam: ExamSession) -> Results:
    """Everything the results page shows; only for a submitted exam."""
    exam = session.scalar(select(ExamSession).where(ExamSession.id == exam.id).options(
        selectinload(ExamSession.items).selectinload(ExamItem.version),
        selectinload(ExamSession.items).selectinload(ExamItem.domain)))
    by_domain: dict[int, DomainResult] = {}
    items = []
    for item in exam.items:
        domain = by_domain.setdefault(item.domain_id, DomainResult(item.domain.title))
        domain.total += 1
        domain.right += bool(item.correct)
        question = questions.as_dict(item.version)
        items.append({"position": item.position, "question": question, "response": item.response,
                      "correct": bool(item.correct), "seconds": item.seconds, "flagged": item.flagged,
                      "domain": item.domain.title, "correct_answer": scoring.describe_answer(question)})
    right = sum(d.right for d in by_domain.values())
    ordered = sorted(by_domain.values(), key=lambda d: d.share)
    return Results(exam, right, len(exam.items), ordered, items)
