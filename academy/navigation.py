"""The navigation bar: which entries each role sees."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from flask_login import current_user

from academy.access import INSTRUCTOR, ORG_ADMIN, TRAINEE
from academy.models import SITE_ADMIN

# (endpoint, label, roles that see it). Each endpoint's own role check is what protects it.
NAV_ITEMS = [
    ("learn.dashboard", "Dashboard", {TRAINEE, INSTRUCTOR, ORG_ADMIN, SITE_ADMIN}),
    ("labs.catalogue", "Labs", {TRAINEE, INSTRUCTOR, ORG_ADMIN}),
    ("exams.practice_home", "Practice", {TRAINEE, INSTRUCTOR, ORG_ADMIN}),
    ("exams.exams_home", "Mock exams", {TRAINEE, INSTRUCTOR, ORG_ADMIN}),
    ("org.cohorts", "My cohorts", {INSTRUCTOR, ORG_ADMIN}),
    ("authoring.index", "Authoring", {INSTRUCTOR, ORG_ADMIN}),
    ("org.organization", "Organisation", {ORG_ADMIN}),
    ("org.site", "Site", {SITE_ADMIN}),
]


def local_path(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None: a scheme or host, `//`, a backslash (browsers read
    `/\\host` as `//host`) or a control character (browsers drop tabs and newlines) could lead elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


def init_app(app: Flask) -> None:
    @app.context_processor
    def navigation():
        role = current_user.role if current_user.is_authenticated else None
        return {"nav_items": [(endpoint, label) for endpoint, label, roles in NAV_ITEMS if role in roles]}
