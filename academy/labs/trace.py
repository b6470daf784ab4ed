"""The protocol trace of a run: its journal as a timeline a trainee can read.

Association rejections are explained in words (DICOM PS3.8 Section 9.3.4, A-ASSOCIATE-RJ: result,
source and reason), statuses get their names (PS3.7 Annex C), HL7 messages show their raw text with
the failing field marked.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sandbox
from academy.models import LabRun

# PS3.8 Table 9-21: (source, reason) of an A-ASSOCIATE-RJ
REJECT_REASONS = {
    (1, 1): "the archive rejected the association for no given reason",
    (1, 2): "the application context name is not supported",
    (1, 3): "the calling AE title is not recognised: the sender is not a registered node",
    (1, 7): "the called AE title is not recognised: no partition or service answers to it",
    (2, 1): "the archive's protocol layer rejected it for no given reason",
    (2, 2): "the protocol version is not supported",
    (3, 1): "temporary congestion: the archive is busy",
    (3, 2): "the local limit of simultaneous associations was exceeded",
}


@dataclass
class TraceEntry:
    id: int
    at: str
    kind: str
    summary: str
    status: str | None
    ok: bool | None
    association: str
    explanation: str = ""
    details: dict = field(default_factory=dict)
    raw: tuple[str, str, str] | None = None  # an HL7 message: before, the failing field, after


def explain(event: sandbox.JournalEvent) -> str:
    details = event.details
    if event.kind == "association.rejected" and "source" in details:
        why = REJECT_REASONS.get((details.get("source"), details.get("reason")), "")
        permanence = "permanently" if details.get("result") == 1 else "for now (transient)"
        return f"Rejected {permanence}: {why}." if why else ""
    if event.kind == "fault.fired":
        return "A planted fault acted here: this is what the lab asks you to find and fix."
    return ""


def _raw_parts(details: dict) -> tuple[str, str, str] | None:
    """The raw HL7 split around the field the RIS complained about (`highlight`: [start, end))."""
    raw = details.get("raw")
    if not isinstance(raw, str):
        return None
    raw = raw.replace("\r", "\n")
    span = details.get("highlight")
    if isinstance(span, (list, tuple)) and len(span) == 2 and 0 <= span[0] <= span[1] <= len(raw):
        return raw[:span[0]], raw[span[0]:span[1]], raw[span[1]:]
    return raw, "", ""


def entry(event: sandbox.JournalEvent) -> TraceEntry:
    status = None if event.status is None else f"{sandbox.status_name(event.status)} (0x{event.status:04X})"
    ok = None if event.status is None else event.status == 0
    if event.kind == "association.rejected":
        ok = False
    shown = {k: v for k, v in event.details.items() if k not in ("raw", "ack_raw", "highlight")}
    if event.kind.startswith("hl7.") and event.details.get("ack") not in (None, "AA"):
        ok = False
    return TraceEntry(event.id, event.created_at.strftime("%H:%M:%S"), event.kind, event.summary, status, ok,
                      event.association, explain(event), shown, _raw_parts(event.details))


def timeline(box: sandbox.Sandbox, run: LabRun) -> list[TraceEntry]:
    """The run's events since its scenario was set up, oldest first."""
    return [entry(e) for e in box.journal(run.partition_code, since=run.journal_mark)]
