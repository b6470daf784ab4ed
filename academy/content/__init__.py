"""Content: loading, validating and importing curricula/ and question_banks/ into the database."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from academy.content import importer, loader, rules


class ContentError(Exception):
    """The bundled content has problems; nothing was imported."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the content:\n" + "\n".join(f"  {p}" for p in problems))


def content_dirs(app: Flask) -> tuple:
    """Where the bundled content lives (tests point these at small fixture trees)."""
    return (app.config.get("ACADEMY_CURRICULA_DIR", loader.CURRICULA_DIR),
            app.config.get("ACADEMY_QUESTION_BANKS_DIR", loader.QUESTION_BANKS_DIR))


def validate(curricula_dir=loader.CURRICULA_DIR, banks_dir=loader.QUESTION_BANKS_DIR) -> loader.Bundle:
    return rules.check(loader.load(curricula_dir, banks_dir))


def import_bundled(app: Flask, *, force: bool = False) -> importer.ImportReport | None:
    """Import the content shipped in the repository, unless it is unchanged since the last import.

    Invalid content raises ContentError before anything is written.
    """
    from academy.extensions import db
    from academy.models.content import ContentState

    folders = content_dirs(app)
    fingerprint = loader.fingerprint(*folders)
    state = db.session.scalar(select(ContentState))
    if state is not None and state.fingerprint == fingerprint and not force:
        return None
    bundle = validate(*folders)
    if bundle.problems:
        raise ContentError(bundle.problems)
    try:
        report = importer.import_bundle(db.session, bundle)
        if state is None:
            state = ContentState(fingerprint=fingerprint)
            db.session.add(state)
        state.fingerprint = fingerprint
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    app.logger.info("content imported: %d tracks, %d modules, %d lessons, %d questions",
                    report.tracks, report.modules, report.lessons, report.questions)
    return report
