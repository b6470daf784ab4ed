"""Sending xAPI statements to an organisation's learning record store (LRS), with retry.

The maintenance round queues every statement an LRS has not had yet (statement ids are stable, so
nothing is queued twice) and posts the due ones in batches to `<endpoint>/statements` (xAPI 1.0.3,
HTTP Basic authentication). A failure is kept with its reason and retried later with growing waits.
"""
from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from academy.models import Membership, Organization, User, XapiOutbox
from academy.records import xapi

log = logging.getLogger(__name__)
BATCH = 50
TIMEOUT = 10


class LrsError(ValueError):
    pass


def check_endpoint(url: str) -> str:
    """An LRS must be HTTPS (plain HTTP only to this machine, for testing)."""
    parts = urlsplit(url.strip())
    if parts.scheme == "https" and parts.netloc:
        return url.strip().rstrip("/")
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return url.strip().rstrip("/")
    raise LrsError("The LRS endpoint must be an https:// address.")


def queue(session: Session, organization: Organization, base_url: str, now: datetime) -> int:
    """Queue the statements of the organisation's people that are not queued yet."""
    known = set(session.scalars(select(XapiOutbox.statement_id).where(XapiOutbox.organization_id == organization.id)))
    added = 0
    for user in session.scalars(select(User).join(Membership).where(Membership.organization_id == organization.id)):
        for statement in xapi.statements(session, user, base_url):
            if statement["id"] not in known:
                session.add(XapiOutbox(organization_id=organization.id, statement_id=statement["id"],
                                       statement=statement, next_attempt_at=now))
                known.add(statement["id"])
                added += 1
    return added


def _post(organization: Organization, statements: list[dict]) -> None:
    request = urllib.request.Request(
        f"{organization.lrs_endpoint}/statements", data=json.dumps(statements).encode(), method="POST",
        headers={"Content-Type": "application/json", "X-Experience-API-Version": "1.0.3",
                 "Authorization": "Basic " + base64.b64encode(
                     f"{organization.lrs_username}:{organization.lrs_secret}".encode()).decode()})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - https or loopback, checked
        if response.status not in (200, 204):
            raise LrsError(f"the LRS answered {response.status}")


def send_due(session: Session, organization: Organization, now: datetime) -> tuple[int, int]:
    """Post due statements; returns (sent, failed). Each failure waits longer before the next try."""
    due = session.scalars(select(XapiOutbox).where(
        XapiOutbox.organization_id == organization.id, XapiOutbox.state == "pending",
        XapiOutbox.next_attempt_at <= now).order_by(XapiOutbox.id).limit(BATCH)).all()
    if not due:
        return 0, 0
    try:
        _post(organization, [row.statement for row in due])
    except (urllib.error.URLError, OSError, LrsError) as exc:
        reason = str(getattr(exc, "reason", "") or exc)[:300]
        for row in due:
            row.attempts += 1
            row.last_error = reason
            row.next_attempt_at = now + timedelta(minutes=min(2 ** row.attempts, 24 * 60))
        log.warning("LRS of organisation %s: %d statement(s) not delivered (%s)", organization.id, len(due), reason)
        return 0, len(due)
    for row in due:
        row.state, row.last_error = "sent", ""
        row.attempts += 1
    return len(due), 0


def run(session: Session, now: datetime, base_url: str) -> dict:
    """The maintenance round's part: queue and send for every organisation with an LRS."""
    sent = failed = 0
    for organization in session.scalars(select(Organization).where(Organization.lrs_endpoint != "")):
        queue(session, organization, base_url, now)
        ok, bad = send_due(session, organization, now)
        sent, failed = sent + ok, failed + bad
        session.commit()
    return {"statements_sent": sent, "statements_failed": failed}
