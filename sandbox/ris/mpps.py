"""Modality Performed Procedure Step SCP at <CODE>_RIS (PS3.4 Annex F; IHE RAD-6, RAD-7).

N-CREATE (PS3.4 F.7.2.1) creates the step IN PROGRESS; N-SET (F.7.2.2) changes it
and may end it COMPLETED or DISCONTINUED, after which it can no longer change.
Checks and their statuses (PS3.7 C.5; named in sandbox/archive/status.py):
  required attribute absent                       -> 0120 Missing attribute
  required attribute present but empty            -> 0121 Missing attribute value
  status not IN PROGRESS at N-CREATE, unknown     -> 0106 Invalid attribute value
  SOP Instance UID already created                -> 0111 Duplicate SOP Instance
  N-SET of an unknown instance                    -> 0112 No such object instance
  N-SET of a COMPLETED/DISCONTINUED step          -> 0110 Processing failure
Each failure answers with an Error Comment (0000,0902) a trainee can read. The
step's Scheduled Step Attributes (SPS ID, accession, Study Instance UID) find the
order, whose status follows: IN PROGRESS -> IP, COMPLETED -> CM, DISCONTINUED -> DC
(IHE RAD-6/RAD-7 Modality Procedure Step In Progress / Completed).
"""

from __future__ import annotations

from types import SimpleNamespace

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from sqlalchemy import insert, or_, select, update

from sandbox.archive import status as st
from sandbox.db import utcnow
from sandbox.models import RisMpps, RisOrder
from sandbox.ris import orders, outbound, seam

IN_PROGRESS, COMPLETED, DISCONTINUED = "IN PROGRESS", "COMPLETED", "DISCONTINUED"
STATES = (IN_PROGRESS, COMPLETED, DISCONTINUED)
ORDER_STATUS = {IN_PROGRESS: orders.IN_PROGRESS, COMPLETED: orders.COMPLETED,
                DISCONTINUED: orders.DISCONTINUED}

# PS3.4 F.7.2.1 table F.7.2-1: Type 1 at N-CREATE (present with a value)
CREATE_REQUIRED = ("PerformedStationAETitle", "PerformedProcedureStepStartDate",
                   "PerformedProcedureStepStartTime", "PerformedProcedureStepStatus",
                   "PerformedProcedureStepID", "Modality", "ScheduledStepAttributesSequence")
# Type 2 at N-CREATE (present, may be empty)
CREATE_PRESENT = ("PatientName", "PatientID", "PerformedSeriesSequence")
# PS3.4 F.7.2.2.2: what a final step must carry
FINAL_REQUIRED = ("PerformedProcedureStepEndDate", "PerformedProcedureStepEndTime")


class MppsError(Exception):
    def __init__(self, status: int, comment: str) -> None:
        super().__init__(comment)
        self.status = status
        self.comment = comment


def _status(code: int, comment: str = "") -> Dataset:
    ds = Dataset()
    ds.Status = code
    if comment:
        ds.ErrorComment = comment[:64]  # LO: at most 64 characters
    return ds


def _value(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value).strip()


def _check_create(ds: Dataset) -> None:
    for kw in CREATE_REQUIRED:
        if kw not in ds:
            raise MppsError(st.MISSING_ATTRIBUTE, f"{kw} is missing")
        if kw.endswith("Sequence"):
            if not ds[kw].value:
                raise MppsError(st.MISSING_ATTRIBUTE_VALUE, f"{kw} has no item")
        elif not _value(ds, kw):
            raise MppsError(st.MISSING_ATTRIBUTE_VALUE, f"{kw} is empty")
    for kw in CREATE_PRESENT:
        if kw not in ds:
            raise MppsError(st.MISSING_ATTRIBUTE, f"{kw} is missing (Type 2)")
    state = _value(ds, "PerformedProcedureStepStatus")
    if state != IN_PROGRESS:
        raise MppsError(st.INVALID_ATTRIBUTE_VALUE,
                        f"N-CREATE status must be IN PROGRESS, not {state}")
    item = ds.ScheduledStepAttributesSequence[0]
    if not _value(item, "StudyInstanceUID"):
        raise MppsError(st.MISSING_ATTRIBUTE_VALUE, "Scheduled Step Study UID is empty")


