"""The seam between the RIS and the partition's archive (IHE RAD SWF).

- RAD-4 Procedure Scheduled / RAD-13 Procedure Update: the Image Manager (the
  archive) learns which studies to expect. Both live in one database, so the
  order row *is* the expectation; the transaction is journaled in the partition
  ("seam.procedure-scheduled") with the identifiers the images must carry.
- RAD-12 Patient Update (A08) and merge (A40): applied to the archive's stored
  studies (index and files, through sandbox.admin) when the partition's policy is
  "apply"; journaled as "seam.patient-update-flagged" for the trainee when "flag".
- Reconciliation: an archive study matches when an order has its Study Instance
  UID, Accession Number and Patient ID; otherwise it is unmatched, with the
  reasons, so a lab can ask the trainee to reconcile it. The RIS worker flags each
  newly stored study within a second (a sandbox_ris_study_matches row, journaled
  "seam.study-matched" / "seam.study-unmatched"); an MPPS COMPLETED re-checks its
  study, and `Sandbox.study_matches(code, record=True)` re-checks them all.
- A report (ORU) is attached to its order's study (sandbox/ris/reports.py).
"""

from __future__ import annotations

import logging

from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from sandbox import admin, journal
from sandbox.db import utcnow
from sandbox.models import Patient, RisOrder, RisPatient, RisStudyMatch, Study
from sandbox.ris.context import HandlerContext

log = logging.getLogger("sandbox.ris.seam")


def procedure_scheduled(ctx: HandlerContext, order, *, update: bool = False) -> None:
    what = "RAD-13 procedure updated" if update else "RAD-4 procedure scheduled"
    ctx.record("seam.procedure-scheduled",
               f"{what}: archive expects study {order.study_uid} (accession "
               f"{order.accession_number}) for order {order.placer_number}",
               transaction="RAD-13" if update else "RAD-4", order_id=order.id,
               study_uid=order.study_uid, accession_number=order.accession_number)


def _archive_has(sb, code: str, patient_id: str) -> bool:
    pid = sb._pid(code)
    with sb.db.read() as conn:
        return conn.execute(select(Patient.id).where(
            Patient.partition_id == pid, Patient.store == "archive",
            Patient.patient_id == patient_id)).first() is not None


def patient_updated(ctx: HandlerContext, patient_id: str, changes: dict) -> None:
    """RAD-12 after A08: the stored studies take the new demographics (policy "apply")."""
    archive_changes = {{"name": "patient_name"}.get(k, k): v for k, v in changes.items()}
    code = ctx.code
    if ctx.policy.update_policy != "apply":
        ctx.record("seam.patient-update-flagged",
                   f"RAD-12: archive studies of {patient_id} not changed (policy 'flag'): "
                   f"reconcile {', '.join(changes)} by hand", patient_id=patient_id,
                   changes=changes)
        return

    def apply(sb) -> None:
        if not _archive_has(sb, code, patient_id):
            return
        admin.edit_patient(sb, code, patient_id, **archive_changes)
        journal.record(sb.db, code, "seam.patient-updated",
                       f"RAD-12: archive studies of {patient_id} updated "
                       f"({', '.join(changes)})", patient_id=patient_id, changes=changes)

    ctx.after_commit.append(apply)


def patients_merged(ctx: HandlerContext, prior_id: str, survivor_id: str) -> None:
    """RAD-12 after A40: the prior patient's studies move to the survivor (policy "apply")."""
    code = ctx.code
    if ctx.policy.update_policy != "apply":
        ctx.record("seam.patient-update-flagged",
                   f"RAD-12: archive studies of {prior_id} not merged into {survivor_id} "
                   "(policy 'flag')", patient_id=survivor_id, prior_patient_id=prior_id)
        return
    survivor = ctx.conn.execute(select(RisPatient.name, RisPatient.birth_date, RisPatient.sex)
                                .where(RisPatient.partition_id == ctx.pid,
                                       RisPatient.patient_id == survivor_id)).one()

    def apply(sb) -> None:
        if not _archive_has(sb, code, prior_id):
            return
        if _archive_has(sb, code, survivor_id):
            admin.merge_patients(sb, code, prior_id, survivor_id)
        else:
            admin.edit_patient(sb, code, prior_id, patient_id=survivor_id,
                               patient_name=survivor.name, birth_date=survivor.birth_date,
                               sex=survivor.sex)
        journal.record(sb.db, code, "seam.patients-merged",
                       f"RAD-12: archive studies of {prior_id} now belong to {survivor_id}",
                       patient_id=survivor_id, prior_patient_id=prior_id)

    ctx.after_commit.append(apply)


