"""Repairing what `fsck.check` found, one journaled transaction per repair.

Rules, in order: a row outside its partition's store or without its file goes
(its data is gone; a row must never promise a file); a row whose file has
another size is corrected from the file if that is a complete instance of the
same SOP Instance UID, else row and file go; temp files go (never renamed, so
never acknowledged); an orphan that is a complete DICOM instance (PS3.10) of
the partition's store is indexed, anything else goes; last, parents left
without instances go. Each repair re-checks its row inside its transaction, so
a store or an edit committed meanwhile is not undone.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import replace
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from sandbox import journal
from sandbox.archive import fsck, index
from sandbox.archive.attributes import InstanceAttributes
from sandbox.archive.filestore import FileStore
from sandbox.db import Database
from sandbox.models import Instance

log = logging.getLogger("sandbox.fsck")

# Actions written into FsckProblem.repair.
ROW_REMOVED = "row removed"
ROW_AND_FILE_REMOVED = "row and file removed"
ROW_UPDATED = "row updated from file"
FILE_REMOVED = "file removed"
REINDEXED = "indexed"
ALREADY_FIXED = "already consistent"  # someone else fixed it meanwhile


def repair(db: Database, files: FileStore, pid: int, report: fsck.FsckReport) -> fsck.FsckReport:
    """Fix every problem in `report`; returns the report with each problem's repair."""
    code = report.code
    done = []
    order = (fsck.OUTSIDE_PARTITION, fsck.MISSING_FILE, fsck.SIZE_MISMATCH, fsck.TEMP_FILE,
             fsck.ORPHAN_FILE)
    for kind in order:
        done += [_attempt(_REPAIRS[kind], db, files, code, pid, p)
                 for p in report.problems if p.kind == kind]
    # Parents are judged after the rows went: removing a row may empty its series.
    done += [_attempt(_remove_empty, db, files, code, pid, p) for p in fsck.empty_parents(db, pid)]
    return fsck.FsckReport(code, report.rows_checked, report.files_checked, tuple(done),
                           repaired=True, skipped_recent=report.skipped_recent)


def _attempt(fix, db, files, code: str, pid: int, p: fsck.FsckProblem) -> fsck.FsckProblem:
    """Run one repair; a failure is reported on the problem (left unresolved), not raised."""
    try:
        return fsck.with_repair(p, fix(db, files, code, pid, p))
    except Exception as exc:  # the other repairs still run
        log.exception("fsck %s: cannot repair %s %s", code, p.kind, p.path or p.uid)
        return replace(p, detail=f"{p.detail}; repair failed: {exc}"[:500])


def _journal(conn, code: str, kind: str, p: fsck.FsckProblem, action: str, **details) -> None:
    journal.record(conn, code, f"fsck.{kind}", f"fsck: {p.kind} {p.path or p.uid}: {action}",
                   problem=p.kind, store=p.store, path=p.path, uid=p.uid, detail=p.detail,
                   **details)


def _remove_row(db, files, code, pid, p: fsck.FsckProblem) -> str:
    """A row without its file (or outside the partition): remove it, if still as seen."""
    with db.write() as conn:
        if p.kind == fsck.MISSING_FILE and files.path(p.path).exists():
            return ALREADY_FIXED  # the file came back (e.g. a restore) - keep the row
        n = conn.execute(delete(Instance).where(
            Instance.id == p.row_id, Instance.partition_id == pid,
            Instance.path == p.path)).rowcount
        if not n:
            return ALREADY_FIXED
        _journal(conn, code, "row-removed", p, ROW_REMOVED)
    return ROW_REMOVED


def _fix_size(db, files, code, pid, p: fsck.FsckProblem) -> str:
    ds, why = read_complete(files.path(p.path))
    same = ds is not None and str(ds.get("SOPInstanceUID", "")).strip() == p.uid
    with db.write() as conn:
        row = conn.execute(select(Instance.size).where(
            Instance.id == p.row_id, Instance.partition_id == pid,
            Instance.path == p.path)).first()
        if row is None:
            return ALREADY_FIXED
        if same:
            size = files.path(p.path).stat().st_size
            conn.execute(update(Instance).where(Instance.id == p.row_id).values(
                size=size, transfer_syntax=str(ds.file_meta.TransferSyntaxUID)))
            _journal(conn, code, "row-updated", p, ROW_UPDATED, size=size)
            return ROW_UPDATED
        conn.execute(delete(Instance).where(Instance.id == p.row_id))
        _journal(conn, code, "row-removed", p, ROW_AND_FILE_REMOVED,
                 reason=why or "another SOP Instance UID in the file")
    files.remove(p.path)  # after commit: never a row without its file
    return ROW_AND_FILE_REMOVED


def _remove_temp(db, files, code, pid, p: fsck.FsckProblem) -> str:
    files.remove(p.path)
    _journal(db, code, "file-removed", p, FILE_REMOVED)
    return FILE_REMOVED


