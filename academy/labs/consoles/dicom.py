"""The DICOM workstation: echo, find, move, get, store and storage commitment from any calling AE title."""
from __future__ import annotations

from flask import abort, flash, request
from flask_login import current_user

from academy.labs import forms
from academy.labs.consoles import box_of as _box, console, render_console
from academy.labs.workspace import Workspace
import tempfile

import pydicom


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


