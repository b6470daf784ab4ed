"""ORU^R01 (HL7 v2.5.1 Ch. 7): the report, attached to its order and through it to its study.

The order is found by OBR-3 filler order number, OBR-2 placer order number or
OBR-18 accession number; OBX-5 values (TX, FT, ST; repetitions and \\.br\\ line
breaks honoured) make the text; OBR-25 is the result status (P, F, C).
"""

from __future__ import annotations

from sqlalchemy import insert, select

from sandbox.db import utcnow
from sandbox.models import RisOrder, RisReport, Study
from sandbox.ris.context import HandlerContext
from sandbox.ris.messages import (
    SEGMENT_SEQUENCE_ERROR, TABLE_VALUE_NOT_FOUND, UNKNOWN_KEY_IDENTIFIER, Hl7Error,
)

RESULT_STATUSES = ("P", "F", "C", "R", "I", "S", "A", "X", "")


def on_result(ctx: HandlerContext) -> str:
    obr = ctx.msg.first("OBR")
    if obr is None:
        raise Hl7Error("the OBR segment is missing: ORU^R01 names the order in OBR",
                       "OBR", 1, 0, 0, SEGMENT_SEQUENCE_ERROR)
    filler, placer, accession = obr.get(3).strip(), obr.get(2).strip(), obr.get(18).strip()
    if not (filler or placer or accession):
        raise obr.error(3, "name the order the report belongs to: OBR-3 filler order number, "
                        "OBR-2 placer order number or OBR-18 accession number")
    q = select(RisOrder.__table__).where(RisOrder.partition_id == ctx.pid)
    order = None
    for column, value in ((RisOrder.filler_number, filler), (RisOrder.placer_number, placer),
                          (RisOrder.accession_number, accession)):
        if value and order is None:
            order = ctx.conn.execute(q.where(column == value)).first()
    if order is None:
        raise obr.error(3 if filler else 2 if placer else 18,
                        f"no order in {ctx.code} with filler number {filler or '-'}, placer "
                        f"number {placer or '-'} or accession {accession or '-'}",
                        UNKNOWN_KEY_IDENTIFIER)
    status = obr.get(25).strip().upper()
    if status not in RESULT_STATUSES:
        raise obr.error(25, f"OBR-25 result status {status!r} is not in HL7 table 0123 "
                        "(P preliminary, F final, C corrected...)", TABLE_VALUE_NOT_FOUND)
    lines = []
    for obx in ctx.msg.all("OBX"):
        lines += [v for v in obx.all(5) if v]
    if not lines:
        raise Hl7Error("the report has no text: add OBX segments with the report in OBX-5",
                       "OBX", 1, 5, 0, SEGMENT_SEQUENCE_ERROR)
    text = "\n".join(lines)
    stored = ctx.conn.execute(select(Study.id).where(
        Study.partition_id == ctx.pid, Study.store == "archive",
        Study.study_uid == order.study_uid)).first() is not None
    ctx.conn.execute(insert(RisReport).values(
        partition_id=ctx.pid, order_pk=order.id, accession_number=order.accession_number,
        study_uid=order.study_uid, result_status=status or "F", text=text,
        control_id=ctx.msg.control_id, attached=stored, created_at=utcnow()))
    ctx.record("ris.report-attached" if stored else "ris.report-received",
               f"report ({status or 'F'}) for order {order.placer_number} "
               + (f"attached to study {order.study_uid}" if stored else
                  f"stored; study {order.study_uid} is not in the archive yet"),
               order_id=order.id, study_uid=order.study_uid, attached=stored)
    return f"report for order {order.placer_number} " + ("attached" if stored else "stored")
