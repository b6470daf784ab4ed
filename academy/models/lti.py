"""LMS launches (IMS LTI 1.3 with Assignment and Grade Services 2.0): platform registrations, the local
accounts of platform users, each launch's grade-back context, scores waiting for delivery, and the
short-lived OIDC login state.

All of it is rows, not process memory or cookies: a login may start on one site instance and the launch
arrive at another, and the launch is a cross-site POST that carries no session cookie.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.models.base import Base, utcnow
from academy.models.people import Organization, User


class LtiRegistration(Base):
    """One LMS (platform) registered by an organisation. The tool's RSA key pair is made per registration;
    the private key is used to sign service-token requests and is never shown or logged."""

    __tablename__ = "lti_registration"
    # LTI Core 1.3 §3.1.3: (iss, client_id) identifies the registration; one issuer (e.g. a cloud LMS)
    # may hold many client ids, so the pair, not the issuer, is unique.
    __table_args__ = (UniqueConstraint("issuer", "client_id", name="uq_lti_registration_issuer_client"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    deployment_ids: Mapped[list] = mapped_column(JSON, default=list)
    auth_login_url: Mapped[str] = mapped_column(String(500))
    access_token_url: Mapped[str] = mapped_column(String(500))
    key_set_url: Mapped[str] = mapped_column(String(500))
    tool_key_id: Mapped[str] = mapped_column(String(64))
    tool_private_key: Mapped[str] = mapped_column(Text)
    tool_public_key: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    organization: Mapped[Organization] = relationship()

    def __repr__(self) -> str:  # never the keys
        return f"<LtiRegistration {self.id} {self.issuer} {self.client_id}>"


class LtiUserLink(Base):
    """The local account of a platform user: (registration, sub) -> a trainee of the registration's
    organisation. Never matched by email: a platform asserting an address must not open an existing account."""

    __tablename__ = "lti_user_link"
    __table_args__ = (UniqueConstraint("registration_id", "subject", name="uq_lti_user_link_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registration.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))  # the id_token's "sub" (LTI Core 1.3 §5.3.6)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_launch_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class LtiLaunch(Base):
    """A resource-link launch and what is needed to send its score back (LTI AGS 2.0 §3.1 endpoint claim)."""

    __tablename__ = "lti_launch"
    __table_args__ = (Index("ix_lti_launch_target", "user_id", "kind", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("lti_registration.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    deployment_id: Mapped[str] = mapped_column(String(255))
    resource_link_id: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(8))  # lab | exam
    target: Mapped[str] = mapped_column(String(100))  # lab key or track code
    exam_session_id: Mapped[int | None] = mapped_column(ForeignKey("exam_session.id", ondelete="SET NULL"),
                                                        index=True)
    lineitem_url: Mapped[str] = mapped_column(String(500), default="")
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    launched_at: Mapped[datetime] = mapped_column(default=utcnow)

    registration: Mapped[LtiRegistration] = relationship()


class LtiScore(Base):
    """A score waiting for (or delivered to) a platform's line item, retried with growing waits."""

    __tablename__ = "lti_score"
    # One score per launch and result: a double submission or a second maintenance round queues nothing new.
    __table_args__ = (UniqueConstraint("launch_id", "source", name="uq_lti_score_launch_source"),
                      Index("ix_lti_score_due", "state", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    launch_id: Mapped[int] = mapped_column(ForeignKey("lti_launch.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(40))  # "run:<id>" or "exam:<id>"
    score_given: Mapped[float]
    score_maximum: Mapped[float]
    timestamp: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending | sent
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    sent_at: Mapped[datetime | None]

    launch: Mapped[LtiLaunch] = relationship()


class LtiLaunchData(Base):
    """pylti1p3's launch data storage as rows (OIDC state, nonce): shared by every site instance, read at
    the launch without any cookie, and taken once so a state or nonce cannot be replayed."""

    __tablename__ = "lti_launch_data"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(index=True)
