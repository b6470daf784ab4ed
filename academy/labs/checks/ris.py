"""Checks that read the RIS: HL7 messages and their ACKs, orders, the worklist, MPPS, reconciliation.

Acknowledgement codes follow HL7 v2.5.1 Chapter 2 (MSA-1: AA accept, AE error, AR reject); MPPS states
DICOM PS3.4 Annex F (IN PROGRESS, COMPLETED, DISCONTINUED).
"""
from __future__ import annotations

from typing import Literal

from academy.labs.context import CheckContext
from academy.labs.registry import Outcome, Params, check

SUCCESS = 0x0000


class Received(Params):
    message_type: str            # "ADT^A04", "ORM^O01", or just "ADT"
    ack: Literal["AA", "AE", "AR"] = "AA"
    patient_id: str = ""         # the message must mention this patient identifier


@check("hl7_received", Received)
def hl7_received(ctx: CheckContext, p: Received) -> Outcome:
    """An HL7 message of the type reached the RIS and was acknowledged with the given code."""
    events = [e for e in ctx.find_events("hl7.received")
              if str(e.details.get("message_type", "")).startswith(p.message_type)
              and (not p.patient_id or p.patient_id in str(e.details.get("raw", "")))]
    good = [e for e in events if e.details.get("ack") == p.ack]
    if good:
        return Outcome(True, f"{p.message_type} acknowledged {p.ack}.", good[-1].id)
    if events:
        last = events[-1]
        return Outcome(False, f"The last {p.message_type} was answered {last.details.get('ack')}: {last.summary}", last.id)
    return Outcome(False, f"No {p.message_type} has reached the RIS yet.")


class OrderState(Params):
    accession_number: str = ""
    placer_number: str = ""
    patient_id: str = ""
    status: Literal["scheduled", "in progress", "completed", "discontinued", "cancelled"]


@check("order_in_state", OrderState)
def order_in_state(ctx: CheckContext, p: OrderState) -> Outcome:
    """The order (by accession, placer number or patient) is in the expected state."""
    orders = [o for o in ctx.box.orders(ctx.code)
              if (not p.accession_number or o.accession_number == p.accession_number)
              and (not p.placer_number or o.placer_number == p.placer_number)
              and (not p.patient_id or o.patient_id == p.patient_id)]
    if not orders:
        return Outcome(False, "The RIS has no such order.")
    if any(o.status_name == p.status for o in orders):
        return Outcome(True, f"The order is {p.status}.")
    return Outcome(False, f"The order is {orders[-1].status_name}, not {p.status}.")


class WorklistQueried(Params):
    station_ae: str = ""         # the modality that asked (calling AE title)
    min_matches: int = 1


@check("worklist_queried", WorklistQueried)
def worklist_queried(ctx: CheckContext, p: WorklistQueried) -> Outcome:
    """A modality queried the Modality Worklist (PS3.4 Annex K) and got its scheduled items."""
    ris_ae = f"{ctx.code}_RIS"
    events = [e for e in ctx.find_events("dimse.c-find", called_ae=ris_ae, calling_ae=p.station_ae) if e.status == SUCCESS]
    good = [e for e in events if (e.details.get("matches") or 0) >= p.min_matches]
    if good:
        return Outcome(True, f"The worklist returned {good[-1].details.get('matches')} item(s).", good[-1].id)
    if events:
        return Outcome(False, "The worklist was queried but returned nothing for that station.", events[-1].id)
    return Outcome(False, "No worklist query has reached the RIS yet.")


class MppsCompleted(Params):
    accession_number: str = ""
    status: Literal["COMPLETED", "DISCONTINUED"] = "COMPLETED"


@check("mpps_completed", MppsCompleted)
def mpps_completed(ctx: CheckContext, p: MppsCompleted) -> Outcome:
    """The modality reported the procedure step COMPLETED (or DISCONTINUED) with MPPS N-SET."""
    steps = [m for m in ctx.box.mpps(ctx.code) if not p.accession_number or m.accession_number == p.accession_number]
    if any(m.status == p.status for m in steps):
        return Outcome(True, f"The performed procedure step is {p.status}.")
    if steps:
        return Outcome(False, f"The performed procedure step is {steps[-1].status}, not {p.status}.")
    return Outcome(False, "No MPPS has reached the RIS yet.")


class Reconciled(Params):
    patient_id: str = ""  # optionally: the reconciled study must now belong to this patient


@check("unmatched_reconciled", Reconciled)
def unmatched_reconciled(ctx: CheckContext, p: Reconciled) -> Outcome:
    """No study is left unmatched to an order, and a correction was actually made."""
    left = ctx.box.unmatched_studies(ctx.code)
    if left:
        return Outcome(False, f"{len(left)} study(ies) still match no order.")
    fixes = ctx.find_events("admin.edit-patient") + ctx.find_events("admin.merge-patients") + \
        ctx.find_events("seam.study-matched")
    if not fixes:
        return Outcome(False, "Nothing has been reconciled yet.")
    if p.patient_id and not ctx.box.studies(ctx.code, patient_id=p.patient_id):
        return Outcome(False, f"No study belongs to {p.patient_id}.")
    return Outcome(True, "Every study matches its order.", fixes[-1].id)


class ReportAttached(Params):
    accession_number: str = ""


@check("report_attached", ReportAttached)
def report_attached(ctx: CheckContext, p: ReportAttached) -> Outcome:
    """The report (ORU^R01) reached the RIS and is attached to its study."""
    reports = [r for r in ctx.box.reports(ctx.code) if not p.accession_number or r.accession_number == p.accession_number]
    if any(r.attached for r in reports):
        return Outcome(True, "The report is attached to its study.")
    if reports:
        return Outcome(False, "The report arrived but matches no study.")
    return Outcome(False, "No report has arrived yet.")


class PatientKnown(Params):
    patient_id: str
    name: str = ""


@check("patient_registered", PatientKnown)
def patient_registered(ctx: CheckContext, p: PatientKnown) -> Outcome:
    """The RIS knows the patient (registered over ADT), with the right name if given."""
    patient = next((x for x in ctx.box.ris_patients(ctx.code) if x.patient_id == p.patient_id), None)
    if patient is None:
        return Outcome(False, f"The RIS does not know patient {p.patient_id}.")
    if p.name and patient.name.upper() != p.name.upper():
        return Outcome(False, f"The RIS knows {p.patient_id} as {patient.name}.")
    return Outcome(True, f"The RIS knows {p.patient_id}.")
