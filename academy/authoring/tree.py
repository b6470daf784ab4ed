"""An organisation's content tree: files in the layout of curricula/ and question_banks/, each save a version.

Saving never overwrites: it adds a version with its author, time and note, so an author can compare any two
versions and roll back by saving an old one again. Deleting is a version too (no data), so it can be undone.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from academy.content.rules import SCRIPTY_SVG
from academy.models import AuthoredFile, AuthoredVersion

MAX_FILE_BYTES = 512 * 1024
MAX_FILES = 2000
_KEY = r"[a-z0-9][a-z0-9-]{0,99}"
_CODE = r"[A-Z][A-Z0-9]{1,15}"
# Every file a tree may hold, by the same layout the loader reads (docs/CONTENT_FORMAT.md).
ALLOWED = re.compile(
    rf"^(curricula/{_CODE}/track\.yaml"
    rf"|curricula/{_CODE}/modules/{_KEY}/{_KEY}\.md"
    rf"|curricula/{_CODE}/modules/{_KEY}/{_KEY}\.(svg|png)"
    rf"|curricula/{_CODE}/labs/{_KEY}\.yaml"
    rf"|question_banks/{_CODE}/{_KEY}\.yaml)$")
TEXT_SUFFIXES = (".md", ".yaml")


class TreeError(ValueError):
    """A file the tree cannot take: the message says why, and nothing was saved."""


@dataclass
class Entry:
    """A file as it stands now: its latest version, and whether that is what trainees see."""

    file: AuthoredFile
    latest: AuthoredVersion
    published_number: int | None

    @property
    def path(self) -> str:
        return self.file.path

    @property
    def deleted(self) -> bool:
        return self.latest.data is None

    @property
    def state(self) -> str:
        """new, changed or published; deleted (still seen by trainees until published) or gone."""
        if self.deleted:
            return "deleted" if self.published_number else "gone"
        if self.published_number == self.latest.number:
            return "published"
        return "changed" if self.published_number else "new"


def check_file(path: str, data: bytes) -> None:
    """Refuse a file the loader would not read, or that could carry script into a page."""
    if not ALLOWED.match(path):
        raise TreeError(f"'{path}' is not a place for content: see docs/CONTENT_FORMAT.md for the layout.")
    if len(data) > MAX_FILE_BYTES:
        raise TreeError(f"'{path}' is {len(data) // 1024} KB; a content file may be at most {MAX_FILE_BYTES // 1024} KB.")
    if path.endswith(TEXT_SUFFIXES):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise TreeError(f"'{path}' is not UTF-8 text.") from None
    elif path.endswith(".svg") and SCRIPTY_SVG.search(data):
        raise TreeError(f"'{path}': SVG diagrams may hold shapes and text only (no script, event handlers, "
                        "style attributes or external links).")
    elif path.endswith(".png") and not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise TreeError(f"'{path}' is not a PNG image.")


def entries(session: Session, organization_id: int, *, published: dict | None = None) -> list[Entry]:
    """Every file of the organisation's tree with its latest version, in path order."""
    latest_numbers = (select(AuthoredVersion.file_id, func.max(AuthoredVersion.number).label("number"))
                      .group_by(AuthoredVersion.file_id).subquery())
    rows = session.execute(
        select(AuthoredFile, AuthoredVersion)
        .join(latest_numbers, latest_numbers.c.file_id == AuthoredFile.id)
        .join(AuthoredVersion, (AuthoredVersion.file_id == AuthoredFile.id)
              & (AuthoredVersion.number == latest_numbers.c.number))
        .where(AuthoredFile.organization_id == organization_id).order_by(AuthoredFile.path)).all()
    published = published or {}
    return [Entry(f, v, published.get(f.path)) for f, v in rows]


def current_files(session: Session, organization_id: int) -> dict[str, bytes]:
    """path -> bytes of every file that exists now (deleted ones left out)."""
    return {e.path: e.latest.data for e in entries(session, organization_id) if not e.deleted}


