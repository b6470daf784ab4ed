"""ADT (HL7 v2.5.1 Ch. 3; IHE RAD-1 Patient Registration, RAD-12 Patient Update).

A01 admit, A04 register, A05 pre-admit: the patient (PID) and the visit (PV1).
A08 update patient information: the patient must be known.
A11 cancel admit/visit: the visit (PV1-19) must be known; its scheduled orders are cancelled.
A40 merge patient - patient identifier list: PID-3 survives, MRG-1 is merged into it.
A08 and A40 reach the archive's stored studies through the seam (sandbox/ris/seam.py).
"""

from __future__ import annotations

from sqlalchemy import insert, select, update

from sandbox.db import utcnow
from sandbox.models import RisMpps, RisOrder, RisPatient, RisVisit
from sandbox.ris import seam
from sandbox.ris.context import HandlerContext
from sandbox.ris.messages import (
    DATA_TYPE_ERROR, UNKNOWN_KEY_IDENTIFIER, SegmentView, hl7_datetime, xpn_to_pn,
)

# HL7 table 0001 administrative sex; DICOM (0010,0040) takes M, F, O
_SEX = {"M": "M", "F": "F", "O": "O", "U": "", "A": "O", "N": "O", "": ""}


def patient_identifier(ctx: HandlerContext, pid: SegmentView,
                       number: int = 3) -> tuple[str, str, list]:
    """(patient ID, assigning authority, all repetitions) from PID-3 (CX), the home issuer first.

    PID-3 may repeat with identifiers from several assigning authorities (CX-4); the
    partition's home authority is the one the hospital's images carry.
    """
    reps = [{"id": pid.get(number, 1, r).strip(), "issuer": pid.get(number, 4, r).strip(),
             "type": pid.get(number, 5, r).strip()} for r in range(len(pid.repetitions(number)))]
    reps = [r for r in reps if r["id"]]
    if not reps:
        raise pid.error(number, f"{pid.name}-{number} patient identifier list is required: give "
                        "the patient ID (e.g. 12345678^^^ACADEMY_GH^MR)")
    wanted = ctx.policy.home_issuer
    fault = ctx.fault("second_assigning_authority")
    if fault:
        other = [r for r in reps if r["issuer"] == fault["issuer"]]
        if other:
            ctx.fault_fired("second_assigning_authority",
                            f"patient filed under {other[0]['id']} from {fault['issuer']} "
                            f"instead of the {wanted} identifier", issuer=fault["issuer"])
            return other[0]["id"], other[0]["issuer"], reps
    chosen = next((r for r in reps if r["issuer"] == wanted), None) \
        or next((r for r in reps if r["type"] == "MR"), None) or reps[0]
    if len(chosen["id"]) > 64:
        raise pid.error(number, "patient ID longer than 64 characters", DATA_TYPE_ERROR)
    return chosen["id"], chosen["issuer"], reps


def demographics(pid: SegmentView) -> dict:
    """PID-5 name, PID-7 birth date, PID-8 sex as DICOM values; Hl7Error on a bad date."""
    out = {"name": xpn_to_pn(pid, 5)[:324]}
    born = pid.get(7).strip()
    if born:
        try:
            out["birth_date"] = hl7_datetime(born)[0]
        except ValueError as exc:
            raise pid.error(7, f"PID-7 date of birth: {exc}", DATA_TYPE_ERROR) from None
    else:
        out["birth_date"] = ""
    sex = pid.get(8).strip().upper()
    if sex not in _SEX:
        raise pid.error(8, f"PID-8 administrative sex {sex!r} is not in HL7 table 0001 "
                        "(F, M, O, U, A, N)", DATA_TYPE_ERROR)
    out["sex"] = _SEX[sex]
    return out


def find_patient(ctx: HandlerContext, patient_id: str):
    return ctx.conn.execute(select(RisPatient.__table__).where(
        RisPatient.partition_id == ctx.pid, RisPatient.patient_id == patient_id)).first()


