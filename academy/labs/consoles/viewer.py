"""The image viewer: server-rendered images with window presets, and the DICOM header."""
from __future__ import annotations

from flask import abort, request

from academy.labs.consoles import box_of as _box, console, render_console
from academy.labs.workspace import Workspace
from flask import Response

from academy.labs import viewer


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