def _performed(ds: Dataset) -> list[dict]:
    out = []
    for series in ds.get("PerformedSeriesSequence") or []:
        refs = series.get("ReferencedImageSequence") or []
        out.append({"series_uid": _value(series, "SeriesInstanceUID"),
                    "instances": [_value(r, "ReferencedSOPInstanceUID") for r in refs]})
    return out


def _find_order(conn, partition_id: int, item: Dataset):
    sps, accession = _value(item, "ScheduledProcedureStepID"), _value(item, "AccessionNumber")
    study = _value(item, "StudyInstanceUID")
    keys = [c == v for c, v in ((RisOrder.sps_id, sps), (RisOrder.accession_number, accession),
                                (RisOrder.study_uid, study)) if v]
    if not keys:
        return None
    rows = conn.execute(select(RisOrder.__table__).where(
        RisOrder.partition_id == partition_id, or_(*keys)).order_by(RisOrder.id)).all()
    for row in rows:  # the most specific match first: SPS ID, then accession, then study
        if sps and row.sps_id == sps:
            return row
    for row in rows:
        if accession and row.accession_number == accession:
            return row
    return rows[0] if rows else None


def _move_order(ctx, conn, order, state: str, sop_uid: str) -> str:
    if order is None:
        return "no scheduled order matches (unscheduled procedure step)"
    new = ORDER_STATUS[state]
    try:
        orders.check_transition(order.status, new)
    except orders.TransitionError as exc:
        ctx.record("ris.order-status", f"MPPS {sop_uid} {state}: order {order.placer_number} not "
                   f"changed: {exc}", conn=conn, order_id=order.id)
        return f"order {order.placer_number} stays {orders.STATUS_NAMES[order.status]} ({exc})"
    if new != order.status:
        conn.execute(update(RisOrder).where(RisOrder.id == order.id).values(
            status=new, updated_at=utcnow()))
        ctx.record("ris.order-status",
                   f"order {order.placer_number}: {orders.STATUS_NAMES[order.status]} -> "
                   f"{orders.STATUS_NAMES[new]} (MPPS {state})", conn=conn, order_id=order.id,
                   placer_number=order.placer_number, accession_number=order.accession_number,
                   before=order.status, after=new)
        outbound.queue_status(SimpleNamespace(conn=conn, pid=ctx.partition.id, code=ctx.code),
                              order.id)
    return f"order {order.placer_number} {orders.STATUS_NAMES[new]}"


def on_create(event, ctx):
    req = event.request
    sop_uid = str(req.AffectedSOPInstanceUID or "").strip() or generate_uid()
    try:
        ds = event.attribute_list
        _check_create(ds)
        item = ds.ScheduledStepAttributesSequence[0]
        with ctx.services.db.write() as conn:
            if conn.execute(select(RisMpps.id).where(
                    RisMpps.partition_id == ctx.partition.id,
                    RisMpps.sop_instance_uid == sop_uid)).first():
                raise MppsError(st.DUPLICATE_SOP_INSTANCE, f"MPPS {sop_uid[-30:]} already exists")
            order = _find_order(conn, ctx.partition.id, item)
            conn.execute(insert(RisMpps).values(
                partition_id=ctx.partition.id, sop_instance_uid=sop_uid,
                order_pk=order.id if order else None, status=IN_PROGRESS,
                calling_ae=ctx.calling_ae, station_ae=_value(ds, "PerformedStationAETitle"),
                modality=_value(ds, "Modality"), patient_id=_value(ds, "PatientID"),
                study_uid=_value(item, "StudyInstanceUID"),
                accession_number=_value(item, "AccessionNumber")[:16],
                performed=_performed(ds), created_at=utcnow(), updated_at=utcnow()))
            outcome = _move_order(ctx, conn, order, IN_PROGRESS, sop_uid)
            ctx.record("dimse.n-create", f"MPPS {sop_uid} IN PROGRESS: {outcome}",
                       status=st.SUCCESS, conn=conn, sop_instance_uid=sop_uid,
                       service="MPPS", order_id=order.id if order else None,
                       duration_ms=ctx.elapsed_ms())
    except MppsError as exc:
        ctx.record("dimse.n-create", f"MPPS N-CREATE refused: {exc.comment}", status=exc.status,
                   sop_instance_uid=sop_uid, service="MPPS", reason=exc.comment)
        return _status(exc.status, exc.comment), None
    reply = Dataset()
    if req.AffectedSOPInstanceUID is None:
        reply.AffectedSOPInstanceUID = sop_uid
    reply.PerformedProcedureStepStatus = IN_PROGRESS
    return st.SUCCESS, reply


