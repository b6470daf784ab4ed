"""Practice and review: one question at a time, feedback right after each answer."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from academy.exams import questions, review, scoring
from academy.exams.selection import pick_practice
from academy.models import Attempt, Domain, QuestionReport, QuestionVersion, Track

MAX_SECONDS = 3600  # time on one question beyond an hour is time away from the screen


@dataclass
class Feedback:
    question: dict
    response: object
    correct: bool
    correct_answer: str


def history(session: Session, user_id: int, track_id: int) -> dict[int, tuple[int, int]]:
    rows = session.execute(
        select(Attempt.question_id, func.count(), func.sum(case((Attempt.correct, 1), else_=0)))
        .join(Domain, Domain.id == Attempt.domain_id)
        .where(Attempt.user_id == user_id, Domain.track_id == track_id).group_by(Attempt.question_id))
    return {qid: (n, int(right or 0)) for qid, n, right in rows}


def next_question(session: Session, user_id: int, track: Track, domain_ids: list[int] | None,
                  rng: random.Random, exclude_version: int | None = None) -> dict | None:
    """The next practice question for this trainee, as a public dict (no answer)."""
    candidates = questions.candidates(session, track.id, domain_ids)
    exclude = session.get(QuestionVersion, exclude_version).question_id if exclude_version else None
    chosen = pick_practice(candidates, history(session, user_id, track.id), rng, exclude=exclude)
    if chosen is None:
        return None
    return questions.public(questions.as_dict(session.get(QuestionVersion, chosen.version_id)))


def answer(session: Session, user_id: int, version: QuestionVersion, values: list[str], *,
           confidence: int | None, seconds: int, now: datetime, mode: str = "practice") -> Feedback:
    """Mark an answer, store the attempt, reschedule the review card. Raises scoring.ResponseError."""
    question = questions.as_dict(version)
    response = scoring.parse_response(question, values)
    correct = scoring.is_correct(question, response)
    session.add(Attempt(user_id=user_id, question_id=version.question_id, question_version_id=version.id,
                        domain_id=version.question.domain_id, mode=mode, response=response, correct=correct,
                        confidence=confidence if confidence in (1, 2, 3) else None,
                        seconds=max(0, min(seconds, MAX_SECONDS)), answered_at=now))
    review.record(session, user_id, version.question_id, correct, confidence, now)
    return Feedback(question, response, correct, scoring.describe_answer(question))


def report_problem(session: Session, user_id: int, version: QuestionVersion, message: str) -> QuestionReport:
    message = (message or "").strip()
    if not 5 <= len(message) <= 2000:
        raise scoring.ResponseError("Describe the problem in 5 to 2,000 characters.")
    report = QuestionReport(user_id=user_id, question_id=version.question_id,
                            question_version_id=version.id, message=message)
    session.add(report)
    return report
