"""Plain data the API hands out: never ORM rows or pynetdicom objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class PartitionInfo:
    code: str
    accept_any_calling_ae: bool
    replace_duplicates: bool
    created_at: datetime
    ae_titles: dict[str, str]  # role -> AE title, e.g. {"PACS": "LAB1_PACS"}


@dataclass(frozen=True)
class NodeInfo:
    ae_title: str
    host: str
    port: int
    description: str = ""


@dataclass(frozen=True)
class FaultInfo:
    kind: str
    params: dict


@dataclass(frozen=True)
class StudyInfo:
    study_uid: str
    patient_id: str
    patient_name: str
    study_date: str
    study_time: str
    accession_number: str
    study_description: str
    modalities: tuple[str, ...]
    series_count: int
    instance_count: int
    retention_flagged: bool
    store: str


@dataclass(frozen=True)
class InstanceInfo:
    sop_instance_uid: str
    sop_class_uid: str
    series_uid: str
    study_uid: str
    patient_id: str
    modality: str
    instance_number: str
    transfer_syntax: str
    size: int
    path: str
    store: str


@dataclass(frozen=True)
class JournalEvent:
    id: int
    partition_code: str | None
    kind: str
    summary: str
    status: int | None
    association: str
    details: dict
    created_at: datetime


@dataclass(frozen=True)
class RoutingRuleInfo:
    id: int
    destination_ae: str
    modality: str = ""
    calling_ae: str = ""
    study_description: str = ""


@dataclass(frozen=True)
class ForwardJobInfo:
    id: int
    sop_instance_uid: str
    destination_ae: str
    state: str
    attempts: int
    last_error: str
    next_attempt_at: datetime


@dataclass(frozen=True)
class StorageUsage:
    studies: int
    instances: int
    bytes: int
    by_store: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DimseResult:
    """What a simulated device got back from one operation."""

    ok: bool
    status: int | None
    status_name: str
    message: str = ""
    matches: list[dict] = field(default_factory=list)
    completed: int = 0
    failed: int = 0
    warning: int = 0
