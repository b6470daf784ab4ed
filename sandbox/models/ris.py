"""The simulated RIS's tables (sandbox/ris/): patients, visits, orders, reports, MPPS, HL7 log.

Everything the RIS knows lives here, per partition, so any process sharing the
database (the MLLP listener, the DICOM listener, the CLI, the site) sees the
same orders and the same message queue. The RIS keeps its own patient register
(the ADT's view); the archive's Patient rows are the images' view, and the seam
(sandbox/ris/seam.py) reconciles the two.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sandbox.db import Base, UTCDateTime, utcnow


def _partition_fk() -> ForeignKey:
    return ForeignKey("sandbox_partitions.id", ondelete="CASCADE")


class RisPatient(Base):
    """A patient as registered by ADT (HL7 2.5.1 Ch. 3) or implied by an order (PID segment)."""

    __tablename__ = "sandbox_ris_patients"
    __table_args__ = (UniqueConstraint("partition_id", "patient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partition_id: Mapped[int] = mapped_column(_partition_fk(), index=True)
    patient_id: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(64), default="")  # PID-3.4 assigning authority
    # every PID-3 repetition as received: [{"id", "issuer", "type"}]
    identifiers: Mapped[list] = mapped_column(JSON, default=list)
    name: Mapped[str] = mapped_column(String(324), default="")  # DICOM PN form FAMILY^GIVEN
    birth_date: Mapped[str] = mapped_column(String(8), default="")
    sex: Mapped[str] = mapped_column(String(16), default="")
    merged_into: Mapped[str] = mapped_column(String(64), default="")  # A40: the survivor's ID
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RisVisit(Base):
    """PV1: one encounter (visit number PV1-19)."""

    __tablename__ = "sandbox_ris_visits"
    __table_args__ = (UniqueConstraint("partition_id", "visit_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partition_id: Mapped[int] = mapped_column(_partition_fk(), index=True)
    patient_pk: Mapped[int] = mapped_column(
        ForeignKey("sandbox_ris_patients.id", ondelete="CASCADE"), index=True)
    visit_number: Mapped[str] = mapped_column(String(64))
    patient_class: Mapped[str] = mapped_column(String(8), default="")  # PV1-2: I, O, E, P...
    location: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|cancelled
    event: Mapped[str] = mapped_column(String(8), default="")  # A01/A04/A05 that opened it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RisOrder(Base):
    """One imaging order = one requested procedure with one scheduled procedure step.

    status (HL7 table 0038 order status): SC scheduled, IP in progress, CM completed,
    DC discontinued, CA cancelled.
    """

    __tablename__ = "sandbox_ris_orders"
    __table_args__ = (
        UniqueConstraint("partition_id", "placer_number"),
        UniqueConstraint("partition_id", "accession_number"),
        Index("ix_sandbox_ris_orders_worklist", "partition_id", "status", "sps_start_date"),
        Index("ix_sandbox_ris_orders_study", "partition_id", "study_uid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partition_id: Mapped[int] = mapped_column(_partition_fk(), index=True)
    patient_pk: Mapped[int] = mapped_column(
        ForeignKey("sandbox_ris_patients.id", ondelete="CASCADE"), index=True)
    visit_pk: Mapped[int | None] = mapped_column(
        ForeignKey("sandbox_ris_visits.id", ondelete="SET NULL"))
    placer_number: Mapped[str] = mapped_column(String(64))
    filler_number: Mapped[str] = mapped_column(String(64), default="")
    accession_number: Mapped[str] = mapped_column(String(16))
    requested_procedure_id: Mapped[str] = mapped_column(String(16), default="")
    sps_id: Mapped[str] = mapped_column(String(16), default="")
    procedure_code: Mapped[str] = mapped_column(String(64), default="")
    procedure_scheme: Mapped[str] = mapped_column(String(16), default="")
    procedure_description: Mapped[str] = mapped_column(String(64), default="")
    modality: Mapped[str] = mapped_column(String(16), default="")
    station_ae: Mapped[str] = mapped_column(String(16), default="")
    sps_start_date: Mapped[str] = mapped_column(String(8), default="")
    sps_start_time: Mapped[str] = mapped_column(String(16), default="")
    study_uid: Mapped[str] = mapped_column(String(64))
    referring_physician: Mapped[str] = mapped_column(String(324), default="")
    priority: Mapped[str] = mapped_column(String(8), default="")
    status: Mapped[str] = mapped_column(String(2), default="SC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RisReport(Base):
    """ORU^R01 (HL7 2.5.1 Ch. 7): the radiologist's report, attached to its order and study."""

    __tablename__ = "sandbox_ris_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    partition_id: Mapped[int] = mapped_column(_partition_fk(), index=True)
    order_pk: Mapped[int | None] = mapped_column(
        ForeignKey("sandbox_ris_orders.id", ondelete="SET NULL"), index=True)
    accession_number: Mapped[str] = mapped_column(String(16), default="")
    study_uid: Mapped[str] = mapped_column(String(64), default="")
    result_status: Mapped[str] = mapped_column(String(2), default="")  # OBR-25: P, F, C
    text: Mapped[str] = mapped_column(Text, default="")
    control_id: Mapped[str] = mapped_column(String(64), default="")
    attached: Mapped[bool] = mapped_column(default=False)  # its study is in the archive
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RisMpps(Base):
    """A Modality Performed Procedure Step instance (PS3.4 F.7)."""

    __tablename__ = "sandbox_ris_mpps"
    __table_args__ = (UniqueConstraint("partition_id", "sop_instance_uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partition_id: Mapped[int] = mapped_column(_partition_fk(), index=True)
    sop_instance_uid: Mapped[str] = mapped_column(String(64))
    order_pk: Mapped[int | None] = mapped_column(
        ForeignKey("sandbox_ris_orders.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # IN PROGRESS | COMPLETED | DISCONTINUED
    calling_ae: Mapped[str] = mapped_column(String(16), default="")
    station_ae: Mapped[str] = mapped_column(String(16), default="")
    modality: Mapped[str] = mapped_column(String(16), default="")
    patient_id: Mapped[str] = mapped_column(String(64), default="")
    study_uid: Mapped[str] = mapped_column(String(64), default="")
    accession_number: Mapped[str] = mapped_column(String(16), default="")
    # the performed series and their instances (for reconciliation), as the modality sent them
    performed: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RisProcedure(Base):
    """The partition's procedure-code table: code -> modality (a lab can break it)."""

    __tablename__ = "sandbox_ris_procedures"
    __table_args__ = (UniqueConstraint("partition_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partition_id: Mapped[int] = mapped_column(_partition_fk(), index=True)
    code: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(64), default="")
    modality: Mapped[str] = mapped_column(String(16), default="")
    station_ae: Mapped[str] = mapped_column(String(16), default="")


class RisEndpoint(Base):
    """Where the RIS sends its outbound HL7 (the order placer / interface engine)."""

    __tablename__ = "sandbox_ris_endpoints"
    __table_args__ = (UniqueConstraint("partition_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partition_id: Mapped[int] = mapped_column(_partition_fk(), index=True)
    name: Mapped[str] = mapped_column(String(32))
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(255), default="")


class Hl7Message(Base):
    """Every HL7 message in and out, with its ACK; outbound rows are also the send queue.

    direction "in": state is "done". direction "out": pending -> sent | failed, with
    attempts, next_attempt_at and last_error saying why it waits.
    """

    __tablename__ = "sandbox_hl7_messages"
    __table_args__ = (
        Index("ix_sandbox_hl7_partition", "partition_code", "id"),
        Index("ix_sandbox_hl7_queue", "direction", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    partition_code: Mapped[str | None] = mapped_column(String(8))
    direction: Mapped[str] = mapped_column(String(3))
    message_type: Mapped[str] = mapped_column(String(16), default="")
    control_id: Mapped[str] = mapped_column(String(64), default="")
    peer: Mapped[str] = mapped_column(String(64), default="")
    raw: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    ack_code: Mapped[str] = mapped_column(String(2), default="")
    ack_raw: Mapped[str] = mapped_column(Text, default="")
    # {segment, sequence, field, component, code, reason}
    error: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(8), default="done")
    destination: Mapped[str] = mapped_column(String(32), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RisSettings(Base):
    """Per-partition RIS policy (absent row: the defaults in sandbox/ris/settings.py)."""

    __tablename__ = "sandbox_ris_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    partition_id: Mapped[int] = mapped_column(_partition_fk(), unique=True)
    # the hospital's assigning authority: which PID-3 repetition is the patient ID
    home_issuer: Mapped[str] = mapped_column(String(64), default="ACADEMY_GH")
    # RAD-12 patient update/merge on stored studies: "apply" (rewrite the archive) or "flag"
    update_policy: Mapped[str] = mapped_column(String(8), default="apply")


class RisStudyMatch(Base):
    """The seam's verdict on one archive study: matched to an order, or unmatched and why.

    Written once per study by whichever process checks it first (unique row), updated when
    the study is checked again; labs read `matched` and `reasons`.
    """

    __tablename__ = "sandbox_ris_study_matches"
    __table_args__ = (UniqueConstraint("partition_id", "study_uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partition_id: Mapped[int] = mapped_column(_partition_fk(), index=True)
    study_uid: Mapped[str] = mapped_column(String(64))
    matched: Mapped[bool] = mapped_column(default=False)
    order_pk: Mapped[int | None] = mapped_column(Integer)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
