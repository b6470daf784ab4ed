"""Questions as the exam services see them: plain dicts, with or without what must stay secret."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from academy.exams.selection import Candidate
from academy.models import Domain, Question, QuestionVersion

SECRET_FIELDS = ("answer", "explanation", "references")


def as_dict(version: QuestionVersion) -> dict:
    return {"id": version.question.key, "version_id": version.id, "type": version.type,
            "difficulty": version.difficulty, "stem": version.stem, "exhibit": version.exhibit,
            "choices": version.choices, "answer": version.answer, "explanation": version.explanation,
            "references": version.references}


def public(question: dict) -> dict:
    """What a page may show before the trainee has answered: no answer, explanation or references."""
    return {key: value for key, value in question.items() if key not in SECRET_FIELDS}


def candidates(session: Session, track_id: int, domain_ids: list[int] | None = None) -> list[Candidate]:
    query = (select(Question.id, QuestionVersion.id, Domain.key, QuestionVersion.difficulty)
             .join(QuestionVersion, QuestionVersion.id == Question.current_version_id)
             .join(Domain, Domain.id == Question.domain_id)
             .where(Question.track_id == track_id, Question.retired.is_(False)))
    if domain_ids:
        query = query.where(Question.domain_id.in_(domain_ids))
    return [Candidate(*row) for row in session.execute(query)]


def answerable_version(session: Session, version_id: int, track_id: int) -> QuestionVersion | None:
    """A version a trainee may answer in this track: one of an active question of the track.

    Any version of the question is accepted, so a question edited while it was on screen is still
    marked against the version the trainee saw."""
    version = session.get(QuestionVersion, version_id)
    if version is None or version.question.retired or version.question.track_id != track_id:
        return None
    return version
