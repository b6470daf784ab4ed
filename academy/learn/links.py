"""Turning content's internal links (lesson:, module:, lab:, track:, console:) into site URLs."""
from __future__ import annotations

from flask import current_app, url_for
from markupsafe import Markup

from academy.content import markdown
from academy.models import Module


# console: link names -> the practice partition's console pages
CONSOLE_ENDPOINTS = {"dicom": "labs.practice_dicom", "admin": "labs.practice_admin",
                     "viewer": "labs.practice_viewer_page", "ris": "labs.practice_ris"}


def resolver(track_code: str):
    def resolve(kind: str, target: str) -> str | None:
        parts = target.split("/")
        if kind == "track":
            return url_for("learn.track", code=target)
        if kind == "console":
            endpoint = CONSOLE_ENDPOINTS.get(target)
            return url_for(endpoint) if endpoint in current_app.view_functions else None
        if kind == "lab":
            return url_for("labs.lab", key=target)
        code = track_code
        if len(parts) == (3 if kind == "lesson" else 2):
            code, parts = parts[0], parts[1:]
        if kind == "module":
            return url_for("learn.module", code=code, module=parts[0])
        if kind == "lesson" and len(parts) == 2:
            return url_for("learn.lesson", code=code, module=parts[0], lesson=parts[1])
        return None

    return resolve


def render_for(module: Module, text: str) -> Markup:
    """Lesson or module Markdown as safe HTML (sanitised by markdown.render), its links made site URLs."""
    return Markup(markdown.render(text, resolver(module.track.code),
                           lambda name: url_for("learn.asset", code=module.track.code, module=module.key, name=name)))
