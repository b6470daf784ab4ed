"""Lab pages: the catalogue, a lab, a run (check my work, hints, reset, submit, abandon) and its trace."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from academy import audit, clock, sandbox_link
from academy.access import ANY_ROLE, current_organization_id, role_required
from academy.auth.forms import EmptyForm, require_valid_post
from academy.content import markdown, visibility
from academy.extensions import db
from academy.labs import placeholders, runs, service, trace
from academy.labs.workspace import connection, for_run
from academy.learn import progress
from academy.learn.links import resolver
from academy.models import Lab

bp = Blueprint("labs", __name__)


def _lab_or_404(key: str) -> Lab:
    lab = visibility.lab_by_key(db.session, key, current_organization_id())
    if lab is None:
        abort(404)
    return lab


@bp.get("/labs")
@role_required(*ANY_ROLE)
def catalogue():
    return render_template("labs/catalogue.html", catalogue=service.catalogue(db.session, current_user.id))


@bp.get("/labs/<key>")
@role_required(*ANY_ROLE)
def lab(key: str):
    lab = _lab_or_404(key)
    status = progress.statuses(db.session, current_user.id)[lab.track.code]
    runs_here = [r for r in db.session.scalars(select(runs.LabRun).where(
        runs.LabRun.user_id == current_user.id, runs.LabRun.lab_id == lab.id).order_by(runs.LabRun.started_at.desc()))]
    return render_template("labs/lab.html", lab=lab, runs=runs_here, form=EmptyForm(),
                           lock_reason=progress.lock_reason(status),
                           missing=service.unmet_prerequisites(db.session, current_user.id, lab),
                           score=service.score_of(lab, list(reversed(runs_here))))


@bp.post("/labs/<key>/start")
@role_required(*ANY_ROLE)
def start(key: str):
    lab = _lab_or_404(key)
    require_valid_post()
    status = progress.statuses(db.session, current_user.id)[lab.track.code]
    if status.locked_by:
        abort(403, progress.lock_reason(status))
    missing = service.unmet_prerequisites(db.session, current_user.id, lab)
    if missing:
        abort(403, "Finish these labs first: " + ", ".join(m.title for m in missing))
    try:
        run = runs.start(db.session, sandbox_link.get(), current_user.id, lab, clock.now(), connection)
    except runs.LabError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("labs.lab", key=key))
    db.session.commit()
    return redirect(url_for("labs.run", run_id=run.id))


@bp.get("/runs/<int:run_id>")
@role_required(*ANY_ROLE)
def run(run_id: int):
    ws = for_run(run_id, active=False)
    run = ws.run
    values = connection(run.partition_code).values
    instructions = markdown.render(placeholders.fill(run.spec["instructions"], values), resolver(run.lab.track.code))
    return render_template("labs/run.html", run=run, ws=ws, values=values, form=EmptyForm(),
                           instructions=instructions, results=service.latest_results(run),
                           questions=service.knowledge_checks(run.spec, values),
                           answers={a.check_id: a.value for a in run.answers},
                           hints={h.check_id for h in run.hints}, checks=service.shown_checks(run.spec, values))


@bp.post("/runs/<int:run_id>/check")
@role_required(*ANY_ROLE)
def check(run_id: int):
    run = for_run(run_id).run
    require_valid_post()
    try:
        runs.save_answers(db.session, run, {c["id"]: request.form.get(f"answer-{c['id']}", "")
                                            for c in service.knowledge_checks(run.spec)}, clock.now())
        grading = runs.grade(db.session, sandbox_link.get(), run, clock.now(), connection(run.partition_code))
    except runs.LabError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("labs.run", run_id=run.id))
    db.session.commit()
    flash(f"Checked: {grading.score} of {grading.max_score} points so far.", "info")
    return redirect(url_for("labs.run", run_id=run.id, _anchor="checks"))


@bp.post("/runs/<int:run_id>/hints/<check_id>")
@role_required(*ANY_ROLE)
def hint(run_id: int, check_id: str):
    run = for_run(run_id).run
    require_valid_post()
    try:
        runs.take_hint(db.session, run, check_id, clock.now())
    except runs.LabError as exc:
        abort(404, str(exc))
    db.session.commit()
    return redirect(url_for("labs.run", run_id=run.id, _anchor=f"check-{check_id}"))


@bp.post("/runs/<int:run_id>/reset")
@role_required(*ANY_ROLE)
def reset(run_id: int):
    run = for_run(run_id).run
    require_valid_post()
    runs.reset(db.session, sandbox_link.get(), run, connection(run.partition_code))
    db.session.commit()
    flash("Your partition is back to the lab's starting point.", "info")
    return redirect(url_for("labs.run", run_id=run.id))


@bp.post("/runs/<int:run_id>/submit")
@role_required(*ANY_ROLE)
def submit(run_id: int):
    ws = for_run(run_id, active=False)
    require_valid_post()
    if runs.submit(db.session, sandbox_link.get(), ws.run, clock.now(), connection(ws.code)):
        audit.record("lab.submitted", ws.run.lab.key, score=ws.run.score, max_score=ws.run.max_score)
        db.session.commit()
        flash(f"Submitted: {ws.run.score} of {ws.run.max_score} points.", "success")
    return redirect(url_for("labs.run", run_id=ws.run.id))


@bp.post("/runs/<int:run_id>/abandon")
@role_required(*ANY_ROLE)
def abandon(run_id: int):
    ws = for_run(run_id, active=False)
    require_valid_post()
    if runs.abandon(db.session, ws.run, clock.now()):
        db.session.commit()
        flash("You left this run. Its trace stays available.", "info")
    return redirect(url_for("labs.lab", key=ws.run.lab.key))


@bp.get("/runs/<int:run_id>/trace")
@role_required(*ANY_ROLE)
def run_trace(run_id: int):
    """The trainee's own trace, or a trace of a trainee the instructor follows (read-only)."""
    from academy.org.service import visible_trainee_ids

    run = db.session.get(runs.LabRun, run_id)
    if run is None or (run.user_id != current_user.id and run.user_id not in visible_trainee_ids(db.session, current_user)):
        abort(404)
    return render_template("labs/trace.html", run=run, timeline=trace.timeline(sandbox_link.get(), run),
                           focus=request.args.get("event", type=int))
