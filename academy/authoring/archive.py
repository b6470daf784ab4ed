"""A tree as a zip or a folder, and back: the format of curricula/ and question_banks/, so content can live in git.

Exports are reproducible (sorted names, a fixed timestamp, fixed permissions): exporting the same tree twice
gives the same bytes, which is what makes the export -> import -> export round trip checkable. Imports are
treated as hostile: names are matched against the tree's layout (no absolute paths, no `..`), sizes are
capped before anything is read whole, and a zip that fails any check changes nothing.
"""
from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

from sqlalchemy.orm import Session

from academy.authoring import tree

MAX_ARCHIVE_BYTES = 20 * 1024 * 1024  # uncompressed total
FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def to_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[path])
    return buffer.getvalue()


def from_zip(data: bytes) -> dict[str, bytes]:
    """path -> bytes of every file in a zip, refusing anything that is not a content file."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise tree.TreeError("That file is not a zip archive.") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > tree.MAX_FILES:
            raise tree.TreeError(f"The zip holds {len(members)} files; a tree may hold at most {tree.MAX_FILES}.")
        if sum(m.file_size for m in members) > MAX_ARCHIVE_BYTES:
            raise tree.TreeError(f"The zip unpacks to more than {MAX_ARCHIVE_BYTES // (1024 * 1024)} MB.")
        files = {}
        for member in members:
            name = _strip_top_folder(member.filename)
            if name is None or name.startswith("curricula/paths/"):
                continue  # a README, .gitattributes or onboarding paths (kept on the paths page) beside the tree
            if member.file_size > tree.MAX_FILE_BYTES:
                raise tree.TreeError(f"'{name}' is larger than {tree.MAX_FILE_BYTES // 1024} KB.")
            try:
                content = archive.read(member)
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError) as exc:
                raise tree.TreeError(f"'{name}' cannot be read from the zip: {exc}") from None
            tree.check_file(name, content)
            files[name] = content
    if not files:
        raise tree.TreeError("The zip holds no content files (curricula/<TRACK>/... or question_banks/<TRACK>/...).")
    return files


def _strip_top_folder(name: str) -> str | None:
    """Accept both `curricula/...` and `<folder>/curricula/...` (a zip made of a repository's folder)."""
    if name.startswith("/") or "\\" in name or any(part in ("", ".", "..") for part in name.split("/")):
        raise tree.TreeError(f"'{name}' is not a safe file name inside a zip.")
    parts = name.split("/")
    if parts[0] in ("curricula", "question_banks"):
        return name if len(parts) > 1 else None
    if len(parts) > 2 and parts[1] in ("curricula", "question_banks"):
        return "/".join(parts[1:])
    return None


def from_folder(folder: Path) -> dict[str, bytes]:
    """Read a folder holding curricula/ and question_banks/ (a git checkout of an organisation's content)."""
    files = {}
    for sub in ("curricula", "question_banks"):
        for path in sorted((folder / sub).rglob("*")) if (folder / sub).is_dir() else []:
            name = path.relative_to(folder).as_posix()
            if path.is_file() and not name.startswith("curricula/paths/"):
                data = path.read_bytes()
                tree.check_file(name, data)
                files[name] = data
    return files


def to_folder(files: dict[str, bytes], folder: Path) -> None:
    for name, data in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def replace_tree(session: Session, organization_id: int, files: dict[str, bytes], *, author_id: int | None,
                 note: str) -> tuple[int, int]:
    """Make the tree hold exactly `files` (a new version where a file differs; absent ones deleted).

    Returns (files changed, files deleted). The caller commits."""
    changed = deleted = 0
    current = tree.current_files(session, organization_id)
    for path in sorted(files):
        changed += tree.save(session, organization_id, path, files[path], author_id=author_id, note=note) is not None
    for path in sorted(set(current) - set(files)):
        tree.save(session, organization_id, path, None, author_id=author_id, note=note)
        deleted += 1
    return changed, deleted
