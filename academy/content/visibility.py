"""Which content a person may see: the bundled tracks and their own organisation's published tracks.

Every lookup of a track, module or lab by its code or key goes through here, so another organisation's
content is never found by guessing its code (the answer is the same 404 as for a code that does not exist).
"""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from academy.models import Lab, Module, Track


def visible(organization_id: int | None):
    """The condition on Track for content this organisation's people see (live tracks only)."""
    owners = Track.organization_id.is_(None) if organization_id is None else \
        or_(Track.organization_id.is_(None), Track.organization_id == organization_id)
    return owners & Track.retired.is_(False)


def track_by_code(session: Session, code: str, organization_id: int | None) -> Track | None:
    # An organisation's own track wins should a later bundled release reuse its code.
    return session.scalar(select(Track).where(Track.code == code, visible(organization_id))
                          .order_by(Track.organization_id.is_(None)).limit(1))


def module_by_key(session: Session, code: str, key: str, organization_id: int | None) -> Module | None:
    return session.scalar(select(Module).join(Track).where(
        Track.code == code, Module.key == key, visible(organization_id)).order_by(Track.organization_id.is_(None)).limit(1))


def lab_by_key(session: Session, key: str, organization_id: int | None, *, live_only: bool = True) -> Lab | None:
    query = select(Lab).join(Track, Lab.track_id == Track.id).where(Lab.key == key, visible(organization_id))
    if live_only:
        query = query.where(Lab.retired.is_(False))
    return session.scalar(query.order_by(Track.organization_id.is_(None)).limit(1))


def organization_of(session: Session, user_id: int) -> int | None:
    from academy.models import Membership

    return session.scalar(select(Membership.organization_id).where(Membership.user_id == user_id).limit(1))
