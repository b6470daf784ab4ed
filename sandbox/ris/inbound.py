"""One inbound HL7 message, start to finish: parse, route by MSH-6, apply, acknowledge, journal.

Order of checks (HL7 v2.5.1 Ch. 2.9.2, original-mode accept validation first):
  not HL7 / bad MSH / encoding characters / version / processing ID  -> AR
  MSH-6 receiving facility is not a partition                         -> AR
  MSH-9 message type or trigger not supported                         -> AR (200 / 201)
  fault "ack_error" for this message type                             -> AE
  the handler's checks (required field, unknown patient, ...)         -> AE
  accepted and applied                                                -> AA
A handler runs inside one write transaction with its journal rows; on any error
nothing of it is kept. The message, its ACK and the error are then logged (the
Hl7Message row and a journal event "hl7.received"). Nothing here raises.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from sandbox import journal, partitions
from sandbox.codes import validate_code
from sandbox.db import utcnow
from sandbox.models import Hl7Message
from sandbox.ris import acks, adt, hl7text, orders, reports
from sandbox.ris.context import HandlerContext, load_policy
from sandbox.ris.messages import (
    APPLICATION_INTERNAL_ERROR, TABLE_VALUE_NOT_FOUND, UNSUPPORTED_EVENT_CODE,
    UNSUPPORTED_MESSAGE_TYPE, Header, Hl7Error, Message, parse, peek_header,
)

log = logging.getLogger("sandbox.ris.inbound")

HANDLERS = {
    "ADT": adt.HANDLERS,
    "ORM": {"O01": orders.on_order},
    "OMI": {"O23": orders.on_order},
    "ORU": {"R01": reports.on_result},
}
RAW_LIMIT = 65_536  # characters of a message kept in the journal


@dataclass(frozen=True)
class AckResult:
    """What a sender got back: MSA-1, the ACK's text, and what was wrong."""

    code: str
    ack: str
    control_id: str
    message_type: str
    partition_code: str | None
    summary: str
    error: dict | None = None
    message_id: int | None = None


