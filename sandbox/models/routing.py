"""Auto-forward rules and the retry queue of forward jobs they create."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.db import Base, UTCDateTime, utcnow


class RoutingRule(Base):
    """On receipt, forward instances matching every non-empty criterion to a node."""

    __tablename__ = "sandbox_routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    partition_id: Mapped[int] = mapped_column(
        ForeignKey("sandbox_partitions.id", ondelete="CASCADE"), index=True
    )
    destination_ae: Mapped[str] = mapped_column(String(16))
    modality: Mapped[str] = mapped_column(String(16), default="")
    calling_ae: Mapped[str] = mapped_column(String(16), default="")
    study_description: Mapped[str] = mapped_column(String(64), default="")  # wildcards allowed


class ForwardJob(Base):
    """One instance waiting to be (re)sent to one node; `last_error` says why it waits."""

    __tablename__ = "sandbox_forward_jobs"
    __table_args__ = (Index("ix_sandbox_forward_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partition_id: Mapped[int] = mapped_column(
        ForeignKey("sandbox_partitions.id", ondelete="CASCADE"), index=True
    )
    rule_id: Mapped[int | None] = mapped_column(Integer)
    sop_instance_uid: Mapped[str] = mapped_column(String(64))
    destination_ae: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending|running|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
