"""Orders (HL7 v2.5.1 Ch. 4; IHE RAD-2 Placer Order Management, RAD-3 Filler Order Management).

ORM^O01 (v2.3.1-2.5.1) and OMI^O23 (v2.5.1, imaging order with IPC) carry one or
more ORC/OBR pairs. ORC-1 order control:
  NW new order -> scheduled (SC)        CA cancel request -> cancelled (CA)
  DC discontinue request -> (DC)        XO change order (while scheduled)
  SC status changed: ORC-5 gives the new status (HL7 table 0038: SC, IP, CM, DC, CA)
Identifiers the RIS (the Order Filler) keeps per order, as IHE RAD TF-2 4.4 maps them:
  placer order number ORC-2/OBR-2, filler order number ORC-3/OBR-3 (else assigned),
  accession number OBR-18 (ORM) or IPC-1 (OMI) else assigned, requested procedure ID
  OBR-19 / IPC-2 else assigned, scheduled procedure step ID OBR-20 / IPC-4 else assigned,
  Study Instance UID IPC-3 else assigned, procedure code OBR-4 (required),
  modality OBR-24 / IPC-5 else the partition's procedure-code table, scheduled station
  AE title IPC-9 else the table's or <CODE>_<MODALITY>, start TQ1-7 / ORC-7.4 / OBR-27.4.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from pydicom.uid import generate_uid
from sqlalchemy import insert, select, update

from sandbox.db import utcnow
from sandbox.models import RisOrder, RisProcedure, RisVisit
from sandbox.ris import adt, outbound, seam
from sandbox.ris.context import HandlerContext
from sandbox.ris.messages import (
    DATA_TYPE_ERROR, DUPLICATE_KEY_IDENTIFIER, SEGMENT_SEQUENCE_ERROR, TABLE_VALUE_NOT_FOUND,
    UNKNOWN_KEY_IDENTIFIER, Hl7Error, SegmentView, xcn_to_pn,
)

# HL7 table 0038 order status
SCHEDULED, IN_PROGRESS, COMPLETED, DISCONTINUED, CANCELLED = "SC", "IP", "CM", "DC", "CA"
STATUS_NAMES = {SCHEDULED: "scheduled", IN_PROGRESS: "in progress", COMPLETED: "completed",
                DISCONTINUED: "discontinued", CANCELLED: "cancelled"}
# The lifecycle: which status may follow which
TRANSITIONS = {
    SCHEDULED: {IN_PROGRESS, DISCONTINUED, CANCELLED, COMPLETED},
    IN_PROGRESS: {COMPLETED, DISCONTINUED},
    COMPLETED: set(), DISCONTINUED: set(), CANCELLED: set(),
}
ORDER_CONTROLS = ("NW", "CA", "DC", "XO", "SC")

# DICOM modality codes (PS3.3 C.7.3.1.1.1) an OBR-24 / IPC-5 may carry
MODALITIES = {"CT", "MR", "CR", "DX", "US", "NM", "PT", "XA", "RF", "MG", "OT", "IO", "PX",
              "ES", "XC", "OP", "IVUS", "OCT", "RG", "SR", "ECG", "HD", "BMD"}

# The procedure-code table every partition starts with (code -> description, modality);
# a partition's own rows (RisProcedure) override it, faults can break it.
DEFAULT_PROCEDURES = {
    "CTHEAD": ("CT HEAD WITHOUT CONTRAST", "CT"),
    "CTCHEST": ("CT CHEST WITH CONTRAST", "CT"),
    "CTABD": ("CT ABDOMEN AND PELVIS", "CT"),
    "MRBRAIN": ("MRI BRAIN WITHOUT CONTRAST", "MR"),
    "MRKNEE": ("MRI KNEE", "MR"),
    "XRCHEST": ("XR CHEST 2 VIEWS", "CR"),
    "DXCHEST": ("XR CHEST PA AND LATERAL", "DX"),
    "USABD": ("US ABDOMEN COMPLETE", "US"),
    "NMBONE": ("NM BONE SCAN WHOLE BODY", "NM"),
    "MGSCREEN": ("MAMMOGRAPHY SCREENING", "MG"),
}


class TransitionError(ValueError):
    pass


def check_transition(current: str, new: str) -> None:
    if new == current:
        return
    if new not in TRANSITIONS.get(current, set()):
        raise TransitionError(
            f"an order that is {STATUS_NAMES.get(current, current)} cannot become "
            f"{STATUS_NAMES.get(new, new)}")


def procedure_table(conn, partition_id: int) -> dict[str, tuple[str, str, str]]:
    """code -> (description, modality, station AE) for a partition."""
    table = {c: (d, m, "") for c, (d, m) in DEFAULT_PROCEDURES.items()}
    for row in conn.execute(select(RisProcedure.code, RisProcedure.description,
                                   RisProcedure.modality, RisProcedure.station_ae)
                            .where(RisProcedure.partition_id == partition_id)):
        table[row.code] = (row.description, row.modality, row.station_ae)
    return table


def _pairs(ctx: HandlerContext) -> list[tuple]:
    """(ORC, OBR, [IPC...], TQ1) per order in the message, in order."""
    out, current = [], None
    for seg in ctx.msg.segments:
        if seg.name == "ORC":
            current = [seg, None, [], None]
            out.append(current)
        elif current is None:
            if seg.name in ("OBR", "IPC", "TQ1"):
                raise Hl7Error(f"{seg.name} before any ORC: each order starts with an ORC "
                               "segment", seg.name, seg.sequence, 0, 0, SEGMENT_SEQUENCE_ERROR)
        elif seg.name == "OBR":
            current[1] = seg
        elif seg.name == "IPC":
            current[2].append(seg)
        elif seg.name == "TQ1":
            current[3] = seg
    if not out:
        raise Hl7Error("the ORC segment is missing: an order message needs ORC (common order) "
                       "then OBR", "ORC", 1, 0, 0, SEGMENT_SEQUENCE_ERROR)
    return [tuple(p) for p in out]


def on_order(ctx: HandlerContext) -> str:
    """ORM^O01 and OMI^O23."""
    pairs = _pairs(ctx)
    pid = ctx.msg.first("PID")
    done = []
    for orc, obr, ipcs, tq1 in pairs:
        control = orc.get(1).strip().upper()
        if not control:
            raise orc.error(1, "ORC-1 order control is required (NW new, CA cancel, DC "
                            "discontinue, XO change, SC status changed)")
        if control not in ORDER_CONTROLS:
            raise orc.error(1, f"ORC-1 order control {control!r} is not supported here; use "
                            f"{', '.join(ORDER_CONTROLS)}", TABLE_VALUE_NOT_FOUND)
        if obr is None:
            raise Hl7Error(f"the ORC with ORC-1 {control} has no OBR segment after it",
                           "OBR", orc.sequence, 0, 0, SEGMENT_SEQUENCE_ERROR)
        if control == "NW":
            if pid is None:
                raise Hl7Error("a new order needs the patient: the PID segment is missing",
                               "PID", 1, 0, 0, SEGMENT_SEQUENCE_ERROR)
            done.append(_new_order(ctx, pid, orc, obr, ipcs, tq1))
        else:
            done.append(_change_order(ctx, control, orc, obr, ipcs, tq1))
    return "; ".join(done)


def _placer(orc: SegmentView, obr: SegmentView) -> str:
    value = orc.get(2).strip() or obr.get(2).strip()
    if not value:
        raise orc.error(2, "the placer order number is required in ORC-2 (or OBR-2)")
    if len(value) > 64:
        raise orc.error(2, "ORC-2 placer order number longer than 64 characters",
                        DATA_TYPE_ERROR)
    return value


def _schedule(ctx: HandlerContext, orc, obr, tq1) -> tuple[str, str]:
    """Scheduled start (DICOM DA, TM): TQ1-7 (v2.5+), ORC-7.4, OBR-27.4, else now."""
    for seg, number, comp in ((tq1, 7, 1), (orc, 7, 4), (obr, 27, 4)):
        if seg is not None and seg.get(number, comp).strip():
            date, time = adt.check_datetime(seg, number, comp)
            break
    else:
        now = datetime.now(timezone.utc)
        date, time = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    if ctx.fault("swap_date_format") is not None:
        swapped = date[:4] + date[6:8] + date[4:6]
        ctx.fault_fired("swap_date_format", f"scheduled date {date} read as {swapped} "
                        "(day and month fields swapped)", date=date)
        date = swapped
    return date, time


def _order_values(ctx: HandlerContext, orc, obr, ipcs, tq1, *, partial: bool = False) -> dict:
    """Column values an ORC/OBR(/IPC/TQ1) gives; `partial` keeps only what was sent (XO)."""
    ipc = ipcs[0] if ipcs else None
    code = obr.get(4, 1).strip()
    if not code and not partial:
        raise obr.error(4, "OBR-4 universal service identifier (the procedure code, e.g. "
                        "CTHEAD^CT HEAD^L) is required")
    table = procedure_table(ctx.conn, ctx.pid)
    values: dict = {}
    if code:
        description = obr.get(4, 2).strip() or table.get(code, ("", "", ""))[0]
        values.update(procedure_code=code[:64], procedure_scheme=obr.get(4, 3).strip()[:16],
                      procedure_description=description[:64])
        modality = (ipc.get(5, 1).strip().upper() if ipc else "") or obr.get(24).strip().upper()
        if modality not in MODALITIES:
            modality = ""
        _, table_modality, table_station = table.get(code, ("", "", ""))
        fault = ctx.fault("procedure_modality")
        if fault and fault["procedure"] == code:
            ctx.fault_fired("procedure_modality", f"procedure {code} maps to "
                            f"{fault['modality'] or 'no modality'} (table broken)", code=code)
            table_modality = fault["modality"]
        if not modality:
            modality = table_modality
        if not modality:
            raise obr.error(4, f"procedure code {code} has no modality in {ctx.code}'s procedure "
                            "table and OBR-24 gives none: map the code to a modality or send "
                            "OBR-24 (e.g. CT)", TABLE_VALUE_NOT_FOUND)
        station = (ipc.get(9).strip() if ipc else "") or table_station \
            or f"{ctx.code}_{modality}"
        fault = ctx.fault("wrong_station_ae")
        if fault:
            ctx.fault_fired("wrong_station_ae", f"order scheduled on {fault['ae_title']} instead "
                            f"of {station}", ae_title=fault["ae_title"])
            station = fault["ae_title"]
        values.update(modality=modality[:16], station_ae=station[:16])
    if not partial or (tq1 and tq1.get(7).strip()) or orc.get(7, 4).strip() \
            or obr.get(27, 4).strip():
        values["sps_start_date"], values["sps_start_time"] = _schedule(ctx, orc, obr, tq1)
    referring = xcn_to_pn(orc, 12) or xcn_to_pn(obr, 16)
    pv1 = ctx.msg.first("PV1")
    if not referring and pv1 is not None:
        referring = xcn_to_pn(pv1, 8)
    if referring:
        values["referring_physician"] = referring[:324]
    priority = (tq1.get(9).strip() if tq1 else "") or orc.get(7, 6).strip()
    if priority:
        values["priority"] = priority[:8]
    return values


def _new_order(ctx: HandlerContext, pid, orc, obr, ipcs, tq1) -> str:
    placer = _placer(orc, obr)
    if ctx.conn.execute(select(RisOrder.id).where(RisOrder.partition_id == ctx.pid,
                                                  RisOrder.placer_number == placer)).first():
        raise orc.error(2, f"placer order number {placer} already exists in {ctx.code}: a new "
                        "order needs a new number (use XO to change an order)",
                        DUPLICATE_KEY_IDENTIFIER)
    patient_pk = adt.upsert_patient(ctx, pid)
    visit_pk = _visit_for_order(ctx, patient_pk)
    values = _order_values(ctx, orc, obr, ipcs, tq1)
    ipc = ipcs[0] if ipcs else None
    if len(ipcs) > 1:
        ctx.notes.append(f"{len(ipcs)} IPC segments: the first scheduled step is used")
    accession = (ipc.get(1).strip() if ipc else "") if ctx.msg.message_type == "OMI" \
        else obr.get(18).strip()
    if len(accession) > 16:
        seg, number = (ipc, 1) if ctx.msg.message_type == "OMI" else (obr, 18)
        raise seg.error(number, f"accession number {accession!r} is longer than 16 characters "
                        "(DICOM SH)", DATA_TYPE_ERROR)
    if accession and ctx.conn.execute(select(RisOrder.id).where(
            RisOrder.partition_id == ctx.pid, RisOrder.accession_number == accession)).first():
        seg, number = (ipc, 1) if ctx.msg.message_type == "OMI" else (obr, 18)
        raise seg.error(number, f"accession number {accession} is already used by another order",
                        DUPLICATE_KEY_IDENTIFIER)
    study_uid = (ipc.get(3).strip() if ipc else "")
    if study_uid and not _is_uid(study_uid):
        raise ipc.error(3, f"IPC-3 Study Instance UID {study_uid!r} is not a valid UID",
                        DATA_TYPE_ERROR)
    provisional = f"~{uuid.uuid4().hex[:15]}"
    order_pk = ctx.conn.execute(insert(RisOrder).values(
        partition_id=ctx.pid, patient_pk=patient_pk, visit_pk=visit_pk, placer_number=placer,
        filler_number=orc.get(3).strip() or obr.get(3).strip(),
        accession_number=accession or provisional,
        requested_procedure_id=(ipc.get(2).strip() if ipc else obr.get(19).strip())[:16],
        sps_id=(ipc.get(4).strip() if ipc else obr.get(20).strip())[:16],
        study_uid=study_uid or generate_uid(), status=SCHEDULED, created_at=utcnow(),
        updated_at=utcnow(), **values).returning(RisOrder.id)).scalar_one()
    # identifiers the RIS assigns are derived from the row id: unique across processes
    row = ctx.conn.execute(select(RisOrder.__table__).where(RisOrder.id == order_pk)).one()
    assigned = {}
    if not accession:
        assigned["accession_number"] = f"{ctx.code}A{order_pk:07d}"[:16]
    if not row.filler_number:
        assigned["filler_number"] = f"{ctx.code}F{order_pk:07d}"
    if not row.requested_procedure_id:
        assigned["requested_procedure_id"] = f"RP{order_pk:07d}"
    if not row.sps_id:
        assigned["sps_id"] = f"SPS{order_pk:07d}"
    if assigned:
        ctx.conn.execute(update(RisOrder).where(RisOrder.id == order_pk).values(**assigned))
    row = ctx.conn.execute(select(RisOrder.__table__).where(RisOrder.id == order_pk)).one()
    ctx.record("ris.order-scheduled",
               f"order {placer} scheduled: {row.procedure_code} on {row.modality} "
               f"({row.station_ae}) {row.sps_start_date} {row.sps_start_time}, accession "
               f"{row.accession_number}", order_id=order_pk, placer_number=placer,
               accession_number=row.accession_number, study_uid=row.study_uid,
               modality=row.modality, station_ae=row.station_ae)
    seam.procedure_scheduled(ctx, row)
    outbound.queue_status(ctx, order_pk)
    return f"order {placer} scheduled (accession {row.accession_number})"


def _visit_for_order(ctx: HandlerContext, patient_pk: int) -> int | None:
    pv1 = ctx.msg.first("PV1")
    number = pv1.get(19).strip() if pv1 is not None else ""
    if not number:
        return None
    visit = ctx.conn.execute(select(RisVisit.id, RisVisit.status).where(
        RisVisit.partition_id == ctx.pid, RisVisit.visit_number == number)).first()
    if visit is not None and visit.status == "cancelled":
        raise pv1.error(19, f"visit {number} was cancelled (A11): no new orders can be placed "
                        "on it", UNKNOWN_KEY_IDENTIFIER)
    return adt.upsert_visit(ctx, patient_pk, pv1, ctx.msg.trigger)


def find_order(ctx: HandlerContext, orc: SegmentView, obr: SegmentView | None):
    placer = orc.get(2).strip() or (obr.get(2).strip() if obr else "")
    filler = orc.get(3).strip() or (obr.get(3).strip() if obr else "")
    if not placer and not filler:
        raise orc.error(2, "name the order: ORC-2 placer or ORC-3 filler order number is "
                        "required")
    q = select(RisOrder.__table__).where(RisOrder.partition_id == ctx.pid)
    row = ctx.conn.execute(q.where(RisOrder.placer_number == placer)).first() if placer else None
    if row is None and filler:
        row = ctx.conn.execute(q.where(RisOrder.filler_number == filler)).first()
    if row is None:
        raise orc.error(2 if placer else 3, f"no order with placer number {placer or '-'} / "
                        f"filler number {filler or '-'} in {ctx.code}", UNKNOWN_KEY_IDENTIFIER)
    return row


def set_status(ctx: HandlerContext, order, new: str, why: str) -> None:
    """Move an order's status (checked by the caller) and tell the order placer."""
    ctx.conn.execute(update(RisOrder).where(RisOrder.id == order.id).values(
        status=new, updated_at=utcnow()))
    ctx.record("ris.order-status", f"order {order.placer_number}: {STATUS_NAMES[order.status]} "
               f"-> {STATUS_NAMES[new]} ({why})", order_id=order.id,
               placer_number=order.placer_number, accession_number=order.accession_number,
               before=order.status, after=new)
    outbound.queue_status(ctx, order.id)


