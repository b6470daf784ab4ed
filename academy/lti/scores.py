"""Grade passback (LTI AGS 2.0 score service): queue a score when a launched lab run or mock exam is
submitted, and post it to the platform's line item with pylti1p3, retrying with growing waits.

Queueing happens in the submission's own transaction, in a savepoint, so a score exists exactly when the
submission does and a failure here never undoes the trainee's work. Sending happens after the response
(`send_soon`) and in the maintenance round; a row is claimed with a conditional UPDATE before it is sent,
so two instances or rounds never post it twice at the same time.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from flask import Flask, current_app, g, has_request_context
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.service_connector import ServiceConnector
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from academy.lti import tool
from academy.models import ExamSession, LabRun, LtiLaunch, LtiScore

log = logging.getLogger(__name__)
BATCH = 50
LEASE = timedelta(minutes=2)  # a claimed row is due again after this if its sender died mid-way
SEND_NOW_TIMEOUT = 5  # seconds, for the attempt right after a submission
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"  # LTI AGS 2.0 §3.1


def _launches(session: Session, **where) -> list[LtiLaunch]:
    """The newest launch per line item among those matching `where` that can take a score."""
    rows = session.scalars(select(LtiLaunch).filter_by(**where).where(LtiLaunch.lineitem_url != "")
                           .order_by(LtiLaunch.launched_at.desc(), LtiLaunch.id.desc())).all()
    newest = {}
    for launch in rows:
        if SCORE_SCOPE in (launch.scopes or []):
            newest.setdefault((launch.registration_id, launch.lineitem_url), launch)
    return list(newest.values())


def _queue(session: Session, launches: list[LtiLaunch], source: str, given: float, maximum: float,
           at: datetime, now: datetime) -> list[int]:
    ids = []
    for launch in launches:
        exists = session.scalar(select(LtiScore.id).where(LtiScore.launch_id == launch.id, LtiScore.source == source))
        if exists is None:
            row = LtiScore(launch_id=launch.id, source=source, score_given=given, score_maximum=maximum,
                           timestamp=at, next_attempt_at=now)
            session.add(row)
            session.flush()
            ids.append(row.id)
    return ids


def _guarded(session: Session, queue) -> None:
    """Run `queue` in a savepoint; whatever goes wrong is logged and the submission goes on."""
    try:
        with session.begin_nested():
            ids = queue()
    except Exception:  # noqa: BLE001 - grade passback must never break a trainee's submission
        log.exception("LTI score could not be queued; the submission stands")
        return
    if ids and has_request_context():
        g.setdefault("lti_scores", []).extend(ids)


def queue_for_run(session: Session, run: LabRun, now: datetime) -> None:
    """Called when a lab run is submitted: its final score for every LMS link the trainee launched it from."""
    def queue():
        launches = _launches(session, user_id=run.user_id, kind="lab", target=run.lab.key)
        return _queue(session, launches, f"run:{run.id}", float(run.score or 0), float(run.max_score),
                      run.finished_at or now, now)
    _guarded(session, queue)


def queue_for_exam(session: Session, exam: ExamSession, now: datetime) -> None:
    """Called when a mock exam is submitted (by the trainee or at its deadline): right answers of all."""
    def queue():
        total = len(exam.items)
        return _queue(session, _launches(session, exam_session_id=exam.id), f"exam:{exam.id}",
                      float(round((exam.score or 0) * total)), float(total), exam.submitted_at or now, now)
    _guarded(session, queue)


def _timestamp(at: datetime) -> str:
    # AGS 2.0 §3.4.3 (timestamp): ISO 8601 with sub-second precision and a time zone.
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def grade_of(row: LtiScore) -> Grade:
    """The score as AGS 2.0 §3.4 defines it; userId is the platform's `sub` of the launch."""
    return (Grade().set_score_given(row.score_given).set_score_maximum(row.score_maximum)
            .set_activity_progress("Completed").set_grading_progress("FullyGraded")
            .set_timestamp(_timestamp(row.timestamp)).set_user_id(row.launch.subject))


