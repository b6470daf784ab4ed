"""The image index: patient > study > series > instance, per partition and store.

`store` is "archive" (<CODE>_PACS) or "workstation" (<CODE>_WS): the simulated
reading workstation keeps its own copy. Indexes follow the C-FIND paths
(partition+store first, then the matching key).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger, Boolean, ForeignKey, Index, String, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.db import Base, UTCDateTime, utcnow



def _partition_fk() -> ForeignKey:
    return ForeignKey("sandbox_partitions.id", ondelete="CASCADE")


class Patient(Base):
    __tablename__ = "sandbox_patients"
    __table_args__ = (
        UniqueConstraint("partition_id", "store", "patient_id"),
        Index("ix_sandbox_patients_name", "partition_id", "store", "patient_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partition_id: Mapped[int] = mapped_column(_partition_fk())
    store: Mapped[str] = mapped_column(String(12))
    patient_id: Mapped[str] = mapped_column(String(64))
    patient_name: Mapped[str] = mapped_column(String(324), default="")
    birth_date: Mapped[str] = mapped_column(String(8), default="")
    sex: Mapped[str] = mapped_column(String(16), default="")


class Study(Base):
    __tablename__ = "sandbox_studies"
    __table_args__ = (
        UniqueConstraint("partition_id", "store", "study_uid"),
        Index("ix_sandbox_studies_date", "partition_id", "store", "study_date"),
        Index("ix_sandbox_studies_accession", "partition_id", "store", "accession_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partition_id: Mapped[int] = mapped_column(_partition_fk())
    store: Mapped[str] = mapped_column(String(12))
    patient_pk: Mapped[int] = mapped_column(
        ForeignKey("sandbox_patients.id", ondelete="CASCADE"), index=True
    )
    study_uid: Mapped[str] = mapped_column(String(64))
    study_id: Mapped[str] = mapped_column(String(16), default="")
    study_date: Mapped[str] = mapped_column(String(8), default="")
    study_time: Mapped[str] = mapped_column(String(16), default="")
    accession_number: Mapped[str] = mapped_column(String(16), default="")
    study_description: Mapped[str] = mapped_column(String(64), default="")
    referring_physician: Mapped[str] = mapped_column(String(324), default="")
    modalities: Mapped[str] = mapped_column(String(64), default="")  # backslash-joined
    retention_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Series(Base):
    __tablename__ = "sandbox_series"
    __table_args__ = (UniqueConstraint("partition_id", "store", "series_uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partition_id: Mapped[int] = mapped_column(_partition_fk())
    store: Mapped[str] = mapped_column(String(12))
    study_pk: Mapped[int] = mapped_column(
        ForeignKey("sandbox_studies.id", ondelete="CASCADE"), index=True
    )
    series_uid: Mapped[str] = mapped_column(String(64))
    modality: Mapped[str] = mapped_column(String(16), default="")
    series_number: Mapped[str] = mapped_column(String(12), default="")
    series_description: Mapped[str] = mapped_column(String(64), default="")
    body_part: Mapped[str] = mapped_column(String(16), default="")


class Instance(Base):
    __tablename__ = "sandbox_instances"
    __table_args__ = (UniqueConstraint("partition_id", "store", "sop_instance_uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partition_id: Mapped[int] = mapped_column(_partition_fk())
    store: Mapped[str] = mapped_column(String(12))
    series_pk: Mapped[int] = mapped_column(
        ForeignKey("sandbox_series.id", ondelete="CASCADE"), index=True
    )
    sop_instance_uid: Mapped[str] = mapped_column(String(64))
    sop_class_uid: Mapped[str] = mapped_column(String(64))
    instance_number: Mapped[str] = mapped_column(String(12), default="")
    transfer_syntax: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(400))  # relative to the data directory
    size: Mapped[int] = mapped_column(BigInteger)
    calling_ae: Mapped[str] = mapped_column(String(16), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
