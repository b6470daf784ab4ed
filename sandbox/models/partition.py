"""A partition and what configures it: its node registry and its injected faults."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.db import Base, UTCDateTime, utcnow


class Partition(Base):
    __tablename__ = "sandbox_partitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    accept_any_calling_ae: Mapped[bool] = mapped_column(Boolean, default=False)
    # A second copy of a SOP Instance UID replaces the first unless this is False.
    replace_duplicates: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Node(Base):
    """A DICOM application entity the partition knows (modality, workstation, ...)."""

    __tablename__ = "sandbox_nodes"
    __table_args__ = (UniqueConstraint("partition_id", "ae_title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partition_id: Mapped[int] = mapped_column(
        ForeignKey("sandbox_partitions.id", ondelete="CASCADE"), index=True
    )
    ae_title: Mapped[str] = mapped_column(String(16))
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(255), default="")


class Fault(Base):
    """An injected misconfiguration (see sandbox/faults.py); one per kind per partition."""

    __tablename__ = "sandbox_faults"
    __table_args__ = (UniqueConstraint("partition_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partition_id: Mapped[int] = mapped_column(
        ForeignKey("sandbox_partitions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