def on_set(event, ctx):
    req = event.request
    sop_uid = str(req.RequestedSOPInstanceUID or "").strip()
    try:
        mods = event.modification_list
        with ctx.services.db.write() as conn:
            row = conn.execute(select(RisMpps.__table__).where(
                RisMpps.partition_id == ctx.partition.id,
                RisMpps.sop_instance_uid == sop_uid)).first()
            if row is None:
                raise MppsError(st.NO_SUCH_OBJECT_INSTANCE, "no such MPPS: N-CREATE it first")
            if row.status != IN_PROGRESS:
                # PS3.4 F.7.2.2.2: a final step may no longer be updated
                raise MppsError(st.PROCESSING_FAILURE,
                                f"MPPS is {row.status}: it may no longer be updated")
            new = _value(mods, "PerformedProcedureStepStatus") or row.status
            if new not in STATES:
                raise MppsError(st.INVALID_ATTRIBUTE_VALUE, f"unknown MPPS status {new}")
            performed = _performed(mods) if "PerformedSeriesSequence" in mods else row.performed
            if new != IN_PROGRESS:
                for kw in FINAL_REQUIRED:
                    if kw not in mods and new == COMPLETED:
                        raise MppsError(st.MISSING_ATTRIBUTE, f"{kw} is missing for {new}")
                    if kw in mods and not _value(mods, kw):
                        raise MppsError(st.MISSING_ATTRIBUTE_VALUE, f"{kw} is empty")
                if new == COMPLETED and not performed:
                    raise MppsError(st.MISSING_ATTRIBUTE_VALUE,
                                    "COMPLETED needs Performed Series Sequence items")
            conn.execute(update(RisMpps).where(RisMpps.id == row.id).values(
                status=new, performed=performed, updated_at=utcnow()))
            order = conn.execute(select(RisOrder.__table__).where(
                RisOrder.id == row.order_pk)).first() if row.order_pk else None
            outcome = _move_order(ctx, conn, order, new, sop_uid) if new != row.status \
                else "no status change"
            ctx.record("dimse.n-set", f"MPPS {sop_uid} {new}: {outcome}", status=st.SUCCESS,
                       conn=conn, sop_instance_uid=sop_uid, service="MPPS", before=row.status,
                       after=new, duration_ms=ctx.elapsed_ms())
    except MppsError as exc:
        ctx.record("dimse.n-set", f"MPPS N-SET refused: {exc.comment}", status=exc.status,
                   sop_instance_uid=sop_uid, service="MPPS", reason=exc.comment)
        return _status(exc.status, exc.comment), None
    if new == COMPLETED and order is not None:
        seam.reconcile(ctx.services.db, ctx.partition.id, ctx.code, study_uid=order.study_uid,
                       record=True)
    reply = Dataset()
    reply.PerformedProcedureStepStatus = new
    return st.SUCCESS, reply

