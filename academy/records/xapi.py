"""Learning records as xAPI statements (xAPI 1.0.3): actor, verb, object, result, timestamp.

Statement ids are UUIDs derived from what they record, so sending the same record twice to a learning
record store is recognised as the same statement.
"""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from academy.models import ExamSession, LabRun, Lesson, LessonProgress, User

NAMESPACE = uuid.UUID("9b3d4c1e-0f6a-4c5e-8a7b-2d1f0e6c5a44")  # this platform's own namespace for statement ids
VERBS = {
    "completed": "http://adlnet.gov/expapi/verbs/completed",
    "passed": "http://adlnet.gov/expapi/verbs/passed",
    "failed": "http://adlnet.gov/expapi/verbs/failed",
}
ACTIVITY_TYPES = {
    "lesson": "http://adlnet.gov/expapi/activities/lesson",
    "lab": "http://adlnet.gov/expapi/activities/simulation",
    "exam": "http://adlnet.gov/expapi/activities/assessment",
}


def _duration(seconds: int) -> str:
    """ISO 8601 duration, as xAPI's result.duration requires."""
    minutes, seconds = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"PT{hours}H{minutes}M{seconds}S"


def _statement(key: str, user: User, verb: str, activity_id: str, name: str, kind: str, when, result: dict) -> dict:
    return {
        "id": str(uuid.uuid5(NAMESPACE, key)),
        "actor": {"objectType": "Agent", "name": user.display_name, "mbox": f"mailto:{user.email}"},
        "verb": {"id": VERBS[verb], "display": {"en-US": verb}},
        "object": {"objectType": "Activity", "id": activity_id,
                   "definition": {"name": {"en-US": name}, "type": ACTIVITY_TYPES[kind]}},
        "result": result,
        "timestamp": when.isoformat(),
    }


def statements(session: Session, user: User, base_url: str) -> list[dict]:
    """Every lesson completed, lab run submitted and mock exam submitted by this user."""
    out = []
    for record, lesson in session.execute(select(LessonProgress, Lesson).join(Lesson, Lesson.id == LessonProgress.lesson_id)
                                          .where(LessonProgress.user_id == user.id)):
        module = lesson.module
        url = f"{base_url}/tracks/{module.track.code}/modules/{module.key}/lessons/{lesson.key}"
        result = {"completion": True}
        if record.self_check_total:
            result["score"] = {"scaled": round(record.self_check_correct / record.self_check_total, 4),
                               "raw": record.self_check_correct, "min": 0, "max": record.self_check_total}
        out.append(_statement(f"lesson:{user.id}:{lesson.id}:{lesson.version}", user, "completed", url, lesson.title,
                              "lesson", record.completed_at, result))
    for run in session.scalars(select(LabRun).where(LabRun.user_id == user.id, LabRun.state == "submitted")):
        success = run.max_score > 0 and run.score >= 0.7 * run.max_score
        out.append(_statement(f"lab:{run.id}", user, "passed" if success else "failed", f"{base_url}/labs/{run.lab.key}",
                              run.lab.title, "lab", run.finished_at,
                              {"score": {"scaled": round(run.score / run.max_score, 4) if run.max_score else 0,
                                         "raw": run.score, "min": 0, "max": run.max_score},
                               "success": success, "completion": True, "duration": _duration(run.seconds)}))
    for exam in session.scalars(select(ExamSession).where(ExamSession.user_id == user.id, ExamSession.submitted_at.is_not(None))):
        total = len(exam.items)
        out.append(_statement(f"exam:{exam.id}", user, "passed" if exam.passed else "failed",
                              f"{base_url}/exams/{exam.track.code}", f"{exam.track.code} mock exam", "exam", exam.submitted_at,
                              {"score": {"scaled": round(exam.score, 4), "raw": round(exam.score * total), "min": 0, "max": total},
                               "success": bool(exam.passed), "completion": True,
                               "duration": _duration((exam.submitted_at - exam.started_at).total_seconds())}))
    return sorted(out, key=lambda s: s["timestamp"])
