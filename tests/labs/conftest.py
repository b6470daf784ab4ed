"""Lab tests: the app wired to a real in-process sandbox (SQLite, listener on a free port)."""
from __future__ import annotations

import pytest

from sandbox import Sandbox, SandboxConfig


@pytest.fixture(scope="session")
def box(tmp_path_factory):
    folder = tmp_path_factory.mktemp("labs-sandbox")
    sb = Sandbox(SandboxConfig(database_url=f"sqlite:///{folder / 'sandbox.db'}", data_dir=folder / "files",
                               dicom_port=0, hl7_port=0, fsync=False, acse_timeout=5, dimse_timeout=5,
                               network_timeout=5))
    sb.start()
    yield sb
    sb.close()


@pytest.fixture
def app(app, box):
    app.extensions["academy.sandbox"] = box
    return app
