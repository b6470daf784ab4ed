"""PACS administration: node registry, study QC, routing, retention, archive settings, and the
instructors' fault panel."""
from __future__ import annotations

from flask import abort, flash, redirect, request
from flask_login import current_user

import sandbox
from academy.access import INSTRUCTOR, ORG_ADMIN, SITE_ADMIN
from academy.auth.forms import EmptyForm, require_valid_post
from academy.labs import forms
from academy.labs.consoles import box_of as _box, console, render_console
from academy.labs.workspace import Workspace


ADMIN_FORMS = {"add-node": forms.NodeForm, "remove-node": forms.RemoveNodeForm, "edit-patient": forms.EditPatientForm,
               "merge": forms.MergeForm, "move-series": forms.MoveSeriesForm, "delete-study": forms.DeleteStudyForm,
               "add-rule": forms.RoutingRuleForm, "remove-rule": forms.RemoveRuleForm, "retention": forms.RetentionForm}
# Planted faults that stand for an archive setting a trainee can see and change, named as a PACS
# administration screen would name them. The others (delays, dropped associations) are symptoms only.
SETTINGS = {
    "reject_calling_ae": "Blocked calling AE title",
    "transfer_syntaxes": "Accepted transfer syntaxes restricted to",
    "refuse_move_destination": "Move destination refused",
    "store_out_of_resources": "Storage volume offline: images are refused",
}


@console("admin", methods=("GET", "POST"))
def admin(ws: Workspace):
    box = _box()
    made = {name: cls(prefix=name) for name, cls in ADMIN_FORMS.items()}
    action = request.form.get("action")
    status = 200
    if request.method == "POST":
        form = made.get(action)
        if form is None and action not in ("set-fault", "clear-fault", "remove-setting", "retry-queue"):
            abort(400, "Unknown administration action.")
        try:
            if action in ("set-fault", "clear-fault"):
                _faults(box, ws, action)
            elif action in ("remove-setting", "retry-queue"):
                flash(_setting_action(box, ws, action), "success")
                return redirect(ws.url("admin"))
            elif form.validate_on_submit():
                flash(_admin_action(box, ws, action, form), "success")
                return redirect(ws.url("admin"))
            else:
                status = 400
        except (ValueError, LookupError) as exc:
            flash(str(exc), "danger")
            status = 400
    query = (request.args.get("q") or "").strip().upper()
    studies = [s for s in box.studies(ws.code) if not query or query in s.patient_id.upper()
               or query in s.patient_name.upper() or query in s.accession_number.upper()]
    faults = box.list_faults(ws.code)
    return render_console("labs/console_admin.html", ws, forms=made, studies=studies, query=query,
                           nodes=box.list_nodes(ws.code), usage=box.storage_usage(ws.code),
                           rules=box.routing_rules(ws.code), labels=SETTINGS,
                           settings=[f for f in faults if f.kind in SETTINGS],
                           faults=faults if current_user.role in (INSTRUCTOR, ORG_ADMIN, SITE_ADMIN) else None,
                           queue=box.forward_queue(ws.code), form=EmptyForm()), status


def _admin_action(box: sandbox.Sandbox, ws: Workspace, action: str, form) -> str:
    if action == "add-node":
        node = box.add_node(ws.code, form.ae_title.data, form.host.data.strip(), form.port.data, form.description.data or "")
        return f"{node.ae_title} is registered at {node.host}:{node.port}."
    if action == "remove-node":
        box.remove_node(ws.code, form.ae_title.data)
        return f"{form.ae_title.data} is removed from the registry."
    if action == "edit-patient":
        changes = {key: value for key, value in (("patient_id", form.new_patient_id.data), ("patient_name", form.patient_name.data),
                                                  ("birth_date", form.birth_date.data), ("sex", form.sex.data)) if value}
        if not changes:
            raise ValueError("Give at least one new value.")
        box.edit_patient(ws.code, form.patient_id.data.strip(), **changes)
        return f"Patient {form.patient_id.data} corrected."
    if action == "merge":
        box.merge_patients(ws.code, form.source.data.strip(), form.target.data.strip())
        return f"{form.source.data} merged into {form.target.data}."
    if action == "move-series":
        box.move_series(ws.code, form.series_uid.data, form.target_study_uid.data)
        return "The series is moved."
    if action == "add-rule":
        box.add_routing_rule(ws.code, form.destination_ae.data, modality=(form.modality.data or "").strip().upper(),
                             calling_ae=form.calling_ae.data or "", study_description=(form.study_description.data or "").strip())
        return f"Images matching the rule will be forwarded to {form.destination_ae.data}."
    if action == "remove-rule":
        box.remove_routing_rule(ws.code, form.rule_id.data)
        return "The routing rule is removed."
    if action == "retention":
        studies = box.apply_retention(ws.code, older_than_days=form.older_than_days.data, action=form.action.data)
        return f"{len(studies)} study(ies) {'flagged' if form.action.data == 'flag' else 'deleted'}."
    box.delete_study(ws.code, form.study_uid.data)
    return "The study is deleted."


def _setting_action(box: sandbox.Sandbox, ws: Workspace, action: str) -> str:
    require_valid_post()
    if action == "retry-queue":
        return f"{box.retry_forward_jobs(ws.code)} forward job(s) will be tried again now."
    kind = request.form.get("kind", "")
    if kind not in SETTINGS:
        abort(400, "That setting cannot be changed here.")
    box.clear_fault(ws.code, kind)
    return f"Setting removed: {SETTINGS[kind]}."


def _faults(box: sandbox.Sandbox, ws: Workspace, action: str) -> None:
    """Instructors switch planted faults on and off (trainees never see this panel)."""
    if current_user.role not in (INSTRUCTOR, ORG_ADMIN, SITE_ADMIN):
        abort(403)
    require_valid_post()
    kind = request.form.get("kind", "")
    if action == "clear-fault":
        box.clear_fault(ws.code, kind or None)
        flash(f"Fault {kind or '(all)'} cleared.", "success")
    else:
        box.set_fault(ws.code, kind)
        flash(f"Fault {kind} set.", "success")


