"""The journal: everything that happened, per partition; graders read it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.db import Base, UTCDateTime, utcnow


class JournalEvent(Base):
    __tablename__ = "sandbox_journal"
    __table_args__ = (
        Index("ix_sandbox_journal_partition", "partition_code", "id"),
        Index("ix_sandbox_journal_kind", "partition_code", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # A code, not a foreign key: events outlive a reset, and some (a bad PDU before
    # any AE title was read) belong to no partition (NULL).
    partition_code: Mapped[str | None] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(40))
    association: Mapped[str] = mapped_column(String(36), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
