"""The RIS's outbound HL7: order status messages to the partition's HL7 endpoints, queued in rows.

When an order's status changes, the RIS (Order Filler) tells the Order Placer with
ORM^O01, ORC-1 "SC" and ORC-5 the new status (HL7 v2.5.1 Ch. 4.5.1; IHE RAD-3).
Each message is a row of sandbox_hl7_messages (direction "out", state "pending"),
written in the same transaction as the change, so nothing is lost when a process
dies and any process can send it. `run_due` claims due rows with a conditional
UPDATE (several workers may share the queue), sends each over MLLP to a registered
endpoint allowed by the network policy, and reads the ACK: AA -> "sent"; AE/AR ->
"failed" (the peer refused it; retrying would not help); no connection or no ACK ->
retry after forward_retry_seconds * 2^(attempts-1), "failed" after
forward_max_attempts. `last_error` always says why a message waits.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message as Hl7apyMessage
from sqlalchemy import insert, select, update

from sandbox import journal
from sandbox.db import Database, utcnow
from sandbox.models import Hl7Message, Partition, RisEndpoint, RisOrder, RisPatient
from sandbox.netpolicy import DestinationRefused, check_destination
from sandbox.ris import hl7text
from sandbox.ris.acks import control_id

log = logging.getLogger("sandbox.ris.outbound")


def queue_status(ctx, order_pk: int) -> int:
    """Queue an ORM^O01 SC for the order to every HL7 endpoint of the partition."""
    endpoints = ctx.conn.execute(select(RisEndpoint.name).where(
        RisEndpoint.partition_id == ctx.pid).order_by(RisEndpoint.name)).scalars().all()
    if not endpoints:
        return 0
    order = ctx.conn.execute(select(RisOrder.__table__).where(RisOrder.id == order_pk)).one()
    patient = ctx.conn.execute(select(RisPatient.__table__).where(
        RisPatient.id == order.patient_pk)).one()
    for name in endpoints:
        text, cid = status_message(ctx.code, order, patient)
        ctx.conn.execute(insert(Hl7Message).values(
            partition_code=ctx.code, direction="out", message_type="ORM^O01", control_id=cid,
            raw=text, summary=f"order {order.placer_number} status {order.status} to {name}",
            state="pending", destination=name, attempts=0, last_error="",
            next_attempt_at=utcnow(), created_at=utcnow(), ack_code="", ack_raw="", error={},
            peer=""))
        journal.record(ctx.conn, ctx.code, "hl7.queued",
                       f"ORM^O01 SC {order.status} for order {order.placer_number} queued for "
                       f"{name}", control_id=cid, destination=name)
    return len(endpoints)


def status_message(code: str, order, patient) -> tuple[str, str]:
    """ORM^O01 with ORC-1 SC (status changed) in v2.5.1, and its MSH-10."""
    cid = control_id()
    msg = Hl7apyMessage("ORM_O01", version="2.5.1", validation_level=VALIDATION_LEVEL.TOLERANT)
    msh = msg.msh
    msh.msh_3 = "SANDBOX_RIS"
    msh.msh_4 = code
    msh.msh_5 = "ORDER_PLACER"
    msh.msh_9 = "ORM^O01^ORM_O01"
    msh.msh_10 = cid
    msh.msh_11 = "P"
    pid = msg.add_segment("PID")
    pid.pid_3 = f"{hl7text.escape(patient.patient_id)}^^^{hl7text.escape(patient.issuer)}^MR"
    if patient.name:
        pid.pid_5 = "^".join(hl7text.escape(p) for p in patient.name.split("^")[:3])
    orc = msg.add_segment("ORC")
    orc.orc_1 = "SC"
    orc.orc_2 = hl7text.escape(order.placer_number)
    orc.orc_3 = hl7text.escape(order.filler_number)
    orc.orc_5 = order.status
    obr = msg.add_segment("OBR")
    obr.obr_1 = "1"
    obr.obr_2 = hl7text.escape(order.placer_number)
    obr.obr_3 = hl7text.escape(order.filler_number)
    obr.obr_4 = (f"{hl7text.escape(order.procedure_code)}^"
                 f"{hl7text.escape(order.procedure_description)}")
    obr.obr_18 = hl7text.escape(order.accession_number)
    obr.obr_24 = order.modality
    return msg.to_er7(), cid


def run_due(db: Database, config, *, code: str | None = None, limit: int = 100,
            sender=None) -> int:
    """Send every due outbound message (of one partition, or all); returns how many were tried."""
    from sandbox import partitions
    from sandbox.ris import mllp

    send = sender or mllp.send
    q = (select(Hl7Message.id).where(Hl7Message.direction == "out",
                                     Hl7Message.state == "pending",
                                     Hl7Message.next_attempt_at <= utcnow())
         .order_by(Hl7Message.id).limit(limit))
    if code:
        q = q.where(Hl7Message.partition_code == code)
    with db.read() as conn:
        due = conn.execute(q).scalars().all()
    tried = 0
    for message_id in due:
        with db.write() as conn:
            claimed = conn.execute(update(Hl7Message).where(
                Hl7Message.id == message_id, Hl7Message.state == "pending").values(
                state="sending")).rowcount
        if not claimed:
            continue
        tried += 1
        with db.read() as conn:
            row = conn.execute(select(Hl7Message.__table__).where(
                Hl7Message.id == message_id)).one()
            endpoint = conn.execute(
                select(RisEndpoint.host, RisEndpoint.port).join(
                    Partition, Partition.id == RisEndpoint.partition_id).where(
                    Partition.code == row.partition_code, RisEndpoint.name == row.destination)
            ).first()
        state = partitions.load_state(db, row.partition_code)
        ack_code, ack_raw, error = "", "", ""
        if endpoint is None:
            error = f"HL7 endpoint {row.destination} is not registered for {row.partition_code}"
        elif state is not None and "hl7_outbound_down" in state.faults:
            error = (f"connection to {row.destination} at {endpoint.host}:{endpoint.port} "
                     "refused (fault hl7_outbound_down: the interface link is down)")
            journal.record(db, row.partition_code, "fault.fired",
                           "fault hl7_outbound_down: outbound message not sent",
                           fault="hl7_outbound_down", control_id=row.control_id)
        else:
            try:
                address = check_destination(endpoint.host, config.allowed_networks)
                ack_raw = send(address, endpoint.port, row.raw, timeout=5.0)
                ack_code = ack_code_of(ack_raw)
                if ack_code != "AA":
                    error = f"{row.destination} answered {ack_code or 'no MSA'}"
            except DestinationRefused as exc:
                error = str(exc)
            except Exception as exc:  # noqa: BLE001 - a send failure is data, not a crash
                error = f"{type(exc).__name__}: {exc}"
        attempts = row.attempts + 1
        if not error:
            values = {"state": "sent", "last_error": ""}
            kind, summary = "hl7.sent", f"{row.message_type} {row.control_id} sent to " \
                f"{row.destination}: AA"
        elif ack_code in ("AE", "AR", "CE", "CR"):
            values = {"state": "failed", "last_error": error}
            kind, summary = "hl7.send-failed", f"{row.message_type} {row.control_id} refused " \
                f"by {row.destination}: {error}"
        else:
            give_up = attempts >= config.forward_max_attempts
            delay = config.forward_retry_seconds * 2 ** (attempts - 1)
            values = {"state": "failed" if give_up else "pending", "last_error": error,
                      "next_attempt_at": utcnow() + timedelta(seconds=delay)}
            kind = "hl7.send-failed"
            summary = (f"{row.message_type} {row.control_id} to {row.destination} not sent "
                       f"(attempt {attempts}{', giving up' if give_up else ''}): {error}")
        with db.write() as conn:
            conn.execute(update(Hl7Message).where(Hl7Message.id == message_id).values(
                attempts=attempts, ack_code=ack_code, ack_raw=ack_raw, **values))
            journal.record(conn, row.partition_code, kind, summary, control_id=row.control_id,
                           destination=row.destination, attempts=attempts, ack=ack_code,
                           raw=row.raw)
    return tried


def ack_code_of(ack_raw: str) -> str:
    """MSA-1 of an ACK, read through the parser ('' if there is none)."""
    from sandbox.ris.messages import parse

    try:
        msa = parse(ack_raw).first("MSA")
    except Exception:  # noqa: BLE001
        return ""
    return msa.get(1).strip().upper() if msa is not None else ""


def retry(db: Database, code: str) -> int:
    """Make every failed or waiting outbound message of a partition due now."""
    with db.write() as conn:
        n = conn.execute(update(Hl7Message).where(
            Hl7Message.partition_code == code, Hl7Message.direction == "out",
            Hl7Message.state.in_(("pending", "failed"))).values(
            state="pending", next_attempt_at=utcnow(), attempts=0)).rowcount
        journal.record(conn, code, "hl7.retry", f"{n} outbound message(s) made due now")
    return n
