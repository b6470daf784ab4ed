"""The consoles: a DICOM workstation, PACS administration and an image viewer, each a page of a lab
run (/runs/<id>/console/...) and of the trainee's practice partition (/console/...).

Every action is real traffic or a real change in the sandbox, journaled there, so a lab done here
grades exactly like one done with dcmtk.
"""
from __future__ import annotations

import tempfile
from functools import wraps

import pydicom
from flask import Response, abort, current_app, flash, redirect, render_template, request
from flask_login import current_user

import sandbox
from academy import sandbox_link
from academy.access import ANY_ROLE, INSTRUCTOR, ORG_ADMIN, SITE_ADMIN, role_required
from academy.auth.forms import EmptyForm
from academy.labs import forms, viewer
from academy.labs.routes import bp
from academy.labs.workspace import Workspace, for_practice, for_run


def console(name: str, methods=("GET",), suffix: str = ""):
    """Register `view(ws, **kwargs)` twice: for a run and for the practice partition."""

    def decorator(view):
        @wraps(view)
        def run_view(run_id: int, **kwargs):
            return view(for_run(run_id, active=request.method == "POST"), **kwargs)

        @wraps(view)
        def practice_view(**kwargs):
            return view(for_practice(), **kwargs)

        methods_list = list(methods)
        bp.add_url_rule(f"/runs/<int:run_id>/console/{name}{suffix}", f"run_{view.__name__}",
                        role_required(*ANY_ROLE)(run_view), methods=methods_list)
        bp.add_url_rule(f"/console/{name}{suffix}", f"practice_{view.__name__}",
                        role_required(*ANY_ROLE)(practice_view), methods=methods_list)
        return view

    return decorator


def _box() -> sandbox.Sandbox:
    return sandbox_link.get()


CONSOLE_TABS = [("dicom", "DICOM workstation"), ("admin", "PACS administration"), ("ris", "RIS"),
                ("viewer_page", "Image viewer")]


def render_console(template: str, ws: Workspace, **context):
    """A console page with its tabs (a tab appears only when its console is installed)."""
    prefix = "labs.run_" if ws.run else "labs.practice_"
    tabs = [(prefix + name, label, ws.url(name)) for name, label in CONSOLE_TABS
            if prefix + name in current_app.view_functions]
    return render_template(template, ws=ws, tabs=tabs, **context)


# --- DICOM workstation ------------------------------------------------------------------------

@console("dicom", methods=("GET", "POST"))
def dicom(ws: Workspace):
    echo, find, retrieve, store, commit = (forms.EchoForm(prefix="echo"), forms.FindForm(prefix="find"),
                                           forms.RetrieveForm(prefix="retrieve"), forms.StoreForm(prefix="store"),
                                           forms.CommitForm(prefix="commit"))
    defaults = {"node": f"{ws.code}_PACS"}
    for form in (echo, find, retrieve, store, commit):
        if request.method == "GET":
            form.node.data = defaults["node"]
    result, action, status = None, request.form.get("action"), 200
    if request.method == "POST":
        devices = _box().devices(ws.code)
        try:
            if action == "echo" and echo.validate_on_submit():
                result = devices.echo(echo.node.data, device=echo.device.data)
            elif action == "find" and find.validate_on_submit():
                result = devices.find(find.node.data, level=find.level.data, model=find.model.data,
                                      device=find.device.data, **_find_keys(find))
            elif action in ("move", "get") and retrieve.validate_on_submit():
                keys = {"StudyInstanceUID": retrieve.StudyInstanceUID.data}
                if retrieve.level.data == "SERIES":
                    keys["SeriesInstanceUID"] = retrieve.SeriesInstanceUID.data or ""
                if action == "move":
                    if not retrieve.destination.data:
                        retrieve.destination.errors = ["Enter the move destination's AE title."]
                    else:
                        result = devices.move(retrieve.node.data, retrieve.destination.data,
                                              level=retrieve.level.data, device=retrieve.device.data, **keys)
                else:
                    result = devices.get(retrieve.node.data, level=retrieve.level.data, **keys)
            elif action == "store" and store.validate_on_submit():
                result = _store(devices, store)
            elif action == "commit" and commit.validate_on_submit():
                result = devices.commit(commit.node.data, study_uid=commit.StudyInstanceUID.data, device=commit.device.data)
            elif action not in ("echo", "find", "move", "get", "store", "commit"):
                abort(400, "Unknown console action.")
        except (ValueError, LookupError) as exc:
            flash(str(exc), "danger")
        if result is None and any(f.errors for f in (echo, find, retrieve, store, commit)):
            status = 400
    return render_console("labs/console_dicom.html", ws, echo=echo, find=find, retrieve=retrieve,
                          store=store, commit=commit, result=result, action=action), status


