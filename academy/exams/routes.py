"""Exam prep pages: practice, spaced review, mock exams, standing, and item analysis for instructors.

Views parse input, call the services in this package, and render. Answers and explanations reach the
page only after the trainee has answered (questions.public strips them before).
"""
from __future__ import annotations

import random
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select

from academy import audit, clock
from academy.access import ANY_ROLE, INSTRUCTOR, ORG_ADMIN, current_organization_id, role_required
from academy.auth.forms import EmptyForm, require_valid_post
from academy.content import visibility
from academy.exams import item_report, mock_exams, practice as practice_service, questions, review as review_service
from academy.exams import scoring, standing as standing_service
from academy.exams.selection import AssemblyError
from academy.extensions import db
from academy.learn import progress
from academy.navigation import local_path
from academy.org.service import visible_trainee_ids
from academy.models import ExamSession, QuestionVersion, Track

bp = Blueprint("exams", __name__)


def _open_track(code: str) -> Track:
    """The track, if it exists and is not locked for this trainee."""
    track = visibility.track_by_code(db.session, code, current_organization_id())
    if track is None:
        abort(404)
    status = progress.statuses(db.session, current_user.id)[code]
    if status.locked_by:
        abort(403, progress.lock_reason(status))
    return track


def _seconds_since(key: str, version_id: int) -> int:
    shown = session.pop(key, None)
    if not shown or shown.get("version") != version_id:
        return 0
    return max(0, int((clock.now() - datetime.fromisoformat(shown["at"])).total_seconds()))


def _confidence() -> int | None:
    value = request.form.get("confidence", "")
    return int(value) if value in ("1", "2", "3") else None


# --- practice ---------------------------------------------------------------------------------

@bp.get("/practice")
@role_required(*ANY_ROLE)
def practice_home():
    statuses = progress.statuses(db.session, current_user.id)
    return render_template("exams/practice_home.html", statuses=statuses)


def _practice_scope(track: Track) -> tuple[list[int] | None, str]:
    if request.values.get("weakest"):
        weakest = standing_service.weakest_domains(db.session, current_user.id, track)
        return [d.id for d in weakest], "your weakest domains: " + ", ".join(d.title for d in weakest)
    keys = request.values.getlist("domain")
    domains = [d for d in track.domains if d.key in keys]
    if keys and len(domains) != len(set(keys)):
        abort(400, "One of the chosen domains is not a domain of this track.")
    return ([d.id for d in domains] or None), (", ".join(d.title for d in domains) or "all domains")


@bp.get("/practice/<code>")
@role_required(*ANY_ROLE)
def practice(code: str):
    track = _open_track(code)
    domain_ids, scope = _practice_scope(track)
    after = request.args.get("after", type=int)
    question = practice_service.next_question(db.session, current_user.id, track, domain_ids, random.Random(), after)
    if question is None:
        flash("There are no questions in that selection yet.", "warning")
        return redirect(url_for("exams.practice_home"))
    session["practice_shown"] = {"version": question["version_id"], "at": clock.now().isoformat()}
    return render_template("exams/practice_question.html", track=track, q=question, scope=scope, form=EmptyForm(),
                           filters=request.args.to_dict(flat=False))


@bp.post("/practice/<code>/answer")
@role_required(*ANY_ROLE)
def practice_answer(code: str):
    track = _open_track(code)
    require_valid_post()
    version = questions.answerable_version(db.session, request.form.get("version_id", type=int) or 0, track.id)
    if version is None:
        abort(404)
    try:
        result = practice_service.answer(
            db.session, current_user.id, version, request.form.getlist("answer"), confidence=_confidence(),
            seconds=_seconds_since("practice_shown", version.id), now=clock.now())
    except scoring.ResponseError as exc:
        db.session.rollback()
        question = questions.public(questions.as_dict(version))
        return render_template("exams/practice_question.html", track=track, q=question, scope="", form=EmptyForm(),
                               error=str(exc), filters=_filters_from_form()), 400
    db.session.commit()
    return render_template("exams/practice_feedback.html", track=track, result=result, form=EmptyForm(),
                           next_url=url_for("exams.practice", code=code, after=version.id, **_filters_from_form()))


