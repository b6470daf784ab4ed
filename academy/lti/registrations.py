"""Platform registrations of one organisation: add, list, remove, and what the LMS administrator enters.

Every lookup takes the organisation id with the registration id, so another organisation's registration
is simply not found (the caller answers 404, revealing nothing).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from academy.lti import keys
from academy.models import Lab, LtiRegistration, Organization, Track

MAX_DEPLOYMENTS = 50


class RegistrationError(ValueError):
    """A registration that cannot be saved; the message is safe to show."""


def check_url(url: str, what: str) -> str:
    """Platform endpoints are HTTPS (plain HTTP only on this machine, for testing), as for an LRS."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if len(url) <= 500 and parts.netloc and (
            parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"))):
        return url
    raise RegistrationError(f"The {what} must be an https:// address.")


def parse_deployments(text: str) -> list[str]:
    """Deployment ids, one per line or separated by commas (LTI Core 1.3 §3.1.3: opaque, case-sensitive)."""
    ids = [d.strip() for d in re.split(r"[\n,]", text or "") if d.strip()]
    if not ids:
        raise RegistrationError("Enter at least one deployment id (the LMS shows it when the tool is deployed).")
    if len(ids) > MAX_DEPLOYMENTS or any(len(d) > 255 for d in ids):
        raise RegistrationError(f"At most {MAX_DEPLOYMENTS} deployment ids of up to 255 characters each.")
    return list(dict.fromkeys(ids))


def create(session: Session, organization: Organization, *, name: str, issuer: str, client_id: str,
           deployment_ids: str, auth_login_url: str, access_token_url: str, key_set_url: str,
           created_by: int | None) -> LtiRegistration:
    """A new registration with a fresh tool key pair; the caller audits and commits."""
    name, issuer, client_id = (name or "").strip(), (issuer or "").strip(), (client_id or "").strip()
    if not 1 <= len(name) <= 120:
        raise RegistrationError("A name needs 1 to 120 characters.")
    if not client_id or len(client_id) > 255:
        raise RegistrationError("Enter the client id the LMS gave this tool.")
    issuer = check_url(issuer, "issuer")[:255]
    if session.scalar(select(LtiRegistration.id).where(LtiRegistration.issuer == issuer,
                                                       LtiRegistration.client_id == client_id)) is not None:
        raise RegistrationError("This issuer and client id are already registered.")
    pair = keys.generate()
    registration = LtiRegistration(
        organization_id=organization.id, name=name, issuer=issuer, client_id=client_id,
        deployment_ids=parse_deployments(deployment_ids),
        auth_login_url=check_url(auth_login_url, "authentication request URL"),
        access_token_url=check_url(access_token_url, "access token URL"),
        key_set_url=check_url(key_set_url, "public keyset URL"),
        tool_key_id=pair.kid, tool_private_key=pair.private_pem, tool_public_key=pair.public_pem,
        created_by=created_by)
    session.add(registration)
    session.flush()
    return registration


def of_organization(session: Session, organization_id: int) -> list[LtiRegistration]:
    return session.scalars(select(LtiRegistration).where(LtiRegistration.organization_id == organization_id)
                           .order_by(LtiRegistration.name, LtiRegistration.id)).all()


def owned(session: Session, organization_id: int, registration_id: int) -> LtiRegistration | None:
    return session.scalar(select(LtiRegistration).where(LtiRegistration.id == registration_id,
                                                        LtiRegistration.organization_id == organization_id))


def remove(session: Session, organization_id: int, registration_id: int) -> LtiRegistration:
    """Delete the registration; its launches and queued scores go with it, the accounts and records stay."""
    registration = owned(session, organization_id, registration_id)
    if registration is None:
        raise LookupError(registration_id)
    session.delete(registration)
    session.flush()
    return registration


def by_key_id(session: Session, kid: str) -> LtiRegistration | None:
    return session.scalar(select(LtiRegistration).where(LtiRegistration.tool_key_id == kid))


@dataclass(frozen=True)
class TargetLink:
    kind: str  # lab | exam
    title: str
    path: str


def target_links(session: Session, organization_id: int) -> list[TargetLink]:
    """The target link URIs (paths) an LMS administrator may use: every live lab and every track's mock
    exam that this organisation's people can see."""
    from academy.content import visibility

    tracks = session.scalars(select(Track).where(visibility.visible(organization_id))
                             .order_by(Track.position, Track.code)).all()
    links = []
    for track in tracks:
        links.append(TargetLink("exam", f"{track.code} mock exam", f"/exams/{track.code}/start"))
        for lab in session.scalars(select(Lab).where(Lab.track_id == track.id, Lab.retired.is_(False))
                                   .order_by(Lab.position, Lab.key)):
            links.append(TargetLink("lab", f"{track.code} lab: {lab.title}", f"/labs/{lab.key}"))
    return links
