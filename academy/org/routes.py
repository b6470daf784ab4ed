"""Pages for the people who run training: instructors, organisation and site administrators."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user
from sqlalchemy import select

from academy import audit, clock
from academy.access import INSTRUCTOR, ORG_ADMIN, current_organization_id, role_required
from academy.auth import service as accounts
from academy.auth.forms import EmptyForm, require_valid_post
from academy.extensions import db, limiter
from academy.models import SITE_ADMIN, AuditEvent, Cohort, User
from academy.org import assignments, exports, invitations, roster, service
from academy.org.service import visible_trainee_ids
from academy.org.forms import (
    AcceptInvitationForm, AssignmentForm, CohortForm, CsvInviteForm, InviteForm, LrsForm, MemberForm, SignOffForm,
)
from academy.records import lrs

bp = Blueprint("org", __name__)


@bp.get("/cohorts")
@role_required(INSTRUCTOR, ORG_ADMIN)
def cohorts():
    return render_template("org/cohorts.html", cohorts=service.visible_cohorts(db.session, current_user))


def _invite_form() -> InviteForm:
    form = InviteForm(prefix="invite")
    form.cohort.choices = [("", "(none)")] + [(str(c.id), c.name) for c in current_user.organization.cohorts]
    return form


@bp.route("/organization", methods=["GET", "POST"])
@role_required(ORG_ADMIN)
def organization():
    org, now = current_user.organization, clock.now()
    invite_form, csv_form, cohort_form = _invite_form(), CsvInviteForm(prefix="csv"), CohortForm(prefix="cohort")
    lrs_form = LrsForm(prefix="lrs")
    if request.method == "GET":
        lrs_form.endpoint.data, lrs_form.username.data = org.lrs_endpoint, org.lrs_username
    links, report, status = [], None, 200
    action = request.form.get("action")
    if request.method == "POST":
        try:
            if action == "invite" and invite_form.validate_on_submit():
                cohort = roster.cohort_of(db.session, org.id, int(invite_form.cohort.data) if invite_form.cohort.data.isdecimal() else 0) if invite_form.cohort.data else None
                invitation, token = invitations.invite(db.session, org, invite_form.email.data, invite_form.role.data,
                                                       name=invite_form.name.data or "", cohort=cohort,
                                                       created_by=current_user.id, now=now)
                audit.record("invitation.created", invitation.email, role=invitation.role)
                db.session.commit()
                links = [(invitation.email, url_for("org.accept_invitation", token=token, _external=True))]
            elif action == "csv" and csv_form.validate_on_submit():
                report = invitations.import_csv(db.session, org, csv_form.file.data.read(), created_by=current_user.id, now=now)
                audit.record("invitation.csv", f"{len(report.invited)} invited", refused=len(report.refused))
                db.session.commit()
                links = [(email, url_for("org.accept_invitation", token=token, _external=True)) for _, email, token in report.invited]
            elif action == "cohort" and cohort_form.validate_on_submit():
                cohort = roster.create_cohort(db.session, org, cohort_form.name.data)
                audit.record("cohort.created", cohort.name)
                db.session.commit()
                return redirect(url_for("org.cohort", cohort_id=cohort.id))
            elif action == "lrs" and lrs_form.validate_on_submit():
                endpoint = (lrs_form.endpoint.data or "").strip()
                org.lrs_endpoint = lrs.check_endpoint(endpoint) if endpoint else ""
                org.lrs_username = (lrs_form.username.data or "").strip()
                if lrs_form.secret.data:
                    org.lrs_secret = lrs_form.secret.data
                audit.record("lrs.configured", org.lrs_endpoint or "(none)")  # never the secret
                db.session.commit()
                flash("Learning records will be sent to your LRS." if org.lrs_endpoint else "No LRS: records stay here.", "success")
                return redirect(url_for("org.organization"))
            elif action in ("deactivate", "reactivate"):
                require_valid_post()
                user_id = request.form.get("user_id", type=int) or 0
                user = (roster.deactivate(db.session, org.id, user_id, by=current_user) if action == "deactivate"
                        else roster.reactivate(db.session, org.id, user_id))
                audit.record(f"user.{action}d", user.email)
                db.session.commit()
                flash(f"{user.display_name} is {'deactivated: their records stay' if action == 'deactivate' else 'active again'}.", "success")
                return redirect(url_for("org.organization"))
            elif action not in ("invite", "csv", "cohort", "lrs"):
                abort(400, "Unknown action.")
            else:
                status = 400
        except (invitations.InvitationError, roster.RosterError, accounts.AccountError, lrs.LrsError) as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            status = 400
    from academy.models import XapiOutbox
    from sqlalchemy import func

    outbox = dict(db.session.execute(select(XapiOutbox.state, func.count()).where(XapiOutbox.organization_id == org.id)
                                     .group_by(XapiOutbox.state)).all())
    last_error = db.session.scalar(select(XapiOutbox.last_error).where(XapiOutbox.organization_id == org.id,
                                                                       XapiOutbox.state == "pending", XapiOutbox.last_error != "").limit(1))
    pending = [i for i in org_invitations(org.id) if i.used_at is None and i.expires_at >= now]
    return render_template("org/organization.html", organization=org, form=EmptyForm(),
                           members=service.organization_members(db.session, org.id), pending=pending,
                           invite_form=invite_form, csv_form=csv_form, cohort_form=cohort_form, links=links,
                           report=report, lrs_form=lrs_form, outbox=outbox, lrs_error=last_error), status


def org_invitations(organization_id: int):
    from academy.models import Invitation

    return db.session.scalars(select(Invitation).where(Invitation.organization_id == organization_id)
                              .order_by(Invitation.created_at.desc())).all()


def _cohort_or_404(cohort_id: int) -> Cohort:
    """A cohort the current user may see: their organisation's, and for instructors one they teach."""
    if cohort_id not in {c.id for c in service.visible_cohorts(db.session, current_user)}:
        abort(404)
    return db.session.get(Cohort, cohort_id)