def upsert_patient(ctx: HandlerContext, pid: SegmentView, *, must_exist: bool = False) -> int:
    """The patient's row id, created or updated from PID."""
    patient_id, issuer, reps = patient_identifier(ctx, pid)
    values = demographics(pid)
    row = find_patient(ctx, patient_id)
    if row is None:
        if must_exist:
            raise pid.error(3, f"patient {patient_id} is not registered in {ctx.code}'s RIS: "
                            "register it first (ADT^A04 or A01)", UNKNOWN_KEY_IDENTIFIER)
        return ctx.conn.execute(insert(RisPatient).values(
            partition_id=ctx.pid, patient_id=patient_id, issuer=issuer, identifiers=reps,
            updated_at=utcnow(), merged_into="", **values).returning(RisPatient.id)).scalar_one()
    if row.merged_into:
        raise pid.error(3, f"patient {patient_id} was merged into {row.merged_into} (A40): use "
                        "the surviving identifier", UNKNOWN_KEY_IDENTIFIER)
    changed = {k: v for k, v in values.items() if v and getattr(row, k) != v}
    if changed or reps != row.identifiers:
        ctx.conn.execute(update(RisPatient).where(RisPatient.id == row.id).values(
            identifiers=reps, updated_at=utcnow(), **changed))
    return row.id


def upsert_visit(ctx: HandlerContext, patient_pk: int, pv1: SegmentView | None,
                 event: str) -> int | None:
    if pv1 is None:
        return None
    number = pv1.get(19).strip()
    if not number:
        return None
    row = ctx.conn.execute(select(RisVisit.id, RisVisit.status, RisVisit.patient_pk).where(
        RisVisit.partition_id == ctx.pid, RisVisit.visit_number == number)).first()
    values = {"patient_class": pv1.get(2).strip()[:8],
              "location": "^".join(filter(None, (pv1.get(3, i) for i in (1, 2, 3))))[:120]}
    if row is None:
        return ctx.conn.execute(insert(RisVisit).values(
            partition_id=ctx.pid, patient_pk=patient_pk, visit_number=number[:64],
            status="active", event=event, created_at=utcnow(), **values
        ).returning(RisVisit.id)).scalar_one()
    if row.patient_pk != patient_pk:
        raise pv1.error(19, f"visit {number} belongs to another patient", UNKNOWN_KEY_IDENTIFIER)
    ctx.conn.execute(update(RisVisit).where(RisVisit.id == row.id).values(**values))
    return row.id


def on_register(ctx: HandlerContext) -> str:
    """A01, A04, A05."""
    pid = ctx.msg.require("PID", "ADT messages carry the patient in PID")
    patient_pk = upsert_patient(ctx, pid)
    visit = upsert_visit(ctx, patient_pk, ctx.msg.first("PV1"), ctx.msg.trigger)
    patient_id = patient_identifier(ctx, pid)[0]
    ctx.record("ris.patient-registered",
               f"{ctx.msg.type_code}: patient {patient_id} registered"
               + (f", visit {ctx.msg.first('PV1').get(19)}" if visit else ""),
               patient_id=patient_id)
    return f"patient {patient_id} registered"


def on_update(ctx: HandlerContext) -> str:
    """A08 (IHE RAD-12): demographics change, then the archive's studies follow (seam)."""
    pid = ctx.msg.require("PID", "A08 carries the updated patient in PID")
    patient_id = patient_identifier(ctx, pid)[0]
    before = find_patient(ctx, patient_id)
    upsert_patient(ctx, pid, must_exist=True)
    after = find_patient(ctx, patient_id)
    changes = {k: getattr(after, k) for k in ("name", "birth_date", "sex")
               if getattr(before, k) != getattr(after, k)}
    upsert_visit(ctx, after.id, ctx.msg.first("PV1"), "A08")
    ctx.record("ris.patient-updated", f"A08: patient {patient_id} updated: "
               f"{', '.join(changes) or 'no demographic change'}", patient_id=patient_id,
               before={k: getattr(before, k) for k in changes}, after=changes)
    if changes:
        seam.patient_updated(ctx, patient_id, changes)
    return f"patient {patient_id} updated"