def handle(sb, raw: bytes | str, peer: str = "", only_partition: str | None = None) -> AckResult:
    """Process one message for Sandbox `sb`; always returns an ACK.

    `only_partition`: the caller may reach this partition only (the API's consoles).
    """
    started = time.perf_counter()
    text = hl7text.decode(raw) if isinstance(raw, (bytes, bytearray)) else str(raw)
    text = hl7text.storable(text)  # NUL cannot be stored (PostgreSQL) and is never valid HL7
    header = Header()
    code: str | None = None
    error: Hl7Error | None = None
    summary = ""
    msg: Message | None = None
    after = []
    try:
        msg = parse(text)
        code, state = _partition(sb, msg, only_partition)
        handler = _handler(msg)
        fault = state.faults.get("ack_error")
        if fault and fault["message_type"] in (msg.type_code, msg.message_type):
            journal.record(sb.db, code, "fault.fired",
                           f"fault ack_error: {msg.type_code} answered AE",
                           fault="ack_error", control_id=msg.control_id)
            raise Hl7Error(f"the RIS interface is configured to refuse {msg.type_code} messages "
                           "(fault ack_error: check the interface engine's routing)",
                           "MSH", 1, 9, 0, APPLICATION_INTERNAL_ERROR)
        for attempt in range(3):
            try:
                with sb.db.write() as conn:
                    ctx = HandlerContext(conn, state, load_policy(conn, state.id), msg)
                    summary = handler(ctx)
                    if ctx.notes:
                        summary += f" ({'; '.join(ctx.notes)})"
                    after = ctx.after_commit
                break
            except IntegrityError:
                # another host inserted the same patient/visit at the same moment
                # (PostgreSQL): run again, this time it reads the row
                if attempt == 2:
                    raise
    except Hl7Error as exc:
        error = exc
    except Exception as exc:  # noqa: BLE001 - the listener keeps serving
        log.exception("HL7 handler failed")
        error = Hl7Error(f"the RIS could not process the message ({type(exc).__name__}: {exc})",
                         "", 1, 0, 0, APPLICATION_INTERNAL_ERROR)
    for job in after:
        try:
            job(sb)
        except Exception as exc:  # noqa: BLE001 - the message was applied; report the seam
            log.exception("seam update failed")
            journal.record(sb.db, code, "failure", f"archive update after "
                           f"{msg.type_code if msg else 'message'} failed: {exc}")
    if msg is not None:
        header = Header(msg.control_id, msg.version, msg.message_type, msg.trigger,
                        msg.receiving_facility, msg.sending_application, msg.sending_facility)
    else:  # what can still be read of MSH, for MSA-2 and the log
        header = peek_header(text)
    ack_code = acks.ACCEPT if error is None else error.ack
    try:
        ack = acks.build_ack(header, ack_code, error, sending_facility=code or "",
                             text=summary)
    except Exception:  # noqa: BLE001 - e.g. a header hl7apy refuses to echo
        log.exception("ACK could not be built from the header")
        ack = acks.build_ack(Header(), ack_code, error, sending_facility=code or "")
    type_code = (f"{header.message_type}^{header.trigger}" if header.trigger
                 else header.message_type)[:16]
    if error is not None:
        summary = str(error)
    details = {"message_type": type_code, "control_id": header.control_id, "ack": ack_code,
               "peer": peer, "raw": text[:RAW_LIMIT], "ack_raw": ack,
               "error": error.as_dict() if error else None,
               "highlight": hl7text.field_span(text, error.segment, error.sequence, error.field)
               if error else None,
               "duration_ms": round((time.perf_counter() - started) * 1000, 2)}
    message_id = None
    try:
        with sb.db.write() as conn:
            message_id = conn.execute(insert(Hl7Message).values(
                partition_code=code, direction="in", message_type=type_code,
                control_id=header.control_id[:64], peer=peer[:64], raw=text[:RAW_LIMIT],
                summary=summary[:2000], ack_code=ack_code, ack_raw=ack,
                error=error.as_dict() if error else {}, state="done", destination="",
                attempts=0, last_error="", next_attempt_at=utcnow(), created_at=utcnow(),
            ).returning(Hl7Message.id)).scalar_one()
            journal.record(conn, code, "hl7.received",
                           f"{type_code or 'unreadable message'} {header.control_id}: "
                           f"{ack_code} {summary}".strip(), message_id=message_id, **details)
    except Exception:  # noqa: BLE001
        log.exception("could not log HL7 message")
    return AckResult(ack_code, ack, header.control_id, type_code, code, summary,
                     error.as_dict() if error else None, message_id)


def _partition(sb, msg: Message, only: str | None = None):
    facility = msg.receiving_facility
    if only is not None and facility.upper() != only:
        raise Hl7Error(f"MSH-6 receiving facility {facility or '(empty)'} is not this partition: "
                       f"messages sent from partition {only}'s console must name {only} in "
                       "MSH-6", "MSH", 1, 6, 0, TABLE_VALUE_NOT_FOUND, "AR")
    try:
        code = validate_code(facility.upper())
    except ValueError:
        code = None
    state = partitions.load_state(sb.db, code) if code else None
    if state is None:
        raise Hl7Error(f"MSH-6 receiving facility {facility or '(empty)'} is not a partition of "
                       "this sandbox: put the partition code (e.g. LAB1) in MSH-6", "MSH", 1, 6,
                       0, TABLE_VALUE_NOT_FOUND, "AR")
    return state.code, state


def _handler(msg: Message):
    triggers = HANDLERS.get(msg.message_type)
    if triggers is None:
        raise Hl7Error(f"message type {msg.message_type} is not supported by this RIS (it takes "
                       "ADT, ORM, OMI and ORU)", "MSH", 1, 9, 1, UNSUPPORTED_MESSAGE_TYPE, "AR")
    handler = triggers.get(msg.trigger)
    if handler is None:
        raise Hl7Error(f"trigger event {msg.trigger or '(empty)'} of {msg.message_type} is not "
                       f"supported (supported: {', '.join(sorted(triggers))})", "MSH", 1, 9, 2,
                       UNSUPPORTED_EVENT_CODE, "AR")
    return handler