def _adopt_orphan(db, files, code, pid, p: fsck.FsckProblem) -> str:
    """Index an orphan that is a complete instance of this store; remove anything else."""
    path = files.path(p.path)
    if not p.store:
        ds, why = None, "not in an image store"
    elif path.is_symlink() or not path.is_file():  # never read through a link
        ds, why = None, "not a regular file"
    else:
        ds, why = read_complete(path)
    attrs = _attributes(ds) if ds is not None else None
    if ds is not None and attrs is None:
        why = "its indexed attributes cannot be read"
    if attrs is not None and not (attrs.sop_instance_uid and attrs.sop_class_uid
                                  and attrs.study_uid and attrs.series_uid):
        attrs, why = None, "no SOP Class/Instance, Study or Series Instance UID"
    for attempt in range(2):
        try:
            action = _index_or_drop(db, files, code, pid, p, ds, attrs, why)
            break
        except IntegrityError:  # a store of the same study/series ran meanwhile: read again
            if attempt:
                raise  # reported as a failed repair; the file stays
    if action == FILE_REMOVED:
        files.remove(p.path)  # after commit: the journal says why
    return action


def _index_or_drop(db, files, code, pid, p, ds, attrs, why) -> str:
    with db.write() as conn:
        if conn.execute(select(Instance.id).where(Instance.partition_id == pid,
                                                  Instance.path == p.path)).first():
            return ALREADY_FIXED  # a store committed meanwhile
        if attrs is not None:
            if index.find_instance(conn, pid, p.store, attrs.sop_instance_uid) is None:
                meta = ds.file_meta
                index.add_instance(
                    conn, pid, p.store, attrs, path=p.path,
                    size=files.path(p.path).stat().st_size,
                    transfer_syntax=str(meta.TransferSyntaxUID),
                    calling_ae=str(meta.get("SourceApplicationEntityTitle", "")).strip(),
                    existing=None)
                _journal(conn, code, "reindexed", p, REINDEXED,
                         sop_instance_uid=attrs.sop_instance_uid)
                return REINDEXED
            why = "a second copy of an indexed instance"  # the indexed copy wins
        _journal(conn, code, "file-removed", p, FILE_REMOVED, reason=why)
    return FILE_REMOVED


def _attributes(ds: Dataset) -> InstanceAttributes | None:
    try:
        return InstanceAttributes.from_dataset(ds)
    except Exception:  # noqa: BLE001 - unreadable values: not an instance we can index
        return None


def _remove_empty(db, files, code, pid, p: fsck.FsckProblem) -> str:
    """Remove a parent row, only if still empty (a store may have arrived meanwhile)."""
    model = fsck.EMPTY[p.kind][0]
    with db.write() as conn:
        n = conn.execute(delete(model).where(model.id == p.row_id,
                                             fsck.empty_condition(p.kind, pid))).rowcount
        if not n:
            return ALREADY_FIXED
        _journal(conn, code, "row-removed", p, ROW_REMOVED)
    return ROW_REMOVED


_REPAIRS = {
    fsck.OUTSIDE_PARTITION: _remove_row,
    fsck.MISSING_FILE: _remove_row,
    fsck.SIZE_MISMATCH: _fix_size,
    fsck.TEMP_FILE: _remove_temp,
    fsck.ORPHAN_FILE: _adopt_orphan,
}


def read_complete(path: Path) -> tuple[Dataset | None, str]:
    """(dataset, "") if `path` is a whole DICOM file (PS3.10: preamble, 'DICM', file meta
    with a Transfer Syntax UID) whose every element has all its bytes, else (None, why).

    pydicom reads a truncated file without complaint, so each value's length is checked
    against its declared length (PS3.5 7.1), and an undefined-length value must reach
    its Sequence Delimitation Item (PS3.5 7.5)."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ds = pydicom.dcmread(path)
    except Exception as exc:  # noqa: BLE001 - any parse failure: "not an instance"
        return None, f"not a DICOM file: {type(exc).__name__}: {exc}"[:200]
    if any("delimiter" in str(w.message) for w in caught):
        return None, "an undefined-length value has no delimiter (file truncated)"
    if "TransferSyntaxUID" not in ds.file_meta:
        return None, "no Transfer Syntax UID in the file meta"
    for tag in list(ds.keys()):  # iterating a Dataset yields elements, not tags
        raw = ds.get_item(tag)
        value, length = getattr(raw, "value", None), getattr(raw, "length", None)
        if isinstance(value, bytes) and length not in (None, 0xFFFFFFFF) and len(value) != length:
            return None, f"element {tag} is truncated ({len(value)} of {length} bytes)"
    meta_uid = str(ds.file_meta.get("MediaStorageSOPInstanceUID", "")).strip()
    if meta_uid and meta_uid != str(ds.get("SOPInstanceUID", "")).strip():
        return None, "file meta and dataset name different SOP Instances"
    return ds, ""
