"""Content: loading, validating and importing curricula/ and question_banks/ into the database."""
from __future__ import annotations

from flask import Flask


def import_bundled(app: Flask) -> None:
    """Import the content shipped in the repository (tracks, modules, labs, questions)."""
