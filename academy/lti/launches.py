"""What a verified launch does: find or make the platform user's local account, pick the lab or mock exam
the link names, and record the launch with its grade-back context. No HTTP here: the claims come in as a
dict (already verified by tool.Launch), so every rule is tested without a platform.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from academy.content import visibility
from academy.exams import mock_exams
from academy.exams.selection import AssemblyError
from academy.learn import progress
from academy.lti.registrations import RegistrationError, check_url
from academy.lti.scores import SCORE_SCOPE
from academy.models import ExamSession, LtiLaunch, LtiRegistration, LtiUserLink, Membership, Role, User

log = logging.getLogger(__name__)

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CUSTOM_TARGET = "pacs_target"  # custom parameter "lab:<key>" or "exam:<TRACK>", wins over the target link URI
NO_PASSWORD = "!lti"  # not an Argon2 hash: verify_password is always False, so the account has no password
LAB_PATH = re.compile(r"^/labs/([A-Za-z0-9_.-]{1,100})/?$")
EXAM_PATH = re.compile(r"^/exams/([A-Za-z0-9_-]{1,16})/start/?$")


class LaunchRefused(Exception):
    """A verified launch this site will not carry out; `status` and the message go on the error page."""

    def __init__(self, message: str, status: int = 403):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Target:
    kind: str  # lab | exam
    key: str  # lab key or track code


@dataclass(frozen=True)
class Outcome:
    user: User
    launch: LtiLaunch
    target: Target
    exam_id: int | None = None


def _mapping(value) -> dict:
    """A claim that should be a JSON object, or {} when the platform sent something else."""
    return value if isinstance(value, dict) else {}


def parse_target(claims: dict) -> Target:
    """The custom parameter if the link has one, else the target link URI (LTI Core 1.3 §5.3.3, §5.4.6).
    Only the path counts: the host is the tool's as the LMS administrator entered it."""
    custom = _mapping(claims.get(LTI + "custom")).get(CUSTOM_TARGET)
    if isinstance(custom, str) and ":" in custom:
        kind, _, key = custom.partition(":")
        if kind in ("lab", "exam") and re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", key):
            return Target(kind, key)
    path = urlsplit(str(claims.get(LTI + "target_link_uri") or "")).path
    if match := LAB_PATH.match(path):
        return Target("lab", match.group(1))
    if match := EXAM_PATH.match(path):
        return Target("exam", match.group(1))
    raise LaunchRefused("This LMS link does not name a PACS Academy lab or mock exam. Ask your LMS administrator "
                        "to use one of the target link URIs listed on the organisation's LMS page.", 400)


def _display_name(claims: dict) -> str:
    name = claims.get("name") or " ".join(p for p in (claims.get("given_name"), claims.get("family_name")) if p)
    return (str(name).strip() or "LMS learner")[:120]


def account_for(session: Session, registration: LtiRegistration, claims: dict, now: datetime) -> User:
    """The local account linked to (registration, sub); made on the first launch as a trainee of the
    registration's organisation, with a placeholder address and no password (it is reached only by launch)."""
    subject = str(claims["sub"])[:255]
    query = select(LtiUserLink).where(LtiUserLink.registration_id == registration.id, LtiUserLink.subject == subject)
    link = session.scalar(query)
    if link is None:
        digest = hashlib.sha256(f"{registration.issuer}\n{subject}".encode()).hexdigest()[:24]
        try:
            with session.begin_nested():  # two first launches at once: the second finds the first's link
                user = User(email=f"lti-{registration.id}-{digest}@lti.invalid", display_name=_display_name(claims),
                            password_hash=NO_PASSWORD)
                session.add(user)
                session.add(Membership(user=user, organization_id=registration.organization_id, role=Role.TRAINEE))
                link = LtiUserLink(registration_id=registration.id, subject=subject, user=user, created_at=now)
                session.add(link)
        except IntegrityError:
            link = session.scalar(query)
            if link is None:
                raise
    user = link.user
    if not user.active:
        raise LaunchRefused("Your PACS Academy account has been deactivated by your organisation.")
    if user.organization is None or user.organization.id != registration.organization_id:
        raise LaunchRefused("Your PACS Academy account belongs to another organisation than this LMS.")
    link.last_launch_at = now
    return user


def _open_exam(session: Session, user: User, code: str, organization_id: int, now: datetime) -> ExamSession:
    track = visibility.track_by_code(session, code, organization_id)
    if track is None:
        raise LaunchRefused(f"There is no mock exam '{code}' for your organisation.", 404)
    status = progress.statuses(session, user.id).get(track.code)
    if status is not None and status.locked_by:
        raise LaunchRefused(progress.lock_reason(status))
    # A trainee who launches again while their exam is open goes back to it rather than starting another.
    open_exam = next((e for e in session.scalars(select(ExamSession).where(
        ExamSession.user_id == user.id, ExamSession.track_id == track.id, ExamSession.submitted_at.is_(None))
        .order_by(ExamSession.started_at.desc())) if mock_exams.is_open(e, now)), None)
    if open_exam is not None:
        return open_exam
    try:
        return mock_exams.start(session, user.id, track, now)
    except AssemblyError as exc:
        raise LaunchRefused(f"The {code} question bank cannot fill a mock exam yet: {exc}.", 409) from None


def _grade_back(claims: dict) -> tuple[str, list[str]]:
    """The line item to post scores to (LTI AGS 2.0 §3.1), if the platform offers the score scope."""
    endpoint = _mapping(claims.get(AGS_ENDPOINT))
    scopes = [s for s in endpoint.get("scope") or [] if isinstance(s, str)] if isinstance(endpoint.get("scope"), list) else []
    lineitem = endpoint.get("lineitem") or ""
    if not isinstance(lineitem, str) or not lineitem or SCORE_SCOPE not in scopes:
        return "", scopes
    try:
        return check_url(lineitem, "line item URL"), scopes
    except RegistrationError:
        log.warning("LTI launch: line item URL refused (not https); no score will be sent back")
        return "", scopes


def complete(session: Session, registration: LtiRegistration, claims: dict, now: datetime) -> Outcome:
    """Carry out a verified resource-link launch; the caller logs the user in and commits."""
    target = parse_target(claims)
    organization_id = registration.organization_id
    if target.kind == "lab" and visibility.lab_by_key(session, target.key, organization_id) is None:
        raise LaunchRefused(f"There is no lab '{target.key}' for your organisation.", 404)
    user = account_for(session, registration, claims, now)
    exam = _open_exam(session, user, target.key, organization_id, now) if target.kind == "exam" else None
    lineitem, scopes = _grade_back(claims)
    launch = LtiLaunch(registration_id=registration.id, user_id=user.id, subject=str(claims["sub"])[:255],
                       deployment_id=str(claims.get(LTI + "deployment_id"))[:255],
                       resource_link_id=str(_mapping(claims.get(LTI + "resource_link")).get("id") or "")[:255],
                       kind=target.kind, target=exam.track.code if exam else target.key,
                       exam_session_id=exam.id if exam else None, lineitem_url=lineitem, scopes=scopes,
                       launched_at=now)
    session.add(launch)
    session.flush()
    return Outcome(user, launch, target, exam.id if exam else None)