@bp.route("/organization/cohorts/<int:cohort_id>", methods=["GET", "POST"])
@role_required(INSTRUCTOR, ORG_ADMIN)
def cohort(cohort_id: int):
    cohort = _cohort_or_404(cohort_id)
    member_form, assignment_form = MemberForm(prefix="member"), AssignmentForm(prefix="assign")
    people = service.organization_members(db.session, cohort.organization_id)
    member_form.user_id.choices = [(m.user.id, f"{m.user.display_name} ({m.role.label})") for m in people if m.user.active]
    action, status = request.form.get("action"), 200
    if request.method == "POST":
        is_admin = current_user.role == ORG_ADMIN
        try:
            if action == "add-member" and is_admin and member_form.validate_on_submit():
                roster.add_to_cohort(db.session, cohort, member_form.user_id.data, as_instructor=member_form.as_instructor.data)
                audit.record("cohort.member-added", cohort.name, user_id=member_form.user_id.data)
            elif action == "remove-member" and is_admin and EmptyForm().validate_on_submit():
                roster.remove_from_cohort(db.session, cohort, request.form.get("user_id", type=int) or 0)
                audit.record("cohort.member-removed", cohort.name, user_id=request.form.get("user_id", type=int))
            elif action == "assign" and assignment_form.validate_on_submit():
                made = assignments.assign(db.session, cohort, assignment_form.kind.data, assignment_form.target.data.strip(),
                                          assignment_form.due_on.data, requires_signoff=assignment_form.requires_signoff.data,
                                          created_by=current_user.id)
                audit.record("assignment.created", f"{made.kind} {made.target}", cohort=cohort.name)
            elif action in ("add-member", "remove-member") and not is_admin:
                abort(403)
            elif action not in ("add-member", "remove-member", "assign"):
                abort(400, "Unknown action.")
            else:
                problems = "; ".join(f"{form[field].label.text}: {', '.join(errors)}" for form in (member_form, assignment_form)
                                     for field, errors in form.errors.items())
                raise roster.RosterError(f"Check the form: {problems or 'it has expired, reload the page'}.")
            db.session.commit()
            return redirect(url_for("org.cohort", cohort_id=cohort.id))
        except (roster.RosterError, assignments.AssignmentError) as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            status = 400
    trainees, given, cells = assignments.grid(db.session, cohort)
    titles = {a.id: assignments.target_title(db.session, a.kind, a.target, cohort.organization_id) or a.target
              for a in given}
    from academy.org import reports

    return render_template("org/cohort.html", cohort=cohort, trainees=trainees, assignments=given, cells=cells,
                           report=reports.build(db.session, cohort, clock.now().date()),
                           titles=titles, today=clock.now().date(), member_form=member_form,
                           assignment_form=assignment_form, form=EmptyForm(), sign_form=SignOffForm()), status