def _filters_from_form() -> dict:
    filters = {}
    if request.form.getlist("domain"):
        filters["domain"] = request.form.getlist("domain")
    if request.form.get("weakest"):
        filters["weakest"] = "1"
    return filters


@bp.post("/questions/<int:version_id>/flag")
@role_required(*ANY_ROLE)
def flag_question(version_id: int):
    version = db.session.get(QuestionVersion, version_id)
    if version is None or not EmptyForm().validate_on_submit():
        abort(404 if version is None else 400)
    review_service.flag(db.session, current_user.id, version.question_id, clock.now())
    db.session.commit()
    flash("The question is in your review for today.", "success")
    return redirect(local_path(request.form.get("next")) or url_for("learn.dashboard"))


@bp.post("/questions/<int:version_id>/report")
@role_required(*ANY_ROLE)
def report_question(version_id: int):
    version = db.session.get(QuestionVersion, version_id)
    if version is None or not EmptyForm().validate_on_submit():
        abort(404 if version is None else 400)
    try:
        practice_service.report_problem(db.session, current_user.id, version, request.form.get("message", ""))
    except scoring.ResponseError as exc:
        flash(str(exc), "danger")
    else:
        db.session.commit()
        flash("Thank you: the instructors will look at this question.", "success")
    return redirect(local_path(request.form.get("next")) or url_for("learn.dashboard"))


# --- spaced review -------------------------------------------------------------------------

@bp.get("/review")
@role_required(*ANY_ROLE)
def review():
    card = review_service.next_due(db.session, current_user.id, clock.now())
    if card is None:
        return render_template("exams/review_done.html")
    version = card.question.current
    question = questions.public(questions.as_dict(version))
    session["review_shown"] = {"version": version.id, "at": clock.now().isoformat()}
    return render_template("exams/review_question.html", q=question, form=EmptyForm(),
                           due=review_service.due_count(db.session, current_user.id, clock.now()),
                           track=card.question.track)


@bp.post("/review/answer")
@role_required(*ANY_ROLE)
def review_answer():
    require_valid_post()
    version = db.session.get(QuestionVersion, request.form.get("version_id", type=int) or 0)
    if version is None or version.question.retired:
        abort(404)
    try:
        result = practice_service.answer(db.session, current_user.id, version, request.form.getlist("answer"),
                                         confidence=_confidence(), seconds=_seconds_since("review_shown", version.id),
                                         now=clock.now(), mode="review")
    except scoring.ResponseError as exc:
        flash(str(exc), "danger")
        return redirect(url_for("exams.review"))
    db.session.commit()
    return render_template("exams/practice_feedback.html", track=version.question.track, result=result,
                           form=EmptyForm(), next_url=url_for("exams.review"))


# --- mock exams ----------------------------------------------------------------------------

def _exam_or_404(exam_id: int) -> ExamSession:
    exam = mock_exams.owned(db.session, current_user.id, exam_id)
    if exam is None:
        abort(404)
    if mock_exams.close_if_overdue(db.session, exam, clock.now()):
        db.session.commit()
    return exam


@bp.get("/exams")
@role_required(*ANY_ROLE)
def exams_home():
    mock_exams.expire_overdue_for(db.session, current_user.id, clock.now())
    db.session.commit()
    past = db.session.scalars(select(ExamSession).where(ExamSession.user_id == current_user.id)
                              .order_by(ExamSession.started_at.desc()).limit(20)).all()
    return render_template("exams/exams_home.html", statuses=progress.statuses(db.session, current_user.id),
                           past=past, form=EmptyForm(), now=clock.now())


@bp.post("/exams/<code>/start")
@role_required(*ANY_ROLE)
def start_exam(code: str):
    track = _open_track(code)
    require_valid_post()
    try:
        exam = mock_exams.start(db.session, current_user.id, track, clock.now())
    except AssemblyError as exc:
        db.session.rollback()
        flash(f"The {code} bank cannot fill a mock exam yet: {exc}.", "danger")
        return redirect(url_for("exams.exams_home"))
    db.session.commit()
    return redirect(url_for("exams.exam_item", exam_id=exam.id, position=1))


