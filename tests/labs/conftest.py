"""Lab tests: the app wired to a real in-process sandbox (SQLite, listener on a free port)."""
from __future__ import annotations

import pytest


@pytest.fixture
def app(app, box):
    app.extensions["academy.sandbox"] = box
    return app
