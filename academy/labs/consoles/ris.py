"""The RIS console: ADT and ORM from forms, raw messages with their ACK, the worklist as a modality
sees it, performing an exam, the message log, interface settings."""
from __future__ import annotations

from flask import abort, flash, request

import sandbox
from academy.auth.forms import EmptyForm, require_valid_post
from academy.labs import forms
from academy.labs.consoles import box_of as _box, console, render_console
from academy.labs.workspace import Workspace


# The RIS's planted faults, as the interface settings an interface analyst would find and correct.
RIS_SETTINGS = {
    "procedure_modality": "Procedure-code table override",
    "wrong_station_ae": "New orders are scheduled on station",
    "ack_error": "Interface rule: answer AE (error) to",
    "hl7_outbound_down": "Outbound interface stopped: messages wait in the queue",
    "second_assigning_authority": "Patients are filed under the identifiers of assigning authority",
    "swap_date_format": "Scheduled dates are read as YYYYDDMM",
}


@console("ris", methods=("GET", "POST"))
def ris(ws: Workspace):
    box = _box()
    patient, order, raw, worklist = (forms.PatientForm(prefix="patient"), forms.OrderForm(prefix="order"),
                                     forms.RawMessageForm(prefix="raw"), forms.WorklistForm(prefix="worklist"))
    order.procedure.choices = forms.options(*((p.code, f"{p.code} — {p.description} ({p.modality})")
                                             for p in box.procedures(ws.code)))
    action, ack, items, performed, status = request.form.get("action"), None, None, None, 200
    if request.method == "POST":
        try:
            if action == "patient" and patient.validate_on_submit():
                ack = box.send_hl7(ws.code, sandbox.build_adt(ws.code, patient.trigger.data, {
                    "patient_id": patient.patient_id.data, "name": f"{patient.family.data.upper()}^{(patient.given.data or '').upper()}",
                    "birth_date": patient.birth_date.data, "sex": patient.sex.data, "issuer": "ACADEMY_GH"}))
            elif action == "order" and order.validate_on_submit():
                ack = _send_order(box, ws, order)
            elif action == "raw" and raw.validate_on_submit():
                ack = box.send_hl7(ws.code, "\r".join(line.rstrip("\r") for line in raw.message.data.strip().split("\n")))
            elif action in ("query-worklist", "perform") and worklist.validate_on_submit():
                device = box.modality(ws.code, worklist.device.data)
                if action == "perform":
                    performed = device.perform(accession_number=worklist.accession.data or None)
                else:
                    code, datasets = device.query_worklist(ScheduledStationAETitle=f"{ws.code}_{worklist.device.data}")
                    items = {"status": sandbox.status_name(code), "rows": [_flat(d) for d in datasets]}
            elif action == "retry-hl7":
                require_valid_post()
                flash(f"{box.retry_hl7_queue(ws.code)} outbound message(s) will be sent again now.", "info")
            elif action == "remove-setting":
                if not EmptyForm().validate_on_submit() or request.form.get("kind") not in RIS_SETTINGS:
                    abort(400, "That setting cannot be changed here.")
                box.clear_fault(ws.code, request.form["kind"])
                flash(f"Setting removed: {RIS_SETTINGS[request.form['kind']]}.", "success")
            elif action not in ("patient", "order", "raw", "query-worklist", "perform"):
                abort(400, "Unknown RIS action.")
        except (ValueError, LookupError) as exc:
            flash(str(exc), "danger")
        if ack is None and items is None and performed is None and any(
                f.errors for f in (patient, order, raw, worklist)):
            status = 400
    messages = list(reversed(box.hl7_messages(ws.code)))[:30]
    return render_console("labs/console_ris.html", ws, patient=patient, order=order, raw=raw, worklist=worklist,
                          ack=ack, items=items, performed=performed, patients=box.ris_patients(ws.code),
                          orders=box.orders(ws.code), mpps=box.mpps(ws.code), reports=box.reports(ws.code),
                          unmatched=box.unmatched_studies(ws.code), messages=messages,
                          parsed={m.id: sandbox.hl7_fields(m.raw) for m in messages},
                          queue=box.hl7_queue(ws.code), form=EmptyForm(), labels=RIS_SETTINGS,
                          settings=[f for f in box.list_faults(ws.code) if f.kind in RIS_SETTINGS],
                          procedures=box.procedures(ws.code)), status


def _send_order(box: sandbox.Sandbox, ws: Workspace, form: forms.OrderForm):
    patient = next((p for p in box.ris_patients(ws.code) if p.patient_id == form.patient_id.data.strip()), None)
    if patient is None:
        raise LookupError(f"The RIS does not know patient {form.patient_id.data}: register the patient first (ADT).")
    procedure = next((p for p in box.procedures(ws.code) if p.code == form.procedure.data), None)
    return box.send_hl7(ws.code, sandbox.build_orm(
        ws.code, {"patient_id": patient.patient_id, "issuer": patient.issuer or "ACADEMY_GH", "name": patient.name,
                  "birth_date": patient.birth_date, "sex": patient.sex},
        placer=form.placer.data, control=form.control.data, procedure=form.procedure.data,
        description=procedure.description if procedure else form.procedure.data,
        accession=form.accession.data or ""))


def _flat(dataset) -> dict:
    """A worklist item as one row: its top-level attributes and its first scheduled step's."""
    row = {e.keyword: str(e.value) for e in dataset if e.VR != "SQ" and e.keyword}
    if "ScheduledProcedureStepSequence" in dataset and dataset.ScheduledProcedureStepSequence:
        row.update({e.keyword: str(e.value) for e in dataset.ScheduledProcedureStepSequence[0] if e.VR != "SQ"})
    return row
