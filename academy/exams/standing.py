"""A trainee's standing in a track: mastery per domain and exam readiness, from stored attempts."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from academy.exams.mastery import Estimate, Readiness, domain_mastery, readiness
from academy.models import Attempt, Domain, QuestionVersion, Track


def masteries(session: Session, user_id: int, track: Track) -> dict[str, Estimate]:
    rows = session.execute(
        select(Domain.key, Attempt.correct, QuestionVersion.difficulty)
        .join(Domain, Domain.id == Attempt.domain_id)
        .join(QuestionVersion, QuestionVersion.id == Attempt.question_version_id)
        .where(Attempt.user_id == user_id, Domain.track_id == track.id)
        .order_by(Attempt.answered_at.desc(), Attempt.id.desc()))
    answers: dict[str, list[tuple[bool, int]]] = defaultdict(list)
    for key, correct, difficulty in rows:
        answers[key].append((correct, difficulty))
    return {d.key: domain_mastery(answers.get(d.key, [])) for d in track.domains}


def track_readiness(session: Session, user_id: int, track: Track,
                    estimates: dict[str, Estimate] | None = None) -> Readiness:
    estimates = estimates or masteries(session, user_id, track)
    return readiness(estimates, {d.key: d.weight for d in track.domains}, track.pass_mark, track.exam_length)


def by_track(session: Session, user_id: int, tracks: list[Track]) -> list[tuple[Track, dict[str, Estimate], Readiness]]:
    """Mastery per domain and readiness, for each of `tracks`."""
    rows = []
    for track in tracks:
        estimates = masteries(session, user_id, track)
        rows.append((track, estimates, track_readiness(session, user_id, track, estimates)))
    return rows


def open_tracks_readiness(session: Session, user_id: int, tracks: list[Track]) -> tuple[dict[str, Readiness], list[str]]:
    """Readiness per track, and the two weakest answered domains of each (for "what next")."""
    readiness_by_track, weakest = {}, []
    for track, estimates, ready in by_track(session, user_id, tracks):
        readiness_by_track[track.code] = ready
        if any(e.answers for e in estimates.values()):
            weakest += sorted(estimates, key=lambda key: estimates[key].mean)[:2]
    return readiness_by_track, weakest


def weakest_domains(session: Session, user_id: int, track: Track, count: int = 2) -> list[Domain]:
    estimates = masteries(session, user_id, track)
    return sorted(track.domains, key=lambda d: (estimates[d.key].mean, -d.weight))[:count]