def on_cancel_visit(ctx: HandlerContext) -> str:
    """A11: cancel admit / visit notification."""
    pid = ctx.msg.require("PID")
    pv1 = ctx.msg.require("PV1", "A11 names the visit to cancel in PV1-19")
    patient_id = patient_identifier(ctx, pid)[0]
    number = pv1.require(19, "PV1-19 visit number of the visit to cancel")
    visit = ctx.conn.execute(select(RisVisit.__table__).where(
        RisVisit.partition_id == ctx.pid, RisVisit.visit_number == number)).first()
    if visit is None:
        raise pv1.error(19, f"visit {number} is not known to {ctx.code}'s RIS",
                        UNKNOWN_KEY_IDENTIFIER)
    ctx.conn.execute(update(RisVisit).where(RisVisit.id == visit.id).values(status="cancelled"))
    cancelled = ctx.conn.execute(update(RisOrder).where(
        RisOrder.visit_pk == visit.id, RisOrder.status == "SC").values(
        status="CA", updated_at=utcnow()).returning(RisOrder.id)).scalars().all()
    ctx.record("ris.visit-cancelled", f"A11: visit {number} of {patient_id} cancelled, "
               f"{len(cancelled)} scheduled order(s) cancelled", visit_number=number,
               orders=list(cancelled))
    from sandbox.ris import outbound
    for order_pk in cancelled:
        outbound.queue_status(ctx, order_pk)
    return f"visit {number} cancelled"


def on_merge(ctx: HandlerContext) -> str:
    """A40: PID-3 is the surviving patient, MRG-1 the prior identifier merged into it."""
    pid = ctx.msg.require("PID")
    mrg = ctx.msg.require("MRG", "A40 names the patient to merge away in MRG-1")
    survivor_id = patient_identifier(ctx, pid)[0]
    prior_id = patient_identifier(ctx, mrg, 1)[0]
    if prior_id == survivor_id:
        raise mrg.error(1, f"MRG-1 names the same patient as PID-3 ({prior_id}): a patient "
                        "cannot be merged into itself", UNKNOWN_KEY_IDENTIFIER)
    prior = find_patient(ctx, prior_id)
    if prior is None:
        raise mrg.error(1, f"prior patient {prior_id} (MRG-1) is not registered in {ctx.code}'s "
                        "RIS: nothing to merge", UNKNOWN_KEY_IDENTIFIER)
    if prior.merged_into:
        raise mrg.error(1, f"patient {prior_id} was already merged into {prior.merged_into}",
                        UNKNOWN_KEY_IDENTIFIER)
    survivor_pk = upsert_patient(ctx, pid)
    for model in (RisVisit, RisOrder):
        ctx.conn.execute(update(model).where(model.patient_pk == prior.id)
                         .values(patient_pk=survivor_pk))
    ctx.conn.execute(update(RisMpps).where(RisMpps.partition_id == ctx.pid,
                                           RisMpps.patient_id == prior_id)
                     .values(patient_id=survivor_id))
    ctx.conn.execute(update(RisPatient).where(RisPatient.id == prior.id).values(
        merged_into=survivor_id, updated_at=utcnow()))
    # reports hang off orders, which moved with the patient
    ctx.record("ris.patients-merged", f"A40: patient {prior_id} merged into {survivor_id}",
               prior_patient_id=prior_id, patient_id=survivor_id)
    seam.patients_merged(ctx, prior_id, survivor_id)
    return f"patient {prior_id} merged into {survivor_id}"


def check_datetime(seg: SegmentView, number: int, component: int = 1) -> tuple[str, str]:
    value = seg.get(number, component).strip()
    try:
        return hl7_datetime(value)
    except ValueError as exc:
        raise seg.error(number, f"{seg.name}-{number}: {exc}", DATA_TYPE_ERROR,
                        component=component if component > 1 else 0) from None


HANDLERS = {"A01": on_register, "A04": on_register, "A05": on_register, "A08": on_update,
            "A11": on_cancel_visit, "A40": on_merge}