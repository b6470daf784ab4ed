"""Checking an organisation's tree and publishing it: the same loader, rules and importer as bundled content.

The tree is written to a temporary folder and read by `academy.content.loader`, so authored content meets
exactly the rules bundled content meets (except a full exam bank: an organisation may write a handful of
questions). Publishing imports the whole tree for the organisation alone and records which version of each
file trainees now see; lessons, labs and questions get new versions only where they changed, and every
record a trainee already has keeps pointing at the version they saw.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from academy.authoring import tree
from academy.content import importer, loader, rules
from academy.models import ContentRelease, Lab, Lesson, Module, Track


def bundled_context(session: Session) -> tuple[dict[str, dict[str, set[str]]], set[str]]:
    """What an organisation's tree may link to outside itself: the bundled tracks' modules, lessons and labs."""
    tracks: dict[str, dict[str, set[str]]] = {}
    for track in session.scalars(select(Track).where(Track.organization_id.is_(None), Track.retired.is_(False))
                                 .options(selectinload(Track.modules).load_only(Module.key, Module.retired)
                                          .selectinload(Module.lessons).load_only(Lesson.key, Lesson.retired))):
        tracks[track.code] = {m.key: {lesson.key for lesson in m.lessons if not lesson.retired}
                              for m in track.modules if not m.retired}
    labs = set(session.scalars(select(Lab.key).join(Track, Lab.track_id == Track.id).where(
        Track.organization_id.is_(None), Lab.retired.is_(False))))
    return tracks, labs


def load_files(files: dict[str, bytes], folder: Path, context) -> loader.Bundle:
    for path, data in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (folder / "curricula").mkdir(exist_ok=True)
    (folder / "question_banks").mkdir(exist_ok=True)
    bundle = loader.load(folder / "curricula", folder / "question_banks")
    bundle.outside_tracks, bundle.outside_labs = context
    return rules.check(bundle, require_full_banks=False)


def shown(problem: loader.Problem, folder: Path) -> str:
    try:
        where = problem.path.relative_to(folder)
    except ValueError:
        where = problem.path
    return f"{where}:{problem.line}: {problem.message}" if problem.line else f"{where}: {problem.message}"


def check(session: Session, files: dict[str, bytes]) -> list[str]:
    """Every problem in a tree, each with its file and line; empty when it can be published."""
    with tempfile.TemporaryDirectory(prefix="academy-tree-") as folder:
        bundle = load_files(files, Path(folder), bundled_context(session))
        return [shown(p, Path(folder)) for p in bundle.problems]


def problems_of(session: Session, files: dict[str, bytes], path: str) -> list[str]:
    """The tree's problems that concern one file (or, for a lesson, its module folder): for its editor."""
    folder = path.rsplit("/", 1)[0]
    return [p for p in check(session, files) if p.startswith((path + ":", folder + ":"))]


def releases(session: Session, organization_id: int, limit: int = 10) -> list[ContentRelease]:
    """The organisation's publications, newest first."""
    return list(session.scalars(select(ContentRelease).where(ContentRelease.organization_id == organization_id)
                                .order_by(ContentRelease.number.desc()).limit(limit)))


def published_manifest(session: Session, organization_id: int) -> dict[str, int]:
    """path -> the version number trainees see now."""
    latest = releases(session, organization_id, limit=1)
    return dict(latest[0].manifest) if latest else {}


def publish(session: Session, organization_id: int, *, user_id: int | None) -> tuple[ContentRelease | None, list[str]]:
    """Publish the tree as it stands: (the release, []) or (None, problems) with nothing changed, or
    (None, []) when nothing changed since the last release.

    The caller commits on success and rolls back otherwise."""
    entries = [e for e in tree.entries(session, organization_id) if not e.deleted]
    if {e.path: e.latest.number for e in entries} == published_manifest(session, organization_id):
        return None, []
    files = {e.path: e.latest.data for e in entries}
    with tempfile.TemporaryDirectory(prefix="academy-tree-") as folder:
        bundle = load_files(files, Path(folder), bundled_context(session))
        if bundle.problems:
            return None, [shown(p, Path(folder)) for p in bundle.problems]
        report = importer.import_bundle(session, bundle, organization_id=organization_id)
    number = (session.scalar(select(func.max(ContentRelease.number))
                             .where(ContentRelease.organization_id == organization_id)) or 0) + 1
    summary = (f"{report.tracks} track(s), {report.modules} module(s), {report.lessons} lesson(s), {report.labs} lab(s), "
               f"{report.questions} question(s); {report.new_versions} new version(s), {len(report.retired)} retired")
    release = ContentRelease(organization_id=organization_id, number=number, published_by=user_id,
                             manifest={e.path: e.latest.number for e in entries}, summary=summary)
    session.add(release)
    session.flush()
    return release, []
