"""The trainee's side: landing page, dashboard, tracks, modules and lessons."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from academy import clock
from academy import audit
from academy.access import ANY_ROLE, ORG_ADMIN, current_organization_id, role_required
from academy.auth.forms import EmptyForm, require_valid_post
from academy.content import visibility
from academy.learn.forms import PathForm
from academy.exams import review, standing
from academy.extensions import db
from academy.learn import paths, progress
from academy.learn.links import render_for
from academy.models import LessonProgress, Module, ModuleAsset, OnboardingPath, Track

bp = Blueprint("learn", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("learn.dashboard"))
    return render_template("index.html")


@bp.get("/dashboard")
@role_required(*ANY_ROLE)
def dashboard():
    statuses = progress.statuses(db.session, current_user.id)
    readiness, weakest = standing.open_tracks_readiness(
        db.session, current_user.id, [status.track for status in statuses.values() if not status.locked_by])
    from academy.labs import service as labs
    from academy.org import assignments

    lab_scores = [score for scores in labs.catalogue(db.session, current_user.id).values() for score in scores
                  if score.attempts]
    return render_template("learn/dashboard.html", statuses=statuses, readiness=readiness, lab_scores=lab_scores,
                           assigned=assignments.for_trainee(db.session, current_user), today=clock.now().date(),
                           next_lessons=progress.next_steps(db.session, current_user.id, weakest, known=statuses),
                           due_reviews=review.due_count(db.session, current_user.id, clock.now()))


def _track_or_404(code: str) -> Track:
    track = visibility.track_by_code(db.session, code, current_organization_id())
    if track is None:
        abort(404)
    return track


def _module_or_404(code: str, key: str) -> Module:
    module = visibility.module_by_key(db.session, code, key, current_organization_id())
    if module is None or module.retired:
        abort(404)
    return module


@bp.get("/tracks/<code>")
@role_required(*ANY_ROLE)
def track(code: str):
    track = _track_or_404(code)
    status = progress.statuses(db.session, current_user.id)[track.code]
    done = progress.done_lessons(db.session, current_user.id)
    estimates = standing.masteries(db.session, current_user.id, track)
    return render_template("learn/track.html", track=track, status=status, done=done, estimates=estimates,
                           lock_reason=progress.lock_reason(status), labs=progress.active_labs(db.session).get(track.id, []),
                           passed=progress.passed_labs(db.session, current_user.id))


@bp.get("/tracks/<code>/modules/<module>")
@role_required(*ANY_ROLE)
def module(code: str, module: str):
    module = _module_or_404(code, module)
    status = progress.statuses(db.session, current_user.id)[code]
    if status.locked_by:
        return render_template("learn/locked.html", track=module.track, reason=progress.lock_reason(status)), 403
    return render_template("learn/module.html", module=module, introduction=render_for(module, module.introduction),
                           done=progress.done_lessons(db.session, current_user.id))


@bp.route("/tracks/<code>/modules/<module>/lessons/<lesson>", methods=["GET", "POST"])
@role_required(*ANY_ROLE)
def lesson(code: str, module: str, lesson: str):
    module = _module_or_404(code, module)
    status = progress.statuses(db.session, current_user.id)[code]
    if status.locked_by:
        return render_template("learn/locked.html", track=module.track, reason=progress.lock_reason(status)), 403
    lesson_row = next((item for item in module.lessons if item.key == lesson and not item.retired), None)
    if lesson_row is None:
        abort(404)
    form = EmptyForm()
    results = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        answers = {item["id"]: request.form.getlist(f"answer-{item['id']}") for item in lesson_row.self_check}
        results = progress.complete_lesson(db.session, current_user.id, lesson_row, answers, clock.now())
        db.session.commit()
        flash("Lesson complete." if not results else
              f"Lesson complete: {sum(r.correct for r in results)} of {len(results)} self-check answers right.",
              "success")
    lessons = [item for item in module.lessons if not item.retired]
    index = lessons.index(lesson_row)
    record = db.session.scalar(select(LessonProgress).where(LessonProgress.user_id == current_user.id,
                                                            LessonProgress.lesson_id == lesson_row.id))
    return render_template(
        "learn/lesson.html", module=module, lesson=lesson_row, body=render_for(module, lesson_row.body), form=form,
        self_check=progress.public_self_check(lesson_row) if results is None else None, results=results,
        record=record, previous=lessons[index - 1] if index else None,
        next=lessons[index + 1] if index + 1 < len(lessons) else None)


@bp.get("/tracks/<code>/modules/<module>/assets/<name>")
@role_required(*ANY_ROLE)
def asset(code: str, module: str, name: str):
    module = _module_or_404(code, module)
    asset = db.session.scalar(select(ModuleAsset).where(ModuleAsset.module_id == module.id, ModuleAsset.name == name))
    if asset is None:
        abort(404)
    response = Response(asset.data, mimetype=asset.media_type)
    # An SVG opened on its own must not run anything, whatever it contains.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/paths")
@role_required(*ANY_ROLE)
def onboarding_paths():
    rows = db.session.scalars(paths.visible(db.session, current_organization_id()).order_by(OnboardingPath.title)).all()
    return render_template("learn/paths.html", paths=rows)


@bp.get("/paths/<key>")
@role_required(*ANY_ROLE)
def onboarding_path(key: str):
    path = paths.find(db.session, key, current_organization_id())
    if path is None:
        abort(404)
    return render_template("learn/path.html", path=path, steps=paths.steps(db.session, current_user.id, path),
                           form=EmptyForm())


@bp.post("/paths/<key>/copy")
@role_required(ORG_ADMIN)
def copy_path(key: str):
    path = paths.find(db.session, key, current_organization_id())
    if path is None:
        abort(404)
    require_valid_post()
    copy = paths.copy_for(db.session, path, current_organization_id(), current_user.organization.name)
    audit.record("path.copied", copy.key, source=path.key)
    db.session.commit()
    flash("This is your organisation's own copy: adapt it, then assign it to a cohort.", "success")
    return redirect(url_for("learn.edit_path", key=copy.key))


@bp.route("/paths/<key>/edit", methods=["GET", "POST"])
@role_required(ORG_ADMIN)
def edit_path(key: str):
    path = db.session.scalar(select(OnboardingPath).where(OnboardingPath.key == key,
                                                          OnboardingPath.organization_id == current_organization_id()))
    if path is None:
        abort(404)  # bundled paths are read-only; other organisations' are not yours
    form, status = PathForm(), 200
    if request.method == "GET":
        form.text.data = paths.as_yaml(path)
    elif form.validate_on_submit():
        try:
            paths.update_from_yaml(db.session, path, form.text.data)
        except paths.PathError as exc:
            db.session.rollback()
            form.text.errors.append(str(exc))
            status = 400
        else:
            audit.record("path.edited", path.key, version=path.version)
            db.session.commit()
            flash(f"Saved as version {path.version}.", "success")
            return redirect(url_for("learn.onboarding_path", key=path.key))
    else:
        status = 400
    return render_template("learn/path_edit.html", path=path, form=form), status
