"""Writing the image index: one received instance becomes patient/study/series/instance rows.

Called inside the caller's transaction (with the journal row and any forward
jobs), so the index changes all at once or not at all. Statements are built
once (bind parameters), so SQLAlchemy compiles them once: on the C-STORE hot
path that halves the time spent per instance. A `KeyCache` (one per
association) remembers patient/study/series keys already seen; a stale key
(e.g. the study was deleted meanwhile) fails the foreign key, and the caller
retries with the cache cleared.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, select, update

from sandbox.archive.attributes import InstanceAttributes
from sandbox.db import utcnow
from sandbox.models import Instance, Patient, Series, Study

_P, _S = bindparam("pid"), bindparam("store")


def _by(model, column, key):
    return select(model.id).where(model.partition_id == _P, model.store == _S,
                                  column == bindparam(key))


_FIND_INSTANCE = select(Instance.id, Instance.path, Instance.series_pk).where(
    Instance.partition_id == _P, Instance.store == _S,
    Instance.sop_instance_uid == bindparam("sop"))
_FIND = {
    Patient: _by(Patient, Patient.patient_id, "key"),
    Study: _by(Study, Study.study_uid, "key"),
    Series: _by(Series, Series.series_uid, "key"),
}
_INSERT = {m: insert(m).returning(m.id) for m in (Patient, Study, Series)}
_INSERT_INSTANCE = insert(Instance)
_UPDATE_INSTANCE = update(Instance).where(Instance.id == bindparam("instance_pk"))
_STUDY_MODALITIES = select(Study.modalities).where(Study.id == bindparam("pk"))
_SET_MODALITIES = update(Study).where(Study.id == bindparam("pk")).values(
    modalities=bindparam("modalities"))


@dataclass(frozen=True)
class Existing:
    id: int
    path: str
    series_pk: int


class KeyCache(dict):
    """(table, partition, store, key) -> primary key, for one association's instances."""


def find_instance(conn: Connection, partition_id: int, store: str, sop_uid: str) -> Existing | None:
    row = conn.execute(_FIND_INSTANCE, {"pid": partition_id, "store": store, "sop": sop_uid}).first()
    return Existing(*row) if row else None


def _get_or_insert(conn: Connection, cache: KeyCache, model, scope: dict, key_column: str,
                   key: str, values: dict) -> tuple[int, bool]:
    """(primary key, inserted?) for the row of `model` with `key` in this scope."""
    cache_key = (model.__tablename__, scope["partition_id"], scope["store"], key)
    if cache_key in cache:
        return cache[cache_key], False
    pk = conn.execute(_FIND[model], {"pid": scope["partition_id"], "store": scope["store"],
                                     "key": key}).scalar()
    inserted = pk is None
    if inserted:
        pk = conn.execute(_INSERT[model], {**scope, key_column: key, **values}).scalar_one()
    cache[cache_key] = pk
    return pk, inserted


def add_instance(
    conn: Connection, partition_id: int, store: str, a: InstanceAttributes, *,
    path: str, size: int, transfer_syntax: str, calling_ae: str, existing: Existing | None,
    cache: KeyCache | None = None,
) -> int:
    """Index one instance (insert, or repoint `existing`); returns the series pk."""
    cache = KeyCache() if cache is None else cache
    scope = {"partition_id": partition_id, "store": store}
    patient_pk, _ = _get_or_insert(
        conn, cache, Patient, scope, "patient_id", a.patient_id,
        {"patient_name": a.patient_name, "birth_date": a.birth_date, "sex": a.sex},
    )
    study_pk, _ = _get_or_insert(
        conn, cache, Study, scope, "study_uid", a.study_uid,
        {"patient_pk": patient_pk, "study_id": a.study_id[:16], "study_date": a.study_date,
         "study_time": a.study_time, "accession_number": a.accession_number[:16],
         "study_description": a.study_description[:64],
         "referring_physician": a.referring_physician, "modalities": a.modality,
         "retention_flagged": False, "received_at": utcnow()},
    )
    series_pk, new_series = _get_or_insert(
        conn, cache, Series, scope, "series_uid", a.series_uid,
        {"study_pk": study_pk, "modality": a.modality, "series_number": a.series_number,
         "series_description": a.series_description[:64], "body_part": a.body_part},
    )
    if new_series and a.modality:
        _add_modality(conn, study_pk, a.modality)
    values = dict(
        series_pk=series_pk, sop_class_uid=a.sop_class_uid, instance_number=a.instance_number,
        transfer_syntax=transfer_syntax, path=path, size=size, calling_ae=calling_ae,
        received_at=utcnow(),
    )
    if existing:
        conn.execute(_UPDATE_INSTANCE, {"instance_pk": existing.id, **values})
    else:
        conn.execute(_INSERT_INSTANCE, {**scope, "sop_instance_uid": a.sop_instance_uid, **values})
    return series_pk


def _add_modality(conn: Connection, study_pk: int, modality: str) -> None:
    current = conn.execute(_STUDY_MODALITIES, {"pk": study_pk}).scalar() or ""
    values = [m for m in current.split("\\") if m]
    if modality not in values:
        values.append(modality)
        conn.execute(_SET_MODALITIES, {"pk": study_pk, "modalities": "\\".join(values)})
