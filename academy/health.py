"""`/healthz`: is the database answering, and (when it runs here) is the sandbox listening?

A site that is a client of the sandbox service has no listeners of its own; it checks only the
sandbox database it shares, so a load balancer never drops a healthy instance for that. The
service's listeners are watched where they run (`python -m sandbox serve`).
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from academy import sandbox_link
from academy.extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    checks: dict[str, object] = {}
    healthy = True
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure to answer means unhealthy, whatever the driver raised
        db.session.rollback()
        current_app.logger.warning("healthz: database check failed: %s", exc.__class__.__name__)
        checks["database"] = "unavailable"
        healthy = False
    sandbox = current_app.extensions.get(sandbox_link.EXTENSION_KEY)
    if sandbox is None and current_app.config.get("ACADEMY_SANDBOX_HOST"):
        # a site of a scaled-out deployment: every worker reports the sandbox service the same way,
        # whether or not it has used the sandbox yet (found by tests/scale/test_compose_stack.py)
        sandbox = sandbox_link.get()
    if sandbox is not None:
        status = sandbox.status()
        if not sandbox_link.runs_here(current_app):
            checks["sandbox_service"] = f'{status["dicom"]["host"]}:{status["dicom"]["port"]}'
            status = {"database": status["database"]}
        checks["sandbox"] = status
        # Each part reports "listening" (a listener) or "ok" (its database); all must be true.
        healthy = healthy and all(part.get("listening", part.get("ok", False)) for part in status.values())
    return jsonify(status="ok" if healthy else "unavailable", checks=checks), 200 if healthy else 503
