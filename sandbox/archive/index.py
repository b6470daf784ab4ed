"""Writing the image index: one received instance becomes patient/study/series/instance rows.

Called inside the caller's transaction (with the journal row and any forward
jobs), so the index changes all at once or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from sandbox.archive.attributes import InstanceAttributes
from sandbox.db import utcnow
from sandbox.models import Instance, Patient, Series, Study

STORED, REPLACED, DUPLICATE = "stored", "replaced", "duplicate"


@dataclass(frozen=True)
class Existing:
    id: int
    path: str
    series_pk: int


def find_instance(conn: Connection, partition_id: int, store: str, sop_uid: str) -> Existing | None:
    row = conn.execute(
        select(Instance.id, Instance.path, Instance.series_pk).where(
            Instance.partition_id == partition_id, Instance.store == store,
            Instance.sop_instance_uid == sop_uid,
        )
    ).first()
    return Existing(*row) if row else None


def _get_or_insert(conn: Connection, model, keys: dict, values: dict) -> int:
    where = [getattr(model, k) == v for k, v in keys.items()]
    pk = conn.execute(select(model.id).where(*where)).scalar()
    if pk is None:
        pk = conn.execute(insert(model).values(**keys, **values).returning(model.id)).scalar_one()
    return pk


def add_instance(
    conn: Connection, partition_id: int, store: str, a: InstanceAttributes, *,
    path: str, size: int, transfer_syntax: str, calling_ae: str, existing: Existing | None,
) -> int:
    """Index one instance (insert, or repoint `existing`); returns the series pk."""
    scope = {"partition_id": partition_id, "store": store}
    patient_pk = _get_or_insert(
        conn, Patient, {**scope, "patient_id": a.patient_id},
        {"patient_name": a.patient_name, "birth_date": a.birth_date, "sex": a.sex},
    )
    study_pk = _get_or_insert(
        conn, Study, {**scope, "study_uid": a.study_uid},
        {"patient_pk": patient_pk, "study_id": a.study_id[:16], "study_date": a.study_date,
         "study_time": a.study_time, "accession_number": a.accession_number[:16],
         "study_description": a.study_description[:64],
         "referring_physician": a.referring_physician, "modalities": a.modality},
    )
    series_pk = _get_or_insert(
        conn, Series, {**scope, "series_uid": a.series_uid},
        {"study_pk": study_pk, "modality": a.modality, "series_number": a.series_number,
         "series_description": a.series_description[:64], "body_part": a.body_part},
    )
    if a.modality:
        _add_modality(conn, study_pk, a.modality)
    values = dict(
        series_pk=series_pk, sop_class_uid=a.sop_class_uid, instance_number=a.instance_number,
        transfer_syntax=transfer_syntax, path=path, size=size, calling_ae=calling_ae,
        received_at=utcnow(),
    )
    if existing:
        conn.execute(update(Instance).where(Instance.id == existing.id).values(**values))
    else:
        conn.execute(insert(Instance).values(**scope, sop_instance_uid=a.sop_instance_uid, **values))
    return series_pk


def _add_modality(conn: Connection, study_pk: int, modality: str) -> None:
    current = conn.execute(select(Study.modalities).where(Study.id == study_pk)).scalar() or ""
    values = [m for m in current.split("\\") if m]
    if modality not in values:
        values.append(modality)
        conn.execute(update(Study).where(Study.id == study_pk).values(modalities="\\".join(values)))
