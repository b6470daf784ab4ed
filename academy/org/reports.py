"""A cohort's report: completion over time, mastery per domain and lab scores, for charts and CSV."""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from academy.exams import standing
from academy.learn import progress
from academy.models import Cohort, Lab, LabRun, LessonProgress


@dataclass
class CohortReport:
    weeks: list[tuple[date, int]]                      # week start, lessons completed that week
    mastery: dict[str, list[tuple[str, float]]]        # track code -> (domain title, mean mastery)
    labs: list[tuple[str, float, int]] = field(default_factory=list)  # lab title, mean best share, trainees


def build(session: Session, cohort: Cohort, today: date, weeks: int = 12) -> CohortReport:
    trainees = [m.user for m in cohort.members if not m.as_instructor]
    ids = [t.id for t in trainees]
    start = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    per_week: Counter = Counter()
    if ids:
        since = datetime.combine(start, time.min, tzinfo=timezone.utc)
        for (completed_at,) in session.execute(select(LessonProgress.completed_at).where(
                LessonProgress.user_id.in_(ids), LessonProgress.completed_at >= since)):
            day = completed_at.date()
            per_week[day - timedelta(days=day.weekday())] += 1
    series = [(start + timedelta(weeks=n), per_week[start + timedelta(weeks=n)]) for n in range(weeks)]
    mastery: dict[str, list[tuple[str, float]]] = {}
    for track in progress.tracks(session, cohort.organization_id):
        sums: dict[str, float] = defaultdict(float)
        for trainee in trainees:
            for key, estimate in standing.masteries(session, trainee.id, track).items():
                sums[key] += estimate.mean
        if trainees:
            mastery[track.code] = [(d.title, sums[d.key] / len(trainees)) for d in track.domains]
    labs = []
    if ids:
        rows = session.execute(select(Lab.title, LabRun.user_id, func.max(LabRun.score * 1.0 / LabRun.max_score))
                               .join(Lab, Lab.id == LabRun.lab_id)
                               .where(LabRun.user_id.in_(ids), LabRun.state == "submitted", LabRun.max_score > 0)
                               .group_by(Lab.title, LabRun.user_id)).all()
        best: dict[str, list[float]] = defaultdict(list)
        for title, _, share in rows:
            best[title].append(float(share))
        labs = sorted(((title, sum(v) / len(v), len(v)) for title, v in best.items()), key=lambda r: r[1])
    return CohortReport(series, mastery, labs)
