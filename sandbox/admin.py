"""Study-level administration, routing rules and storage management, each journaled.

Edits change the index and rewrite the affected files' headers (pydicom reads
and writes the elements raw: pixel data is not decoded), so what a C-MOVE sends
matches what a C-FIND shows. Every operation journals its before and after.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pydicom
from sqlalchemy import delete, func, select, update

from sandbox import journal
from sandbox.codes import validate_ae_title
from sandbox.db import utcnow
from sandbox.models import ForwardJob, Instance, Patient, RoutingRule, Series, Study
from sandbox.records import RoutingRuleInfo, StorageUsage

STORE = "archive"
_PATIENT_FIELDS = {"patient_name": "PatientName", "birth_date": "PatientBirthDate",
                   "sex": "PatientSex", "patient_id": "PatientID"}


def _rewrite(sb, s, paths: list[str], values: dict) -> None:
    """Set `values` (keyword -> value) in each stored file, atomically per file, and
    record each file's new size in session `s` (fsck compares sizes)."""
    for rel in paths:
        path = sb.files.path(rel)
        ds = pydicom.dcmread(path)
        for keyword, value in values.items():
            setattr(ds, keyword, value)
        tmp = path.with_name(f".{path.name}.edit")
        ds.save_as(tmp, enforce_file_format=True)
        os.replace(tmp, path)
        s.execute(update(Instance).where(Instance.path == rel)
                  .values(size=path.stat().st_size))


def _patient(s, pid: int, patient_id: str) -> Patient:
    row = s.execute(select(Patient).where(Patient.partition_id == pid, Patient.store == STORE,
                                          Patient.patient_id == patient_id)).scalar()
    if row is None:
        raise LookupError(f"no patient {patient_id!r} in the archive")
    return row


def _paths(s, *conditions) -> list[str]:
    q = (select(Instance.path).join(Series, Series.id == Instance.series_pk)
         .join(Study, Study.id == Series.study_pk).where(*conditions))
    return list(s.execute(q).scalars())


# patient_id is positional-only, so `changes` can hold a new patient_id
def edit_patient(sb, code: str, patient_id: str, /, **changes) -> dict:
    if unknown := set(changes) - set(_PATIENT_FIELDS):
        raise ValueError(f"unknown demographics {sorted(unknown)}; use {sorted(_PATIENT_FIELDS)}")
    pid = sb._pid(code)
    with sb.db.session() as s:
        p = _patient(s, pid, patient_id)
        if "patient_id" in changes and changes["patient_id"] != patient_id:
            clash = s.execute(select(Patient.id).where(
                Patient.partition_id == pid, Patient.store == STORE,
                Patient.patient_id == changes["patient_id"])).scalar()
            if clash:
                raise ValueError(f"patient {changes['patient_id']!r} exists: merge instead")
        before = {k: getattr(p, k) for k in changes}
        _rewrite(sb, s, _paths(s, Study.patient_pk == p.id),
                 {_PATIENT_FIELDS[k]: v for k, v in changes.items()})
        for k, v in changes.items():
            setattr(p, k, v)
    journal.record(sb.db, code, "admin.edit-patient", f"patient {patient_id} edited",
                   before=before, after=changes)
    return {"before": before, "after": changes}


def merge_patients(sb, code: str, source_patient_id: str, target_patient_id: str) -> dict:
    pid = sb._pid(code)
    with sb.db.session() as s:
        src = _patient(s, pid, source_patient_id)
        dst = _patient(s, pid, target_patient_id)
        studies = list(s.execute(select(Study.study_uid).where(Study.patient_pk == src.id))
                       .scalars())
        _rewrite(sb, s, _paths(s, Study.patient_pk == src.id), {
            "PatientID": dst.patient_id, "PatientName": dst.patient_name,
            "PatientBirthDate": dst.birth_date, "PatientSex": dst.sex})
        s.execute(update(Study).where(Study.patient_pk == src.id).values(patient_pk=dst.id))
        s.delete(src)
    before = {"patient_id": source_patient_id, "studies": studies}
    after = {"patient_id": target_patient_id, "studies": studies}
    journal.record(sb.db, code, "admin.merge-patients",
                   f"patient {source_patient_id} merged into {target_patient_id}",
                   before=before, after=after)
    return {"before": before, "after": after}


def move_series(sb, code: str, series_uid: str, target_study_uid: str) -> dict:
    pid = sb._pid(code)
    with sb.db.session() as s:
        series = s.execute(select(Series).where(Series.partition_id == pid,
                                                Series.store == STORE,
                                                Series.series_uid == series_uid)).scalar()
        target = s.execute(select(Study).where(Study.partition_id == pid, Study.store == STORE,
                                               Study.study_uid == target_study_uid)).scalar()
        if series is None or target is None:
            raise LookupError("no such series or target study in the archive")
        source = s.get(Study, series.study_pk)
        patient = s.get(Patient, target.patient_pk)
        _rewrite(sb, s, _paths(s, Series.id == series.id), {
            "StudyInstanceUID": target.study_uid, "PatientID": patient.patient_id,
            "PatientName": patient.patient_name, "AccessionNumber": target.accession_number,
        })
        before = {"study_uid": source.study_uid}
        series.study_pk = target.id
        mods = [m for m in target.modalities.split("\\") if m]
        if series.modality and series.modality not in mods:
            target.modalities = "\\".join([*mods, series.modality])
        s.flush()
        if not s.execute(select(func.count(Series.id)).where(Series.study_pk == source.id)
                         ).scalar():
            s.delete(source)
            s.flush()
            # the source patient's last study gone: no empty patient row (fsck finds them)
            if not s.execute(select(func.count(Study.id)).where(
                    Study.patient_pk == source.patient_pk)).scalar():
                s.execute(delete(Patient).where(Patient.id == source.patient_pk))
    after = {"study_uid": target_study_uid}
    journal.record(sb.db, code, "admin.move-series", f"series {series_uid} moved",
                   series_uid=series_uid, before=before, after=after)
    return {"before": before, "after": after}


