"""Pages for the people who run training: instructors, organisation and site administrators."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from academy.access import INSTRUCTOR, ORG_ADMIN, current_organization_id, role_required
from academy.extensions import db
from academy.models import SITE_ADMIN
from academy.org import service

bp = Blueprint("org", __name__)


@bp.get("/cohorts")
@role_required(INSTRUCTOR, ORG_ADMIN)
def cohorts():
    return render_template("org/cohorts.html", cohorts=service.visible_cohorts(db.session, current_user))


@bp.get("/organization")
@role_required(ORG_ADMIN)
def organization():
    members = service.organization_members(db.session, current_organization_id())
    return render_template("org/organization.html", organization=current_user.organization, members=members)


@bp.get("/site")
@role_required(SITE_ADMIN)
def site():
    return render_template("org/site.html", organizations=service.organizations_overview(db.session))