def tracks_in(files: dict[str, bytes]) -> dict[str, dict]:
    """The tracks a tree defines: code -> {"title", "domains" (keys), "weights", "modules" (ids)}, from its
    track.yaml files.

    A track.yaml that does not parse yet is left out (the check on publishing names its problem)."""
    found: dict[str, dict] = {}
    for path, data in files.items():
        parts = path.split("/")
        if len(parts) == 3 and parts[0] == "curricula" and parts[2] == "track.yaml":
            try:
                spec = yaml.safe_load(data.decode("utf-8"))
                weights = {str(d["key"]): d.get("weight", 0) for d in spec["domains"]}
                found[parts[1]] = {"title": str(spec.get("title", parts[1])), "domains": list(weights),
                                   "weights": weights, "modules": []}
            except (yaml.YAMLError, UnicodeDecodeError, AttributeError, KeyError, TypeError):
                continue  # a malformed track file is not offered until fixed
    for path in files:
        parts = path.split("/")
        if len(parts) == 5 and parts[0] == "curricula" and parts[2] == "modules" and parts[4] == "module.md" \
                and parts[1] in found:
            found[parts[1]]["modules"].append(parts[3])
    return found


def file_of(session: Session, organization_id: int, file_id: int) -> AuthoredFile | None:
    """The file, only if it belongs to this organisation (ids come from URLs)."""
    return session.scalar(select(AuthoredFile).where(AuthoredFile.id == file_id,
                                                     AuthoredFile.organization_id == organization_id)
                          .options(selectinload(AuthoredFile.versions)))


def file_at(session: Session, organization_id: int, path: str) -> AuthoredFile | None:
    return session.scalar(select(AuthoredFile).where(AuthoredFile.organization_id == organization_id,
                                                     AuthoredFile.path == path))


def latest(file: AuthoredFile) -> AuthoredVersion:
    return file.versions[-1]


def save(session: Session, organization_id: int, path: str, data: bytes | None, *, author_id: int | None,
         note: str = "") -> AuthoredVersion | None:
    """Add a version of `path` (None deletes it). Returns None when nothing changed. The caller commits."""
    if data is not None:
        check_file(path, data)
    file = file_at(session, organization_id, path)
    if file is None:
        if data is None:
            raise TreeError(f"'{path}' does not exist.")
        count = session.scalar(select(func.count(AuthoredFile.id)).where(AuthoredFile.organization_id == organization_id))
        if count >= MAX_FILES:
            raise TreeError(f"A tree may hold at most {MAX_FILES} files.")
        file = AuthoredFile(organization_id=organization_id, path=path)
        session.add(file)
        session.flush()
        number = 1
    else:
        previous = session.scalar(select(AuthoredVersion).where(AuthoredVersion.file_id == file.id)
                                  .order_by(AuthoredVersion.number.desc()).limit(1))
        if previous.data == data:
            return None
        number = previous.number + 1
    version = AuthoredVersion(file_id=file.id, number=number, data=data, author_id=author_id, note=note[:200])
    session.add(version)
    session.flush()
    return version


def restore(session: Session, file: AuthoredFile, number: int, *, author_id: int | None) -> AuthoredVersion | None:
    """Roll back: save version `number`'s content again as the newest version."""
    old = next((v for v in file.versions if v.number == number), None)
    if old is None:
        raise TreeError(f"'{file.path}' has no version {number}.")
    return save(session, file.organization_id, file.path, old.data, author_id=author_id, note=f"restored version {number}")


def text(version: AuthoredVersion | None) -> str:
    if version is None or version.data is None:
        return ""
    try:
        return version.data.decode("utf-8")
    except UnicodeDecodeError:
        return f"(binary, {len(version.data)} bytes)"


def diff(file: AuthoredFile, old: int, new: int) -> list[str]:
    """A unified diff of two versions of a file, line by line."""
    versions = {v.number: v for v in file.versions}
    if old not in versions or new not in versions:
        raise TreeError(f"'{file.path}' has versions 1 to {len(versions)}.")
    return list(difflib.unified_diff(text(versions[old]).splitlines(), text(versions[new]).splitlines(),
                                     f"version {old}", f"version {new}", lineterm=""))
