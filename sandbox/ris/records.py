"""Plain data the RIS part of the API hands out (never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class RisPatientInfo:
    patient_id: str
    issuer: str
    name: str
    birth_date: str
    sex: str
    identifiers: list
    merged_into: str
    visits: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class OrderInfo:
    id: int
    patient_id: str
    patient_name: str
    placer_number: str
    filler_number: str
    accession_number: str
    requested_procedure_id: str
    sps_id: str
    procedure_code: str
    procedure_description: str
    modality: str
    station_ae: str
    sps_start_date: str
    sps_start_time: str
    study_uid: str
    referring_physician: str
    status: str
    status_name: str
    visit_number: str = ""


@dataclass(frozen=True)
class MppsInfo:
    sop_instance_uid: str
    status: str
    station_ae: str
    modality: str
    patient_id: str
    study_uid: str
    accession_number: str
    placer_number: str
    calling_ae: str
    performed: list
    updated_at: datetime


@dataclass(frozen=True)
class ReportInfo:
    id: int
    placer_number: str
    accession_number: str
    study_uid: str
    result_status: str
    text: str
    attached: bool
    created_at: datetime


@dataclass(frozen=True)
class Hl7MessageInfo:
    """One message in or out; `highlight` is the [start, end) of the failing field in `raw`."""

    id: int
    direction: str
    message_type: str
    control_id: str
    raw: str
    summary: str
    ack_code: str
    ack_raw: str
    error: dict
    state: str
    destination: str
    attempts: int
    last_error: str
    created_at: datetime
    highlight: list | None = None


@dataclass(frozen=True)
class Hl7EndpointInfo:
    name: str
    host: str
    port: int
    description: str = ""


@dataclass(frozen=True)
class ProcedureInfo:
    code: str
    description: str
    modality: str
    station_ae: str = ""
    source: str = "default"  # default | partition
