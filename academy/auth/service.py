"""Accounts: creating users, checking credentials, changing passwords. No HTTP here."""
from __future__ import annotations

import secrets

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from academy.auth.passwords import MAX_LENGTH, MIN_LENGTH, hash_password, needs_rehash, verify_password
from academy.models import SITE_ADMIN, Membership, Organization, Role, User, utcnow


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message is safe to show."""


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountError(f"'{email}' is not a valid email address: {exc}") from None


def check_password_rules(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise AccountError(f"A password needs at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise AccountError(f"A password can have at most {MAX_LENGTH} characters.")


def random_password() -> str:
    return secrets.token_urlsafe(12)


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def get_or_create_organization(session: Session, name: str) -> Organization:
    name = name.strip()
    if not name or len(name) > 120:
        raise AccountError("An organisation name needs 1 to 120 characters.")
    org = session.scalar(select(Organization).where(Organization.name == name))
    if org is None:
        org = Organization(name=name)
        session.add(org)
        session.flush()
    return org


def create_user(
    session: Session, *, email: str, password: str, role: str, display_name: str = "",
    organization: Organization | None = None,
) -> User:
    """Add a user with a role; the caller commits. Trainees, instructors and org admins need an org."""
    email = normalise_email(email)
    check_password_rules(password)
    if role not in {r.value for r in Role} | {SITE_ADMIN}:
        raise AccountError(f"Unknown role '{role}'. Choose one of: trainee, instructor, org_admin, site_admin.")
    if role != SITE_ADMIN and organization is None:
        raise AccountError(f"A {role} belongs to an organisation: name one.")
    if find_user(session, email) is not None:
        raise AccountError(f"An account for {email} already exists.")
    display_name = display_name.strip() or email.split("@")[0]
    if len(display_name) > 120:
        raise AccountError("A display name can have at most 120 characters.")
    user = User(email=email, display_name=display_name, password_hash=hash_password(password),
                is_site_admin=role == SITE_ADMIN)
    session.add(user)
    if organization is not None:
        member_role = Role.TRAINEE if role == SITE_ADMIN else Role(role)
        session.add(Membership(user=user, organization=organization, role=member_role))
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """Return the active user these credentials belong to, or None. Upgrades old hashes in place."""
    user = find_user(session, email)
    if not verify_password(user.password_hash if user else None, password):
        return None
    if not user.active:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current):
        raise AccountError("The current password is not right.")
    check_password_rules(new)
    user.password_hash = hash_password(new)
    user.session_version += 1