def _find_keys(form: forms.FindForm) -> dict:
    keys = form.identifier()
    # Ask for the attributes the results table shows (an empty key is a return key, PS3.4 C.2.2.1.2).
    for keyword in ("PatientName", "PatientID", "StudyDate", "StudyDescription", "AccessionNumber",
                    "ModalitiesInStudy", "StudyInstanceUID", "NumberOfStudyRelatedInstances"):
        keys.setdefault(keyword, "")
    if form.level.data == "PATIENT":
        keys = {k: v for k, v in keys.items() if k in ("PatientName", "PatientID")}
    elif form.level.data in ("SERIES", "IMAGE"):
        keys.update({"SeriesInstanceUID": keys.get("SeriesInstanceUID", ""), "Modality": "", "SeriesNumber": ""})
        keys.pop("ModalitiesInStudy", None)
        keys.pop("NumberOfStudyRelatedInstances", None)
        if form.level.data == "IMAGE":
            keys.update({"SOPInstanceUID": "", "InstanceNumber": ""})
    return keys


def _store(devices, form: forms.StoreForm):
    upload = form.upload.data
    if upload and upload.filename:
        with tempfile.SpooledTemporaryFile(max_size=forms.MAX_UPLOAD) as spool:
            upload.save(spool)
            spool.seek(0)
            try:
                dataset = pydicom.dcmread(spool)
                dataset.SOPInstanceUID  # noqa: B018 - a file without it is not an instance
            except Exception:
                form.upload.errors = ["That file is not a DICOM instance that can be sent."]
                return None
        return devices.store(form.node.data, [dataset], device=form.device.data)
    return devices.store(form.node.data, modality=form.modality.data, device=form.device.data,
                         seed=abs(hash((current_user.id, form.modality.data))) % 100000,
                         images_per_series=form.images.data)


# --- PACS administration ----------------------------------------------------------------------

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
# The RIS's planted faults, as the interface settings an interface analyst would find and correct.
RIS_SETTINGS = {
    "procedure_modality": "Procedure-code table override",
    "wrong_station_ae": "New orders are scheduled on station",
    "ack_error": "Interface rule: answer AE (error) to",
    "hl7_outbound_down": "Outbound interface stopped: messages wait in the queue",
    "second_assigning_authority": "Patients are filed under the identifiers of assigning authority",
    "swap_date_format": "Scheduled dates are read as YYYYDDMM",
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
    if not EmptyForm().validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again.")
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
    if not EmptyForm().validate_on_submit():
        abort(400, "This form has expired. Reload the page and try again.")
    kind = request.form.get("kind", "")
    if action == "clear-fault":
        box.clear_fault(ws.code, kind or None)
        flash(f"Fault {kind or '(all)'} cleared.", "success")
    else:
        box.set_fault(ws.code, kind)
        flash(f"Fault {kind} set.", "success")


# --- image viewer -----------------------------------------------------------------------------

@console("viewer")
def viewer_page(ws: Workspace):
    box = _box()
    studies = box.studies(ws.code)
    study_uid = request.args.get("study") or (studies[0].study_uid if studies else None)
    instances = box.instances(ws.code, study_uid=study_uid) if study_uid else []
    if study_uid and not instances and studies:
        abort(404)
    selected = request.args.get("instance") or (instances[0].sop_instance_uid if instances else None)
    if selected and selected not in {i.sop_instance_uid for i in instances}:
        abort(404)
    lines = viewer.header(box.instance_path(ws.code, selected)) if selected else []
    return render_console("labs/console_viewer.html", ws, studies=studies, study_uid=study_uid,
                           instances=instances, selected=selected, header=lines,
                           preset=request.args.get("preset", "file"), presets=list(viewer.PRESETS))


@console("viewer", suffix="/image/<uid>.png")
def viewer_image(ws: Workspace, uid: str):
    try:
        path = _box().instance_path(ws.code, uid)
    except LookupError:
        abort(404)
    try:
        png = viewer.render_png(path, preset=request.args.get("preset", "file"), frame=request.args.get("frame", 0, type=int))
    except viewer.ViewerError as exc:
        abort(422, str(exc))
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=300"})


# --- RIS ----------------------------------------------------------------------------------------

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
                if not EmptyForm().validate_on_submit():
                    abort(400, "This form has expired. Reload the page and try again.")
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
    return render_console("labs/console_ris.html", ws, patient=patient, order=order, raw=raw, worklist=worklist,
                          ack=ack, items=items, performed=performed, patients=box.ris_patients(ws.code),
                          orders=box.orders(ws.code), mpps=box.mpps(ws.code), reports=box.reports(ws.code),
                          unmatched=box.unmatched_studies(ws.code), messages=list(reversed(box.hl7_messages(ws.code)))[:30],
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
