"""The consoles: a DICOM workstation, PACS administration, a RIS and an image viewer, each a page of a lab
run (/runs/<id>/console/...) and of the trainee's practice partition (/console/...).

Every action is real traffic or a real change in the sandbox, journaled there, so a lab done here
grades exactly like one done with dcmtk.
"""
from __future__ import annotations

from functools import wraps

from flask import current_app, render_template, request

import sandbox
from academy import sandbox_link
from academy.access import ANY_ROLE, role_required
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


def box_of() -> sandbox.Sandbox:
    return sandbox_link.get()


CONSOLE_TABS = [("dicom", "DICOM workstation"), ("admin", "PACS administration"), ("ris", "RIS"),
                ("viewer_page", "Image viewer")]


def render_console(template: str, ws: Workspace, **context):
    """A console page with its tabs (a tab appears only when its console is installed)."""
    prefix = "labs.run_" if ws.run else "labs.practice_"
    tabs = [(prefix + name, label, ws.url(name)) for name, label in CONSOLE_TABS
            if prefix + name in current_app.view_functions]
    return render_template(template, ws=ws, tabs=tabs, **context)


# The consoles register themselves on import (an explicit list).
from academy.labs.consoles import admin, dicom, ris, viewer  # noqa: E402,F401
