"""Who may open what. Every view states the roles it serves; everything else gets 403."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from academy.models import SITE_ADMIN, Role

TRAINEE, INSTRUCTOR, ORG_ADMIN = Role.TRAINEE.value, Role.INSTRUCTOR.value, Role.ORG_ADMIN.value
ANY_ROLE = (TRAINEE, INSTRUCTOR, ORG_ADMIN, SITE_ADMIN)
STAFF = (INSTRUCTOR, ORG_ADMIN)


def role_required(*roles: str):
    """Require a logged-in user whose role is one of `roles` (a user without a role gets 403 too)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = frozenset(roles)
        return wrapped

    return decorator


def current_organization_id() -> int | None:
    org = current_user.organization if current_user.is_authenticated else None
    return org.id if org else None
