"""How a hospital runs its training: invitations, assignments with due dates, competency sign-offs and
certificates of completion."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.models.base import Base, utcnow
from academy.models.people import Cohort, Organization, User


class Invitation(Base):
    """A single-use, expiring link that lets someone create their account in an organisation.

    Only a hash of the token is stored: a leaked database does not leak working links."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    organization: Mapped[Organization] = relationship()
    cohort: Mapped[Cohort | None] = relationship()


class Assignment(Base):
    """Work given to a cohort: a track, an onboarding path, a module, a lab or a mock exam, by a date."""

    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # track | path | module | lab | exam
    target: Mapped[str] = mapped_column(String(120))  # track code, path key, TRACK/module, lab key, track code
    due_on: Mapped[date] = mapped_column(Date)
    requires_signoff: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    cohort: Mapped[Cohort] = relationship()


class SignOff(Base):
    """A supervisor's confirmation that a trainee is competent in an assigned item."""

    __tablename__ = "sign_off"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id", name="uq_sign_off_assignment_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)

    assignment: Mapped[Assignment] = relationship()


class Certificate(Base):
    """A certificate of completion; its verification code is random and unguessable."""

    __tablename__ = "certificate"
    __table_args__ = (Index("ix_certificate_user", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(120))  # "track:CPA" or "path:new-pacs-analyst-30-days"
    title: Mapped[str] = mapped_column(String(200))
    holder_name: Mapped[str] = mapped_column(String(120))
    verification_code: Mapped[str] = mapped_column(String(32), unique=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)

    user: Mapped[User] = relationship()


class XapiOutbox(Base):
    """An xAPI statement waiting for (or delivered to) the organisation's learning record store."""

    __tablename__ = "xapi_outbox"
    __table_args__ = (UniqueConstraint("organization_id", "statement_id", name="uq_xapi_outbox_statement"),
                      Index("ix_xapi_outbox_due", "state", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    statement_id: Mapped[str] = mapped_column(String(36))
    statement: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending | sent
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(String(300), default="")