def reconcile(db, partition_id: int, code: str, *, study_uid: str | None = None,
              record: bool = False) -> list[dict]:
    """Each archive study with its order (if any) and why it does not match."""
    with db.read() as conn:
        q = (select(Study.study_uid, Study.accession_number, Patient.patient_id)
             .join(Patient, Patient.id == Study.patient_pk)
             .where(Study.partition_id == partition_id, Study.store == "archive")
             .order_by(Study.id))
        if study_uid:
            q = q.where(Study.study_uid == study_uid)
        studies = conn.execute(q).all()
        orders = conn.execute(
            select(RisOrder.id, RisOrder.study_uid, RisOrder.accession_number,
                   RisOrder.placer_number, RisOrder.status, RisPatient.patient_id)
            .join(RisPatient, RisPatient.id == RisOrder.patient_pk)
            .where(RisOrder.partition_id == partition_id)).all()
    by_uid = {o.study_uid: o for o in orders}
    by_accession = {o.accession_number: o for o in orders}
    out = []
    for s in studies:
        order = by_uid.get(s.study_uid) or (by_accession.get(s.accession_number)
                                            if s.accession_number else None)
        reasons = []
        if order is None:
            reasons.append("no order has this Study Instance UID or Accession Number")
        else:
            if order.study_uid != s.study_uid:
                reasons.append(f"Study Instance UID differs from order {order.placer_number}'s "
                               f"{order.study_uid}")
            if order.accession_number != s.accession_number:
                reasons.append(f"Accession Number {s.accession_number or '(empty)'} differs from "
                               f"the order's {order.accession_number}")
            if order.patient_id != s.patient_id:
                reasons.append(f"Patient ID {s.patient_id or '(empty)'} differs from the "
                               f"order's {order.patient_id}")
        item = {"study_uid": s.study_uid, "accession_number": s.accession_number,
                "patient_id": s.patient_id, "matched": not reasons,
                "order_id": order.id if order else None,
                "placer_number": order.placer_number if order else "", "reasons": reasons}
        out.append(item)
        if record:
            _flag(db, partition_id, code, item)
    return out


def _flag(db, partition_id: int, code: str, item: dict) -> None:
    """Store the verdict (one row per study); journal it when it is new or has changed."""
    with db.write() as conn:
        row = conn.execute(select(RisStudyMatch.id, RisStudyMatch.matched, RisStudyMatch.reasons)
                           .where(RisStudyMatch.partition_id == partition_id,
                                  RisStudyMatch.study_uid == item["study_uid"])).first()
        values = {"matched": item["matched"], "order_pk": item["order_id"],
                  "reasons": item["reasons"], "checked_at": utcnow()}
        if row is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(RisStudyMatch).values(
                        partition_id=partition_id, study_uid=item["study_uid"], **values))
            except IntegrityError:
                return  # another process flagged it at the same moment
        elif (row.matched, list(row.reasons or [])) == (item["matched"], item["reasons"]):
            return
        else:
            conn.execute(update(RisStudyMatch).where(RisStudyMatch.id == row.id).values(**values))
        journal.record(conn, code, "seam.study-matched" if item["matched"] else
                       "seam.study-unmatched",
                       f"study {item['study_uid']} " + (
                           f"matches order {item['placer_number']}" if item["matched"] else
                           "is unmatched: " + "; ".join(item["reasons"])), **item)


def flag_new_studies(db, limit: int = 200) -> int:
    """Check archive studies no process has checked yet, in partitions whose RIS has orders
    (the RIS worker calls this every half second)."""
    from sandbox.models import Partition

    q = (select(Study.partition_id, Partition.code, Study.study_uid)
         .join(Partition, Partition.id == Study.partition_id)
         .outerjoin(RisStudyMatch, and_(RisStudyMatch.partition_id == Study.partition_id,
                                        RisStudyMatch.study_uid == Study.study_uid))
         .where(Study.store == "archive", RisStudyMatch.id.is_(None),
                # only partitions whose RIS has orders: an archive-only lab gets no noise
                select(RisOrder.id).where(RisOrder.partition_id == Study.partition_id)
                .exists())
         .order_by(Study.id).limit(limit))
    with db.read() as conn:
        new = conn.execute(q).all()
    for partition_id, code, study_uid in new:
        reconcile(db, partition_id, code, study_uid=study_uid, record=True)
    return len(new)
