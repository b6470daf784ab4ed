"""Original-mode acknowledgements (HL7 v2.5.1 Ch. 2.9.2, 2.14.1 ACK, 2.15.8 MSA, 2.15.5 ERR).

MSA-1 is AA (accepted), AE (error: understood but not applied) or AR (rejected:
the RIS will not process it). MSA-2 echoes the message's MSH-10. On AE/AR an ERR
segment says where and why: in v2.5 and later ERR-2 (location: segment^sequence^
field), ERR-3 (HL7 table 0357 code), ERR-4 (severity E) and ERR-8 (user message);
in v2.3.1/v2.4 ERR-1 (segment^sequence^field^code&text&HL70357), and MSA-3 carries
the text as well, as v2.3.1 readers expect. The ACK is built by hl7apy in the
version the message declared (v2.5.1 when it could not be read).
"""

from __future__ import annotations

import itertools
import os
from datetime import datetime, timezone

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message as Hl7apyMessage

from sandbox.ris import hl7text
from sandbox.ris.messages import ERROR_TEXT, SUPPORTED_VERSIONS, Header, Hl7Error

ACCEPT, ERROR, REJECT = "AA", "AE", "AR"
_counter = itertools.count(1)
_PROCESS = os.getpid()


def control_id() -> str:
    """A fresh MSH-10 for a message the RIS originates (unique across processes and hosts)."""
    now = datetime.now(timezone.utc).strftime("%y%m%d%H%M%S")
    return f"R{now}{_PROCESS % 10000:04d}{next(_counter) % 100000:05d}"


def build_ack(header: Header, code: str, error: Hl7Error | None = None, *,
              sending_facility: str = "", text: str = "") -> str:
    """The ACK for a message whose MSH said `header` (possibly empty)."""
    version = header.version if header.version in SUPPORTED_VERSIONS else "2.5.1"
    msg = Hl7apyMessage("ACK", version=version, validation_level=VALIDATION_LEVEL.TOLERANT)
    msh = msg.msh
    msh.msh_3 = "SANDBOX_RIS"
    msh.msh_4 = hl7text.escape(sending_facility or header.receiving_facility)[:20]
    if header.sending_application:
        msh.msh_5 = hl7text.escape(header.sending_application)[:180]
    if header.sending_facility:
        msh.msh_6 = hl7text.escape(header.sending_facility)[:180]
    trigger = hl7text.escape(header.trigger)[:3]
    if version in ("2.5", "2.5.1"):
        msh.msh_9 = f"ACK^{trigger}^ACK" if trigger else "ACK"
    else:
        msh.msh_9 = f"ACK^{trigger}" if trigger else "ACK"
    msh.msh_10 = control_id()
    msh.msh_11 = "P"
    msa = msg.msa
    msa.msa_1 = code
    if header.control_id:
        msa.msa_2 = hl7text.escape(header.control_id)[:199]
    message = error.reason if error else text
    if error is not None:
        if version in ("2.5", "2.5.1"):
            err = msg.add_segment("ERR")
            if error.segment:
                location = [error.segment, str(error.sequence)]
                if error.field:
                    location.append(str(error.field))
                    if error.component:
                        location += ["1", str(error.component)]
                err.err_2 = "^".join(hl7text.escape(p) for p in location)
            err.err_3 = f"{error.code}^{ERROR_TEXT.get(error.code, '')}^HL70357"
            err.err_4 = "E"
            err.err_8 = hl7text.escape(_readable(error))[:1000]
        else:
            # v2.3.1/2.4 ERR-1 (ELD): segment^sequence^field position^code&text&HL70357
            err = msg.add_segment("ERR")
            sequence = error.sequence if error.segment else ""
            err.err_1 = (f"{hl7text.escape(error.segment)}^{sequence}"
                         f"^{error.field or ''}^{error.code}&{ERROR_TEXT.get(error.code, '')}"
                         "&HL70357")
    if message:
        # MSA-3 text message (kept in v2.5.1 for backwards compatibility, Ch. 2.15.8.3)
        msa.msa_3 = hl7text.escape(_readable(error) if error else message)[:80]
    return msg.to_er7()


def _readable(error: Hl7Error) -> str:
    return f"{error.location}: {error.reason}" if error.location else error.reason