@bp.post("/organization/cohorts/<int:cohort_id>/sign-off/<int:assignment_id>/<int:user_id>")
@role_required(INSTRUCTOR, ORG_ADMIN)
def sign_off(cohort_id: int, assignment_id: int, user_id: int):
    cohort = _cohort_or_404(cohort_id)
    form = SignOffForm()
    if not form.validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again.")
    assignment = db.session.scalar(select(assignments.Assignment).where(
        assignments.Assignment.cohort_id == cohort.id, assignments.Assignment.id == assignment_id))
    if assignment is None:
        abort(404)
    try:
        trainee = roster.member(db.session, cohort.organization_id, user_id)
        assignments.sign_off(db.session, assignment, trainee, by=current_user, note=form.note.data or "")
    except (roster.RosterError, assignments.AssignmentError) as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("org.cohort", cohort_id=cohort.id))
    audit.record("signoff", trainee.email, assignment=assignment.id)
    db.session.commit()
    flash(f"{trainee.display_name} is signed off.", "success")
    return redirect(url_for("org.cohort", cohort_id=cohort.id))


@bp.get("/organization/cohorts/<int:cohort_id>/report.csv")
@role_required(INSTRUCTOR, ORG_ADMIN)
def cohort_csv(cohort_id: int):
    cohort = _cohort_or_404(cohort_id)
    header, rows = assignments.grid_table(db.session, cohort, clock.now().date())
    return Response(exports.to_csv(header, rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="cohort-{cohort.id}.csv"'})


@bp.get("/organization/trainees/<int:user_id>")
@role_required(INSTRUCTOR, ORG_ADMIN)
def trainee(user_id: int):
    """A trainee's full record, for the people who follow them."""
    if user_id not in visible_trainee_ids(db.session, current_user) or user_id == current_user.id:
        abort(404)
    person = db.session.get(User, user_id)
    from academy.exams import standing
    from academy.learn import progress
    from academy.models import ExamSession, LabRun

    statuses = progress.statuses(db.session, person.id)
    readiness = {code: standing.track_readiness(db.session, person.id, status.track) for code, status in statuses.items()}
    lab_runs = db.session.scalars(select(LabRun).where(LabRun.user_id == person.id).order_by(LabRun.started_at.desc())).all()
    exams = db.session.scalars(select(ExamSession).where(ExamSession.user_id == person.id)
                               .order_by(ExamSession.started_at.desc())).all()
    stuck = {run.id: [r for r in run.gradings[-1].results if not r.passed] for run in lab_runs if run.gradings}
    return render_template("org/trainee.html", person=person, statuses=statuses, readiness=readiness, lab_runs=lab_runs,
                           exams=exams, stuck=stuck, assigned=assignments.for_trainee(db.session, person),
                           today=clock.now().date())


@bp.get("/organization/readiness")
@role_required(ORG_ADMIN)
def readiness():
    """The organisation at a glance: each person's expected mock-exam score per track."""
    from academy.exams import standing
    from academy.learn import progress

    tracks = progress.tracks(db.session, current_organization_id())
    rows = []
    for membership in service.organization_members(db.session, current_organization_id()):
        if membership.role.value != "trainee" or not membership.user.active:
            continue
        rows.append((membership.user, {t.code: standing.track_readiness(db.session, membership.user.id, t) for t in tracks}))
    return render_template("org/readiness.html", tracks=tracks, rows=rows)


@bp.get("/organization/audit")
@role_required(ORG_ADMIN)
def audit_log():
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.organization_id == current_organization_id())
                                .order_by(AuditEvent.at.desc()).limit(500)).all()
    actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({e.actor_id for e in events if e.actor_id})))}
    return render_template("org/audit.html", events=events, actors=actors)


@bp.route("/invite/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def accept_invitation(token: str):
    invitation = invitations.find_open(db.session, token, clock.now())
    if invitation is None:
        return render_template("error.html", code=404, title="Invitation not valid",
                               message="This invitation link has been used, has expired, or is not valid. "
                                       "Ask your organisation's administrator for a new one."), 404
    form = AcceptInvitationForm()
    if request.method == "GET":
        form.display_name.data = invitation.display_name
    elif form.validate_on_submit():
        try:
            user = invitations.accept(db.session, token, display_name=form.display_name.data,
                                      password=form.password.data, now=clock.now())
        except (invitations.InvitationError, accounts.AccountError) as exc:
            db.session.rollback()
            flash(str(exc), "danger")
            return redirect(url_for("org.accept_invitation", token=token))
        audit.record("invitation.accepted", user.email, actor_id=user.id, organization_id=invitation.organization_id)
        db.session.commit()
        login_user(user)
        flash(f"Welcome to PACS Academy, {user.display_name}.", "success")
        return redirect(url_for("learn.dashboard"))
    return render_template("org/accept.html", invitation=invitation, form=form), 200 if request.method == "GET" else 400


@bp.get("/site")
@role_required(SITE_ADMIN)
def site():
    return render_template("org/site.html", organizations=service.organizations_overview(db.session))
