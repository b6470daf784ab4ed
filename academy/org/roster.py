"""Managing an organisation's people and cohorts."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from academy.models import Cohort, CohortMember, Membership, Organization, Role, User


class RosterError(ValueError):
    pass


def member(session: Session, organization_id: int, user_id: int) -> User:
    """A user of this organisation, or RosterError (never someone else's)."""
    user = session.scalar(select(User).join(Membership).where(Membership.organization_id == organization_id,
                                                             User.id == user_id))
    if user is None:
        raise RosterError("No such person in your organisation.")
    return user


def deactivate(session: Session, organization_id: int, user_id: int, *, by: User) -> User:
    """A leaver: no more logins, every session ends; their records stay."""
    user = member(session, organization_id, user_id)
    if user.id == by.id:
        raise RosterError("You cannot deactivate your own account.")
    user.active = False
    user.session_version += 1
    return user


def reactivate(session: Session, organization_id: int, user_id: int) -> User:
    user = member(session, organization_id, user_id)
    user.active = True
    return user


def create_cohort(session: Session, organization: Organization, name: str) -> Cohort:
    name = (name or "").strip()
    if not 1 <= len(name) <= 120:
        raise RosterError("A cohort name needs 1 to 120 characters.")
    if session.scalar(select(Cohort).where(Cohort.organization_id == organization.id, Cohort.name == name)):
        raise RosterError(f"There is already a cohort named '{name}'.")
    cohort = Cohort(organization=organization, name=name)
    session.add(cohort)
    session.flush()
    return cohort


def cohort_of(session: Session, organization_id: int, cohort_id: int) -> Cohort:
    cohort = session.get(Cohort, cohort_id)
    if cohort is None or cohort.organization_id != organization_id:
        raise RosterError("No such cohort in your organisation.")
    return cohort


def add_to_cohort(session: Session, cohort: Cohort, user_id: int, *, as_instructor: bool) -> CohortMember:
    user = member(session, cohort.organization_id, user_id)
    if as_instructor and user.membership.role == Role.TRAINEE:
        raise RosterError(f"{user.display_name} is a trainee; only instructors and administrators can teach a cohort.")
    existing = next((m for m in cohort.members if m.user_id == user.id), None)
    if existing is not None:
        existing.as_instructor = as_instructor
        return existing
    entry = CohortMember(cohort=cohort, user=user, as_instructor=as_instructor)
    session.add(entry)
    return entry


def remove_from_cohort(session: Session, cohort: Cohort, user_id: int) -> None:
    entry = next((m for m in cohort.members if m.user_id == user_id), None)
    if entry is None:
        raise RosterError("That person is not in this cohort.")
    session.delete(entry)
