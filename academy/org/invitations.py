"""Inviting staff: single-use, expiring links, one by one or from a CSV file checked row by row."""
from __future__ import annotations

import csv
import hashlib
import io
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from academy.auth import service as accounts
from academy.models import Cohort, CohortMember, Invitation, Organization, Role, User

VALID_DAYS = 7
INVITABLE_ROLES = (Role.TRAINEE.value, Role.INSTRUCTOR.value, Role.ORG_ADMIN.value)
MAX_ROWS = 1000
CSV_COLUMNS = ("email", "name", "role", "cohort")


class InvitationError(ValueError):
    """The invitation cannot be made or used; the message says why."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(session: Session, organization: Organization, email: str, role: str, *, name: str = "",
           cohort: Cohort | None = None, created_by: int | None = None, now: datetime) -> tuple[Invitation, str]:
    """Make an invitation; returns it and the token (shown once, never stored)."""
    email = accounts.normalise_email(email)
    if role not in INVITABLE_ROLES:
        raise InvitationError(f"'{role}' is not a role you can invite: use {', '.join(INVITABLE_ROLES)}.")
    if accounts.find_user(session, email) is not None:
        raise InvitationError(f"{email} already has an account.")
    if cohort is not None and cohort.organization_id != organization.id:
        raise InvitationError("That cohort belongs to another organisation.")
    if len(name) > 120:
        raise InvitationError("A name can have at most 120 characters.")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(organization=organization, cohort=cohort, email=email, display_name=name.strip(), role=role,
                            token_hash=_hash(token), created_by=created_by, created_at=now,
                            expires_at=now + timedelta(days=VALID_DAYS))
    session.add(invitation)
    session.flush()
    return invitation, token


def find_open(session: Session, token: str, now: datetime) -> Invitation | None:
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == _hash(token or "")))
    if invitation is None or invitation.used_at is not None or invitation.expires_at < now:
        return None
    return invitation


def accept(session: Session, token: str, *, display_name: str, password: str, now: datetime) -> User:
    """Create the account the invitation is for. The token works once: claimed with one UPDATE."""
    invitation = find_open(session, token, now)
    if invitation is None:
        raise InvitationError("This invitation link has been used, has expired, or is not valid.")
    claimed = session.execute(update(Invitation).where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
                              .values(used_at=now)).rowcount
    if claimed != 1:
        raise InvitationError("This invitation link has just been used.")
    user = accounts.create_user(session, email=invitation.email, password=password, role=invitation.role,
                                display_name=display_name or invitation.display_name, organization=invitation.organization)
    if invitation.cohort is not None:
        session.add(CohortMember(cohort=invitation.cohort, user=user, as_instructor=invitation.role == Role.INSTRUCTOR.value))
    return user


@dataclass
class ImportReport:
    invited: list[tuple[int, str, str]] = field(default_factory=list)   # (row, email, token)
    refused: list[tuple[int, str, str]] = field(default_factory=list)   # (row, what, why)


def import_csv(session: Session, organization: Organization, data: bytes, *, created_by: int | None,
               now: datetime) -> ImportReport:
    """One invitation per valid row of `email,name,role,cohort`; every other row refused with its reason.

    Each row stands alone: a bad row never stops the others, and nothing of a refused row is kept."""
    report = ImportReport()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvitationError("The file is not UTF-8 text. Save it as CSV (UTF-8) and try again.") from None
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or [c.strip().lower() for c in reader.fieldnames][:2] != ["email", "name"]:
        raise InvitationError(f"The first line must name the columns: {','.join(CSV_COLUMNS)}.")
    cohorts = {c.name.strip().lower(): c for c in session.scalars(select(Cohort).where(Cohort.organization_id == organization.id))}
    seen: set[str] = set()
    for number, row in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            report.refused.append((number, "…", f"only the first {MAX_ROWS} rows are read"))
            break
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
        email = row.get("email", "")
        if email.lower() in seen:
            report.refused.append((number, email, "this email appears twice in the file"))
            continue
        seen.add(email.lower())
        cohort_name = row.get("cohort", "")
        cohort = cohorts.get(cohort_name.lower()) if cohort_name else None
        if cohort_name and cohort is None:
            report.refused.append((number, email, f"there is no cohort named '{cohort_name}'"))
            continue
        try:  # invite() checks everything before it adds anything, so a refused row leaves nothing
            _, token = invite(session, organization, email, (row.get("role") or "trainee").lower(),
                              name=row.get("name", ""), cohort=cohort, created_by=created_by, now=now)
        except (InvitationError, accounts.AccountError) as exc:
            report.refused.append((number, email or "(no email)", str(exc)))
            continue
        report.invited.append((number, email, token))
    return report