@bp.get("/exams/<int:exam_id>/<int:position>")
@role_required(*ANY_ROLE)
def exam_item(exam_id: int, position: int):
    exam = _exam_or_404(exam_id)
    if exam.submitted_at is not None:
        return redirect(url_for("exams.exam_results", exam_id=exam.id))
    item = next((i for i in exam.items if i.position == position), None)
    if item is None:
        abort(404)
    session["exam_shown"] = {"version": item.question_version_id, "at": clock.now().isoformat()}
    return render_template("exams/exam_question.html", exam=exam, item=item, form=EmptyForm(),
                           q=questions.public(questions.as_dict(item.version)), now=clock.now())


@bp.post("/exams/<int:exam_id>/<int:position>")
@role_required(*ANY_ROLE)
def save_exam_item(exam_id: int, position: int):
    exam = _exam_or_404(exam_id)
    require_valid_post()
    item = next((i for i in exam.items if i.position == position), None)
    if item is None:
        abort(404)
    try:
        mock_exams.save_answer(db.session, exam, position, request.form.getlist("answer"),
                               flagged=bool(request.form.get("flagged")),
                               seconds=_seconds_since("exam_shown", item.question_version_id), now=clock.now())
    except mock_exams.ExamClosed:
        db.session.rollback()
        if mock_exams.close_if_overdue(db.session, exam, clock.now()):
            db.session.commit()
        flash("Time is up: the exam was submitted at its deadline, and later answers are not counted.", "warning")
        return redirect(url_for("exams.exam_results", exam_id=exam.id)), 303
    except scoring.ResponseError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("exams.exam_item", exam_id=exam.id, position=position))
    db.session.commit()
    go = request.form.get("go", "next")
    if go == "overview":
        return redirect(url_for("exams.exam_overview", exam_id=exam.id))
    target = position - 1 if go == "previous" else position + 1
    if go.isdigit():
        target = int(go)
    if not 1 <= target <= len(exam.items):
        return redirect(url_for("exams.exam_overview", exam_id=exam.id))
    return redirect(url_for("exams.exam_item", exam_id=exam.id, position=target))


@bp.get("/exams/<int:exam_id>")
@role_required(*ANY_ROLE)
def exam_overview(exam_id: int):
    exam = _exam_or_404(exam_id)
    if exam.submitted_at is not None:
        return redirect(url_for("exams.exam_results", exam_id=exam.id))
    return render_template("exams/exam_overview.html", exam=exam, form=EmptyForm(), now=clock.now())


@bp.post("/exams/<int:exam_id>/submit")
@role_required(*ANY_ROLE)
def submit_exam(exam_id: int):
    exam = _exam_or_404(exam_id)
    require_valid_post()
    if mock_exams.submit(db.session, exam, clock.now()):
        audit.record("exam.submitted", f"exam {exam.id}", track=exam.track.code)
        db.session.commit()
    return redirect(url_for("exams.exam_results", exam_id=exam.id))


@bp.get("/exams/<int:exam_id>/results")
@role_required(*ANY_ROLE)
def exam_results(exam_id: int):
    exam = _exam_or_404(exam_id)
    if exam.submitted_at is None:
        return redirect(url_for("exams.exam_overview", exam_id=exam.id))
    return render_template("exams/exam_results.html", results=mock_exams.results(db.session, exam))


# --- standing and item analysis --------------------------------------------------------------

@bp.get("/standing")
@role_required(*ANY_ROLE)
def standing():
    open_tracks = [s.track for s in progress.statuses(db.session, current_user.id).values() if not s.locked_by]
    return render_template("exams/standing.html", rows=standing_service.by_track(db.session, current_user.id, open_tracks))


@bp.get("/instructor/items/<code>")
@role_required(INSTRUCTOR, ORG_ADMIN)
def item_analysis(code: str):
    track = visibility.track_by_code(db.session, code, current_organization_id())
    if track is None:
        abort(404)
    report = item_report.build(db.session, track, visible_trainee_ids(db.session, current_user))
    return render_template("exams/item_analysis.html", track=track, report=report)
