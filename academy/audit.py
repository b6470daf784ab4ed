"""Writing audit events. The caller's transaction commits them with the change they describe."""
from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

from academy.extensions import db
from academy.models import AuditEvent


def record(action: str, target: str = "", *, organization_id: int | None = None, actor_id: int | None = None,
           **detail) -> AuditEvent:
    if actor_id is None and has_request_context() and current_user.is_authenticated:
        actor_id = current_user.id
    if organization_id is None and has_request_context() and current_user.is_authenticated:
        org = current_user.organization
        organization_id = org.id if org else None
    address = request.remote_addr or "" if has_request_context() else "cli"
    event = AuditEvent(action=action, target=target[:200], actor_id=actor_id, organization_id=organization_id,
                       address=address, detail=detail)
    db.session.add(event)
    return event