def _change_order(ctx: HandlerContext, control: str, orc, obr, ipcs, tq1) -> str:
    order = find_order(ctx, orc, obr)
    if control == "XO":
        if order.status != SCHEDULED:
            raise orc.error(1, f"order {order.placer_number} is {STATUS_NAMES[order.status]}: "
                            "only a scheduled order can be changed (XO)", TABLE_VALUE_NOT_FOUND)
        values = _order_values(ctx, orc, obr, ipcs, tq1, partial=True)
        ctx.conn.execute(update(RisOrder).where(RisOrder.id == order.id).values(
            updated_at=utcnow(), **values))
        ctx.record("ris.order-changed", f"order {order.placer_number} changed: "
                   f"{', '.join(sorted(values)) or 'nothing'}", order_id=order.id,
                   changes=values)
        new_row = ctx.conn.execute(select(RisOrder.__table__).where(
            RisOrder.id == order.id)).one()
        seam.procedure_scheduled(ctx, new_row, update=True)
        outbound.queue_status(ctx, order.id)
        return f"order {order.placer_number} changed"
    if control == "SC":
        new = orc.get(5).strip().upper()
        if not new:
            raise orc.error(5, "ORC-5 order status is required with ORC-1 SC (SC, IP, CM, DC, "
                            "CA)")
        if new not in STATUS_NAMES:
            raise orc.error(5, f"ORC-5 order status {new!r} is not one of SC, IP, CM, DC, CA "
                            "(HL7 table 0038)", TABLE_VALUE_NOT_FOUND)
    else:
        new = {"CA": CANCELLED, "DC": DISCONTINUED}[control]
    try:
        check_transition(order.status, new)
    except TransitionError as exc:
        hint = " (it is in progress: discontinue it with DC)" if (
            control == "CA" and order.status == IN_PROGRESS) else ""
        raise orc.error(5 if control == "SC" else 1, f"order {order.placer_number}: {exc}{hint}",
                        TABLE_VALUE_NOT_FOUND) from None
    if new != order.status:
        set_status(ctx, order, new, f"ORC-1 {control}")
    return f"order {order.placer_number} {STATUS_NAMES[new]}"


def _is_uid(value: str) -> bool:
    import re

    return len(value) <= 64 and re.fullmatch(r"[0-9]+(\.[0-9]+)*", value) is not None