def _claim(session: Session, row_id: int, now: datetime) -> bool:
    claimed = session.execute(update(LtiScore).where(LtiScore.id == row_id, LtiScore.state == "pending",
                                                     LtiScore.next_attempt_at <= now)
                              .values(next_attempt_at=now + LEASE)).rowcount
    session.commit()
    return claimed == 1


def _reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if response is not None:  # the platform's status, not its body (which may echo what we sent)
        return f"the platform answered HTTP {response.status_code}"
    return (exc.__class__.__name__ + ": " + str(exc))[:300]


def send_due(session: Session, now: datetime, *, ids: list[int] | None = None,
             timeout: float = tool.HTTP_TIMEOUT) -> tuple[int, int]:
    """Post due scores (only `ids` when given); returns (sent, failed)."""
    query = select(LtiScore.id).where(LtiScore.state == "pending", LtiScore.next_attempt_at <= now)
    if ids is not None:
        query = query.where(LtiScore.id.in_(ids))
    due = session.scalars(query.order_by(LtiScore.id).limit(BATCH)).all()
    http, connectors, sent, failed = tool.TimeoutSession(timeout), {}, 0, 0
    for row_id in due:
        if not _claim(session, row_id, now):
            continue  # another instance or round has it
        row = session.get(LtiScore, row_id)
        launch = row.launch
        connector = connectors.setdefault(launch.registration_id,
                                          ServiceConnector(tool.ToolRegistration(launch.registration), http))
        try:
            # AGS 2.0 §3.4: POST the score to <lineitem>/scores with an access token for the score scope.
            AssignmentsGradesService(connector, {"scope": launch.scopes, "lineitem": launch.lineitem_url}) \
                .put_grade(grade_of(row))
        except Exception as exc:  # noqa: BLE001 - whatever failed (network, token, platform), retry later
            row.attempts += 1
            row.last_error = _reason(exc)
            row.next_attempt_at = now + timedelta(minutes=min(2 ** row.attempts, 24 * 60))
            failed += 1
            log.warning("LTI score %s for launch %s not delivered (%s); retry after %s", row.id, launch.id,
                        row.last_error, row.next_attempt_at.isoformat())
        else:
            row.state, row.last_error, row.sent_at = "sent", "", now
            row.attempts += 1
            sent += 1
        session.commit()
    return sent, failed


def run(session: Session, now: datetime) -> dict:
    """The maintenance round's part: send what is due and forget abandoned logins."""
    from academy.lti.storage import purge_expired

    sent, failed = send_due(session, now)
    purge_expired(session, now)
    return {"scores_sent": sent, "scores_failed": failed}


def _send_after_response(app: Flask, ids: list[int]) -> None:
    from academy import clock
    from academy.extensions import db

    with app.app_context():
        try:
            send_due(db.session, clock.now(), ids=ids, timeout=SEND_NOW_TIMEOUT)
        except Exception:  # noqa: BLE001 - the maintenance round retries; the trainee has their page already
            log.exception("LTI scores %s: the attempt after the submission failed", ids)
        finally:
            db.session.remove()


def send_soon(response):
    """after_request: once the response has gone out, try the scores this request queued (and committed)."""
    ids = g.pop("lti_scores", None)
    if ids:
        response.call_on_close(partial(_send_after_response, current_app._get_current_object(), ids))
    return response


def summary(session: Session, registration_ids: list[int]) -> dict[int, dict]:
    """Per registration: scores sent, waiting, and the last delivery error (for the org admin's page)."""
    out = {rid: {"sent": 0, "pending": 0, "last_error": ""} for rid in registration_ids}
    if not registration_ids:
        return out
    rows = session.execute(select(LtiLaunch.registration_id, LtiScore.state, LtiScore.last_error)
                           .join(LtiLaunch, LtiLaunch.id == LtiScore.launch_id)
                           .where(LtiLaunch.registration_id.in_(registration_ids)).order_by(LtiScore.id)).all()
    for registration_id, state, error in rows:
        entry = out[registration_id]
        entry[state] = entry.get(state, 0) + 1
        if state == "pending" and error:
            entry["last_error"] = error
    return out