def delete_study(sb, code: str, study_uid: str, *, store: str = STORE) -> dict:
    pid = sb._pid(code)
    with sb.db.session() as s:
        study = s.execute(select(Study).where(Study.partition_id == pid, Study.store == store,
                                              Study.study_uid == study_uid)).scalar()
        if study is None:
            raise LookupError(f"no study {study_uid} in the {store}")
        paths = _paths(s, Study.id == study.id)
        series_ids = select(Series.id).where(Series.study_pk == study.id)
        s.execute(delete(Instance).where(Instance.series_pk.in_(series_ids)))
        s.execute(delete(Series).where(Series.study_pk == study.id))
        patient_pk = study.patient_pk
        s.delete(study)
        s.flush()
        if not s.execute(select(func.count(Study.id)).where(Study.patient_pk == patient_pk)
                         ).scalar():
            s.execute(delete(Patient).where(Patient.id == patient_pk))
    for rel in paths:  # after commit: a file is never missing while indexed
        sb.files.remove(rel)
    before = {"study_uid": study_uid, "instances": len(paths)}
    journal.record(sb.db, code, "admin.delete-study", f"study {study_uid} deleted from {store}",
                   before=before, after=None)
    return {"before": before, "after": None}


def storage_usage(sb, code: str) -> StorageUsage:
    pid = sb._pid(code)
    with sb.db.read() as conn:
        rows = conn.execute(select(Instance.store, func.count(Instance.id), func.sum(Instance.size))
                            .where(Instance.partition_id == pid).group_by(Instance.store)).all()
        studies = conn.execute(select(func.count(Study.id)).where(Study.partition_id == pid)
                               ).scalar()
    return StorageUsage(studies=studies or 0, instances=sum(r[1] for r in rows),
                        bytes=int(sum(r[2] or 0 for r in rows)),
                        by_store={r[0]: int(r[2] or 0) for r in rows})


def apply_retention(sb, code: str, *, older_than_days: int, action: str = "flag") -> list[str]:
    """Studies older than the period (by Study Date, else by receipt) are flagged or deleted."""
    if action not in ("flag", "delete"):
        raise ValueError("action must be 'flag' or 'delete'")
    if int(older_than_days) < 0:
        raise ValueError("older_than_days must be 0 or more")
    cutoff = utcnow() - timedelta(days=int(older_than_days))
    pid = sb._pid(code)
    with sb.db.read() as conn:
        rows = conn.execute(select(Study.study_uid, Study.study_date, Study.received_at)
                            .where(Study.partition_id == pid, Study.store == STORE)).all()
    old = [uid for uid, date, received in rows
           if (date and date < cutoff.strftime("%Y%m%d")) or (not date and received < cutoff)]
    if action == "flag":
        with sb.db.write() as conn:
            if old:
                conn.execute(update(Study).where(Study.partition_id == pid, Study.store == STORE,
                                                 Study.study_uid.in_(old))
                             .values(retention_flagged=True))
    else:
        for uid in old:
            delete_study(sb, code, uid)
    journal.record(sb.db, code, f"retention.{action}",
                   f"retention ({older_than_days} days): {len(old)} stud(ies) {action}ed",
                   study_uids=old, older_than_days=older_than_days)
    return old


def add_routing_rule(sb, code: str, destination_ae: str, *, modality: str = "",
                     calling_ae: str = "", study_description: str = "") -> RoutingRuleInfo:
    destination_ae = validate_ae_title(destination_ae)
    if calling_ae:
        calling_ae = validate_ae_title(calling_ae)
    pid = sb._pid(code)
    with sb.db.session() as s:
        rule = RoutingRule(partition_id=pid, destination_ae=destination_ae, modality=modality,
                           calling_ae=calling_ae, study_description=study_description)
        s.add(rule)
        s.flush()
        info = RoutingRuleInfo(rule.id, destination_ae, modality, calling_ae, study_description)
    journal.record(sb.db, code, "forward.rule-added", f"forward to {destination_ae} "
                   f"(modality={modality or '*'}, calling={calling_ae or '*'}, "
                   f"description={study_description or '*'})", rule_id=info.id)
    return info


def remove_routing_rule(sb, code: str, rule_id: int) -> None:
    pid = sb._pid(code)
    with sb.db.session() as s:
        n = s.execute(delete(RoutingRule).where(RoutingRule.partition_id == pid,
                                                RoutingRule.id == rule_id)).rowcount
    if not n:
        raise LookupError(f"partition {code} has no routing rule {rule_id}")
    journal.record(sb.db, code, "forward.rule-removed", f"routing rule {rule_id} removed")


def retry_forward_jobs(sb, code: str) -> int:
    """Make waiting, failed and stuck ("running" after a crash) jobs due now."""
    pid = sb._pid(code)
    with sb.db.write() as conn:
        n = conn.execute(update(ForwardJob).where(
            ForwardJob.partition_id == pid,
            ForwardJob.state.in_(("pending", "failed", "running")))
            .values(state="pending", next_attempt_at=utcnow())).rowcount
    journal.record(sb.db, code, "forward.retry", f"{n} forward job(s) made due now")
    return n
