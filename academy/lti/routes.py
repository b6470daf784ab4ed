"""LTI 1.3 endpoints (login initiation, launch, the tool's key set) and the org admin's LMS page.

The login initiation and the launch are cross-site requests from the LMS and are exempt from the site's
CSRF token: the platform's signature on the id_token, the single-use state and the nonce bound to it are
their protection (IMS Security Framework §5.1.1). Everything else here is an ordinary, CSRF-checked page.
"""
from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user
from pylti1p3.exception import LtiException, OIDCException

from academy import audit, clock
from academy.access import ORG_ADMIN, role_required
from academy.auth.forms import EmptyForm, require_valid_post
from academy.extensions import csrf, db, limiter
from academy.lti import launches, registrations, scores, tool
from academy.lti.forms import PlatformForm
from academy.lti.storage import DatabaseLaunchData

log = logging.getLogger(__name__)
bp = Blueprint("lti", __name__)
# Per address: bounds what an anonymous client can make the site store, while a whole class behind one
# hospital NAT address launching at nine o'clock still gets through.
LAUNCH_LIMIT = "600 per minute"
bp.after_app_request(scores.send_soon)


def _refuse(status: int, message: str):
    return render_template("error.html", code=status, title="LMS launch refused", message=message), status


def base_url() -> str:
    from flask import current_app

    return (current_app.config.get("ACADEMY_PUBLIC_URL") or request.host_url).rstrip("/")


@bp.route("/lti/login", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(LAUNCH_LIMIT)
def login():
    """OIDC third-party initiated login (LTI Core 1.3 §5.1.1): answer with the authentication request."""
    values = request.values
    if not values.get("iss") or not values.get("login_hint") or not values.get("target_link_uri"):
        return _refuse(400, "This address is for an LMS starting a launch; it needs iss, login_hint and target_link_uri.")
    storage = DatabaseLaunchData(db.session, clock.now)
    oidc = tool.Login(db.session, storage)
    try:
        # The redirect_uri must be the launch URL exactly as the LMS administrator entered it (shown on our LMS page).
        response = oidc.redirect(base_url() + url_for("lti.launch"))
    except (LtiException, OIDCException) as exc:
        db.session.rollback()
        log.warning("LTI login refused: %s", exc)
        return _refuse(403, "This LMS is not registered with PACS Academy (unknown issuer or client id). "
                            "Ask your organisation administrator to register it.")
    db.session.commit()
    return response


@bp.post("/lti/launch")
@csrf.exempt
@limiter.limit(LAUNCH_LIMIT)
def launch():
    """The id_token POST (LTI Core 1.3 §5.1.2): verify, sign the user in, record, go to the lab or exam."""
    if not request.form.get("id_token") or not request.form.get("state"):
        return _refuse(400, "A launch needs an id_token and a state from the LMS.")
    now = clock.now()
    message = tool.Launch(db.session, DatabaseLaunchData(db.session, clock.now), tool.TimeoutSession())
    try:
        claims = message.get_launch_data()
        resource_launch = message.is_resource_launch()
    except LtiException as exc:
        db.session.rollback()
        log.warning("LTI launch refused: %s", str(exc)[:200])
        return _refuse(403, f"This launch could not be verified: {str(exc)[:200]}. Start it again from your LMS.")
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # claims or keys of the wrong shape
        db.session.rollback()
        log.warning("LTI launch unreadable: %s", exc.__class__.__name__)
        return _refuse(400, "The LMS sent a launch this site cannot read. Start it again from your LMS.")
    if not resource_launch:
        return _refuse(400, "PACS Academy takes resource link launches only.")
    try:
        outcome = launches.complete(db.session, message.registration_row(), claims, now)
    except launches.LaunchRefused as exc:
        db.session.rollback()
        return _refuse(exc.status, str(exc))
    audit.record("lti.launch", f"{outcome.target.kind}:{outcome.target.key}", actor_id=outcome.user.id,
                 organization_id=message.registration_row().organization_id, launch=outcome.launch.id)
    db.session.commit()
    session.clear()  # whoever was signed in in this browser, the LMS user is now
    login_user(outcome.user)
    if outcome.exam_id is not None:
        return redirect(url_for("exams.exam_item", exam_id=outcome.exam_id, position=1))
    return redirect(url_for("labs.lab", key=outcome.target.key))


@bp.get("/lti/jwks/<kid>.json")
def jwks(kid: str):
    """The tool's public key for one registration (IMS Security Framework §6.3), fetched by the platform."""
    registration = registrations.by_key_id(db.session, kid)
    if registration is None:
        abort(404)
    response = jsonify({"keys": tool.ToolRegistration(registration).get_jwks()})
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/organization/lms", methods=["GET", "POST"])
@role_required(ORG_ADMIN)
def platforms():
    org = current_user.organization
    form, status = PlatformForm(), 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                registration = registrations.create(
                    db.session, org, name=form.name.data, issuer=form.issuer.data, client_id=form.client_id.data,
                    deployment_ids=form.deployment_ids.data, auth_login_url=form.auth_login_url.data,
                    access_token_url=form.access_token_url.data, key_set_url=form.key_set_url.data,
                    created_by=current_user.id)
                audit.record("lti.registered", registration.name, issuer=registration.issuer,
                             client_id=registration.client_id, deployments=len(registration.deployment_ids))
                db.session.commit()
                flash(f"{registration.name} is registered. Enter the tool's URLs below in your LMS.", "success")
                return redirect(url_for("lti.platforms", _anchor=f"platform-{registration.id}"))
            except registrations.RegistrationError as exc:
                db.session.rollback()
                flash(str(exc), "danger")
        status = 400
    rows = registrations.of_organization(db.session, org.id)
    return render_template("lti/platforms.html", form=form, delete_form=EmptyForm(), registrations=rows,
                           base=base_url(), targets=registrations.target_links(db.session, org.id),
                           outbox=scores.summary(db.session, [r.id for r in rows])), status


@bp.post("/organization/lms/<int:registration_id>/remove")
@role_required(ORG_ADMIN)
def remove_platform(registration_id: int):
    org = current_user.organization
    registration = registrations.owned(db.session, org.id, registration_id)
    if registration is None:
        abort(404)
    require_valid_post()
    registrations.remove(db.session, org.id, registration_id)
    audit.record("lti.removed", registration.name, issuer=registration.issuer, client_id=registration.client_id)
    db.session.commit()
    flash(f"{registration.name} is removed: its launches stop working; accounts and records stay.", "info")
    return redirect(url_for("lti.platforms"))
