"""Who uses the platform: organisations (hospitals), users, their roles, and cohorts."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.models.base import Base, utcnow


class Role(str, enum.Enum):
    """A member's role in an organisation. Site administrators are a flag on the user instead."""

    TRAINEE = "trainee"
    INSTRUCTOR = "instructor"
    ORG_ADMIN = "org_admin"

    @property
    def label(self) -> str:
        return {"trainee": "Trainee", "instructor": "Instructor", "org_admin": "Organisation administrator"}[
            self.value
        ]


SITE_ADMIN = "site_admin"
ROLE_NAMES = [role.value for role in Role] + [SITE_ADMIN]


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The hospital's learning record store (xAPI), if it has one; the secret is never shown or logged.
    lrs_endpoint: Mapped[str] = mapped_column(String(300), default="")
    lrs_username: Mapped[str] = mapped_column(String(200), default="")
    lrs_secret: Mapped[str] = mapped_column(String(300), default="")

    memberships: Mapped[list[Membership]] = relationship(back_populates="organization")
    cohorts: Mapped[list[Cohort]] = relationship(back_populates="organization", order_by="Cohort.name")


class User(UserMixin, Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_site_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Bumped when the password changes, so sessions opened before it stop working.
    session_version: Mapped[int] = mapped_column(default=1)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive (deactivated) users
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def membership(self) -> Membership | None:
        """A user belongs to at most one organisation (hospital staff accounts are per hospital)."""
        return self.memberships[0] if self.memberships else None

    @property
    def organization(self) -> Organization | None:
        return self.membership.organization if self.membership else None

    @property
    def role(self) -> str | None:
        """The user's effective role name, or None for an account nobody has given a role yet."""
        if self.is_site_admin:
            return SITE_ADMIN
        return self.membership.role.value if self.membership else None


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", name="uq_membership_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship(back_populates="memberships")


class Cohort(Base):
    """A group of staff who learn together, e.g. "New PACS analysts, spring intake"."""

    __tablename__ = "cohort"
    __table_args__ = (UniqueConstraint("organization_id", "name", name="uq_cohort_org_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="cohorts")
    members: Mapped[list[CohortMember]] = relationship(back_populates="cohort", cascade="all, delete-orphan")


class CohortMember(Base):
    """A user in a cohort, as a trainee or as one of its instructors."""

    __tablename__ = "cohort_member"
    __table_args__ = (UniqueConstraint("cohort_id", "user_id", name="uq_cohort_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    as_instructor: Mapped[bool] = mapped_column(default=False)

    cohort: Mapped[Cohort] = relationship(back_populates="members")
    user: Mapped[User] = relationship()
