"""The platform's one door to the sandbox: build its configuration, start it, find it.

`python app.py` runs the sandbox in-process; a scaled-out site points at a sandbox service that shares
its database and file store, and then only talks to it through the same `sandbox.Sandbox` API.
"""
from __future__ import annotations

import ipaddress

from flask import Flask, current_app

import sandbox

EXTENSION_KEY = "academy.sandbox"
EMBEDDED_KEY = "academy.sandbox.embedded"


def config_for(app: Flask) -> sandbox.SandboxConfig:
    data_dir = app.config["ACADEMY_DATA_DIR"] / "sandbox"
    networks = tuple(ipaddress.ip_network(n.strip()) for n in app.config["ACADEMY_ALLOWED_NETWORKS"].split(",")
                     if n.strip())
    return sandbox.SandboxConfig(
        database_url=app.config["ACADEMY_SANDBOX_DATABASE_URL"] or f"sqlite:///{data_dir / 'sandbox.db'}",
        data_dir=data_dir,
        host=app.config.get("ACADEMY_SANDBOX_HOST") or app.config["ACADEMY_HOST"],
        dicom_port=app.config["ACADEMY_DICOM_PORT"],
        hl7_port=app.config["ACADEMY_HL7_PORT"],
        allowed_networks=networks,
    )


def start(app: Flask) -> sandbox.Sandbox:
    """Run the sandbox's listeners in this process (the embedded default); idempotent."""
    box = app.extensions.get(EXTENSION_KEY) or sandbox.Sandbox(config_for(app))
    box.start()
    app.extensions[EXTENSION_KEY] = box
    app.extensions[EMBEDDED_KEY] = True
    return box


def runs_here(app: Flask) -> bool:
    """True when this process runs the sandbox's listeners (not a client of the sandbox service)."""
    return bool(app.extensions.get(EMBEDDED_KEY))


def hl7_port(box: sandbox.Sandbox) -> int:
    """The HL7 port trainees' tools should use (the bound one when the listener runs here)."""
    return getattr(box, "hl7_port", None) or box.config.hl7_port


def get() -> sandbox.Sandbox:
    """The sandbox this site works with: the in-process one, or a client of the sandbox service."""
    box = current_app.extensions.get(EXTENSION_KEY)
    if box is None:
        box = sandbox.Sandbox(config_for(current_app))
        current_app.extensions[EXTENSION_KEY] = box
    return box
