"""Injected misconfigurations for break-fix labs, switched on and off per partition.

Faults are rows read when an association arrives, so a change made through the
CLI or another process takes effect on the next association. Each fault is
journaled (kind "fault.fired") by the code that applies it.

kind                     params                         effect
reject_calling_ae        ae_title                       that calling AE is rejected (PS3.8 reason 3)
transfer_syntaxes        accept: [UID, ...]             only these transfer syntaxes are accepted
store_out_of_resources   -                              C-STORE answers A700 (PS3.4 B.2.3)
delay_responses          seconds (0-30)                 every DIMSE response waits this long
drop_after               operations (>=1)               association aborted after N operations
refuse_move_destination  ae_title                       C-MOVE to it answers A801
misset_node              ae_title, port                 the registry answers the wrong port for it

The RIS's faults (sandbox/ris/):
procedure_modality       procedure, modality ("" = none) the procedure-code table maps it wrongly
wrong_station_ae         ae_title                       new orders are scheduled on this station AE
ack_error                message_type (ORM^O01, ADT)    the interface answers AE to that type
hl7_outbound_down        -                              outbound HL7 is not delivered (queue backs up)
second_assigning_authority issuer                       patients filed under that PID-3 authority's ID
swap_date_format         -                              scheduled dates read YYYYDDMM (day/month swapped)
"""

from __future__ import annotations

import re

from pydicom.uid import UID

from sandbox.codes import validate_ae_title


_UID = re.compile(r"[0-9]+(\.[0-9]+)*")


def _ae(v):
    return validate_ae_title(v)


def _seconds(v):
    v = float(v)
    if not 0 <= v <= 30:
        raise ValueError("seconds must be between 0 and 30")
    return v


def _positive(v):
    v = int(v)
    if v < 1:
        raise ValueError("must be at least 1")
    return v


def _port(v):
    v = int(v)
    if not 1 <= v <= 65535:
        raise ValueError("port must be 1-65535")
    return v


def _uids(v):
    if isinstance(v, str):
        v = [v]
    uids = [str(u) for u in v]
    bad = [u for u in uids if not _UID.fullmatch(u) or not UID(u).is_transfer_syntax]
    if not uids or bad:
        raise ValueError(f"accept needs a list of valid transfer syntax UIDs (bad: {bad})")
    return uids


def _text(v):
    v = str(v).strip()
    if not v or len(v) > 64:
        raise ValueError("1 to 64 characters")
    return v


def _modality(v):
    v = str(v).strip().upper()
    if len(v) > 16 or not re.fullmatch(r"[A-Z0-9]*", v):
        raise ValueError("a DICOM modality code such as CT, or '' for no modality")
    return v


def _message_type(v):
    v = str(v).strip().upper()
    if not re.fullmatch(r"[A-Z0-9]{3}(\^[A-Z0-9]{3})?", v):
        raise ValueError("an HL7 message type such as ORM^O01 or ADT")
    return v


KINDS: dict[str, dict] = {
    "reject_calling_ae": {"ae_title": _ae},
    "transfer_syntaxes": {"accept": _uids},
    "store_out_of_resources": {},
    "delay_responses": {"seconds": _seconds},
    "drop_after": {"operations": _positive},
    "refuse_move_destination": {"ae_title": _ae},
    "misset_node": {"ae_title": _ae, "port": _port},
    # the RIS (sandbox/ris/)
    "procedure_modality": {"procedure": _text, "modality": _modality},
    "wrong_station_ae": {"ae_title": _ae},
    "ack_error": {"message_type": _message_type},
    "hl7_outbound_down": {},
    "second_assigning_authority": {"issuer": _text},
    "swap_date_format": {},
}


def validate(kind: str, params: dict) -> dict:
    """Return normalised params for `kind`, or raise ValueError saying what is wrong."""
    if kind not in KINDS:
        raise ValueError(f"unknown fault {kind!r}; known faults: {', '.join(sorted(KINDS))}")
    spec = KINDS[kind]
    unknown = set(params) - set(spec)
    missing = set(spec) - set(params)
    if unknown or missing:
        raise ValueError(
            f"fault {kind!r} takes {sorted(spec) or 'no parameters'}"
            f" (missing {sorted(missing)}, unexpected {sorted(unknown)})"
        )
    out = {}
    for key, check in spec.items():
        try:
            out[key] = check(params[key])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"fault {kind!r}: bad {key}: {exc}") from None
    return out
