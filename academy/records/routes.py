"""Records a trainee takes away: certificates (with a public verification page) and xAPI statements."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from academy import audit, clock
from academy.access import ANY_ROLE, INSTRUCTOR, ORG_ADMIN, role_required
from academy.auth.forms import EmptyForm, require_valid_post
from academy.extensions import db, limiter
from academy.models import Certificate, User
from academy.org.service import visible_trainee_ids
from academy.records import certificates, xapi

bp = Blueprint("records", __name__)


def _eligibilities(user: User) -> list[certificates.Eligibility]:
    from academy.learn import paths, progress

    org_id = user.organization.id if user.organization else None
    found = [certificates.for_track(db.session, user, t) for t in progress.tracks(db.session, org_id)]
    found += [certificates.for_path(db.session, user, p) for p in db.session.scalars(paths.visible(db.session, org_id))]
    return found


@bp.get("/certificates")
@role_required(*ANY_ROLE)
def mine():
    issued = db.session.scalars(select(Certificate).where(Certificate.user_id == current_user.id)).all()
    done = {c.subject for c in issued}
    return render_template("records/certificates.html", issued=issued, form=EmptyForm(),
                           eligibilities=[e for e in _eligibilities(current_user) if e.subject not in done])


@bp.post("/certificates/issue")
@role_required(*ANY_ROLE)
def issue():
    require_valid_post()
    subject = request.form.get("subject", "")
    eligibility = next((e for e in _eligibilities(current_user) if e.subject == subject), None)
    if eligibility is None:
        abort(404)
    try:
        certificate = certificates.issue(db.session, current_user, eligibility, clock.now())
    except certificates.CertificateError as exc:
        flash(str(exc), "warning")
        return redirect(url_for("records.mine"))
    audit.record("certificate.issued", certificate.title)
    db.session.commit()
    return redirect(url_for("records.mine"))


@bp.get("/certificates/<int:certificate_id>.pdf")
@role_required(*ANY_ROLE)
def certificate_pdf(certificate_id: int):
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or (certificate.user_id != current_user.id and
                               certificate.user_id not in visible_trainee_ids(db.session, current_user)):
        abort(404)
    organization = certificate.user.organization.name if certificate.user.organization else "PACS Academy"
    data = certificates.pdf(certificate, organization, url_for("records.verify", code=certificate.verification_code, _external=True))
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="certificate-{certificate.id}.pdf"'})


@bp.get("/verify/<code>")
@limiter.limit("60 per minute")
def verify(code: str):
    """Public: shows only what the certificate itself states."""
    certificate = db.session.scalar(select(Certificate).where(Certificate.verification_code == code))
    if certificate is None:
        return render_template("records/verify.html", certificate=None), 404
    organization = certificate.user.organization.name if certificate.user.organization else None
    return render_template("records/verify.html", certificate=certificate, organization=organization,
                           disclaimer=certificates.DISCLAIMER)


@bp.get("/records/xapi.json")
@role_required(*ANY_ROLE)
def my_statements():
    return jsonify(xapi.statements(db.session, current_user, request.host_url.rstrip("/")))


@bp.get("/records/xapi/<int:user_id>.json")
@role_required(INSTRUCTOR, ORG_ADMIN)
def trainee_statements(user_id: int):
    if user_id not in visible_trainee_ids(db.session, current_user):
        abort(404)
    return jsonify(xapi.statements(db.session, db.session.get(User, user_id), request.host_url.rstrip("/")))
