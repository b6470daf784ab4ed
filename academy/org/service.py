"""Reading organisations and cohorts, always scoped to what the asking user may see."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from academy.models import Cohort, CohortMember, Membership, Organization, Role, User


def visible_cohorts(session: Session, user: User) -> list[Cohort]:
    """Org admins see every cohort of their organisation; instructors only the cohorts they teach."""
    membership = user.membership
    if membership is None:
        return []
    query = (select(Cohort).where(Cohort.organization_id == membership.organization_id)
             .options(selectinload(Cohort.members).selectinload(CohortMember.user)).order_by(Cohort.name))
    if membership.role != Role.ORG_ADMIN:
        query = query.where(Cohort.id.in_(
            select(CohortMember.cohort_id).where(CohortMember.user_id == user.id, CohortMember.as_instructor)))
    return list(session.scalars(query))


def organization_members(session: Session, organization_id: int) -> list[Membership]:
    return list(session.scalars(
        select(Membership).where(Membership.organization_id == organization_id)
        .options(selectinload(Membership.user)).join(User).order_by(User.display_name)))


def organizations_overview(session: Session) -> list[tuple[Organization, int]]:
    counts = (select(Membership.organization_id, func.count().label("n")).group_by(Membership.organization_id)
              .subquery())
    rows = session.execute(select(Organization, func.coalesce(counts.c.n, 0))
                           .outerjoin(counts, counts.c.organization_id == Organization.id)
                           .order_by(Organization.name))
    return [(org, n) for org, n in rows]


def visible_trainee_ids(session: Session, user: User) -> set[int]:
    """Whose results this user may see: an org admin, everyone in the organisation; an instructor, the
    trainees of the cohorts they teach; anyone else, only themselves."""
    membership = user.membership
    if membership is None:
        return {user.id}
    if membership.role == Role.ORG_ADMIN:
        return set(session.scalars(select(Membership.user_id).where(
            Membership.organization_id == membership.organization_id)))
    if membership.role == Role.INSTRUCTOR:
        taught = select(CohortMember.cohort_id).where(CohortMember.user_id == user.id, CohortMember.as_instructor)
        return set(session.scalars(select(CohortMember.user_id).where(
            CohortMember.cohort_id.in_(taught), CohortMember.as_instructor.is_(False))))
    return {user.id}
