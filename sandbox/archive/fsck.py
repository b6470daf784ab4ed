"""Consistency check of one partition: does its index agree with its file store?

The ingest order (file durable and renamed, then one index transaction) means a
crash can leave a file without a row (an orphan, or a temp file not yet renamed),
never a row without its file. This module finds every disagreement of either
kind, and empty patient/study/series rows; `fsck_repair` fixes them. Only the
partition's own rows and its own directory (data_dir/<CODE>/) are ever read.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from sqlalchemy import exists, select

from sandbox.archive.filestore import FileStore
from sandbox.db import Database
from sandbox.models import Instance, Patient, Series, Study

# The image stores (as sandbox.api.STORES): the first path segment under <CODE>/.
STORES = ("archive", "workstation")

# Problem kinds (stable names: printed by the CLI and journaled on repair).
ORPHAN_FILE = "orphan-file"          # a file no index row points to
TEMP_FILE = "temp-file"              # a write that was never renamed (filestore/admin temp)
MISSING_FILE = "missing-file"        # a row whose file is not there
SIZE_MISMATCH = "size-mismatch"      # a row whose file has another size than recorded
OUTSIDE_PARTITION = "outside-partition"  # a row whose path leaves <CODE>/<store>/
EMPTY_SERIES = "empty-series"
EMPTY_STUDY = "empty-study"
EMPTY_PATIENT = "empty-patient"
FILE_KINDS = (ORPHAN_FILE, TEMP_FILE)
ROW_KINDS = (MISSING_FILE, SIZE_MISMATCH, OUTSIDE_PARTITION)
EMPTY_KINDS = (EMPTY_SERIES, EMPTY_STUDY, EMPTY_PATIENT)


@dataclass(frozen=True)
class FsckProblem:
    """One disagreement; `repair` says what was done about it ("" = nothing yet)."""

    kind: str
    store: str
    path: str = ""      # relative to the data directory (files and instance rows)
    uid: str = ""       # SOP Instance / Series / Study UID, or the Patient ID
    detail: str = ""
    repair: str = ""
    row_id: int | None = field(default=None, repr=False, compare=False)
    size: int | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class FsckReport:
    """What `fsck` found in one partition (and, with repair, what it did)."""

    code: str
    rows_checked: int
    files_checked: int
    problems: tuple[FsckProblem, ...] = ()
    repaired: bool = False
    # Orphan or temp files younger than `min_age`: possibly a store in progress, left alone.
    skipped_recent: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        """For printing: the problems without their internal row ids."""
        return {"code": self.code, "consistent": self.consistent, "repaired": self.repaired,
                "rows_checked": self.rows_checked, "files_checked": self.files_checked,
                "problems": [{"kind": p.kind, "store": p.store, "path": p.path, "uid": p.uid,
                              "detail": p.detail, "repair": p.repair} for p in self.problems],
                "skipped_recent": list(self.skipped_recent)}

    @property
    def unresolved(self) -> tuple[FsckProblem, ...]:
        return tuple(p for p in self.problems if not p.repair)

    @property
    def consistent(self) -> bool:
        """True when nothing was found, or everything found was repaired."""
        return not self.unresolved


def is_temp(name: str) -> bool:
    """Temp names of FileStore.write (.<name>.<hex>.tmp) and admin._rewrite (.<name>.edit)."""
    return name.startswith(".") and name.endswith((".tmp", ".edit"))


def check(db: Database, files: FileStore, code: str, pid: int, *,
          min_age: float = 0.0) -> FsckReport:
    """Compare rows and files of partition `code` (id `pid`); changes nothing."""
    rows = _instance_rows(db, pid)
    by_path = {r.path: r for r in rows}
    problems: list[FsckProblem] = []
    for r in rows:
        problem = _row_problem(files, code, r)
        if problem:
            problems.append(problem)
    disk, recent = _disk_files(files, code, min_age)
    for rel, size in disk:
        name = PurePosixPath(rel).name
        store = _store_of(rel)
        if is_temp(name):
            problems.append(FsckProblem(TEMP_FILE, store, rel, detail="leftover temp file",
                                        size=size))
        elif rel not in by_path:
            problems.append(FsckProblem(ORPHAN_FILE, store, rel, detail="no index row",
                                        size=size))
    problems.extend(empty_parents(db, pid))
    return FsckReport(code, len(rows), len(disk) + len(recent), tuple(problems),
                      skipped_recent=tuple(recent))


def _instance_rows(db: Database, pid: int) -> list:
    q = (select(Instance.id, Instance.store, Instance.sop_instance_uid, Instance.path,
                Instance.size).where(Instance.partition_id == pid).order_by(Instance.id))
    with db.read() as conn:
        return conn.execute(q).all()


def _row_problem(files: FileStore, code: str, r) -> FsckProblem | None:
    common = {"store": r.store, "path": r.path, "uid": r.sop_instance_uid, "row_id": r.id}
    if not inside(code, r.store, r.path):
        return FsckProblem(OUTSIDE_PARTITION, detail=f"path is not under {code}/{r.store}/",
                           **common)
    try:
        size = os.stat(files.path(r.path)).st_size
    except FileNotFoundError:
        return FsckProblem(MISSING_FILE, detail="indexed file is missing", **common)
    if size != r.size:
        return FsckProblem(SIZE_MISMATCH, detail=f"{size} bytes on disk, {r.size} indexed",
                           size=size, **common)
    return None


def inside(code: str, store: str, rel: str) -> bool:
    """Is `rel` a path in this partition's store (no absolute paths, no '..')?"""
    parts = PurePosixPath(rel).parts
    return len(parts) > 2 and parts[:2] == (code, store) and ".." not in parts


def _store_of(rel: str) -> str:
    parts = PurePosixPath(rel).parts
    return parts[1] if len(parts) > 2 and parts[1] in STORES else ""


def _disk_files(files: FileStore, code: str, min_age: float
                ) -> tuple[list[tuple[str, int]], list[str]]:
    """(relative path, size) of every file under data_dir/<CODE>/, and the recent ones apart.

    Symbolic links are listed as files, never followed: fsck must not wander out of
    the partition's directory."""
    top = files.root / code
    found, recent = [], []
    cutoff = time.time() - min_age
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        for name in [*filenames, *links]:
            full = os.path.join(dirpath, name)
            try:
                st = os.lstat(full)
            except FileNotFoundError:  # removed meanwhile (a live archive)
                continue
            rel = PurePosixPath(os.path.relpath(full, files.root)).as_posix()
            if min_age and st.st_mtime > cutoff:
                recent.append(rel)
            else:
                found.append((rel, st.st_size))
    return sorted(found), sorted(recent)


def _has_instances(model):
    """SQL: this patient/study/series row has at least one instance below it."""
    below = exists().where(Instance.series_pk == Series.id)
    if model is Series:
        return below
    if model is Study:
        return exists().where(Series.study_pk == Study.id, below)
    return exists().where(Study.patient_pk == Patient.id, Series.study_pk == Study.id, below)


# kind -> (table, its key column); children first, so a repair removes series before studies
EMPTY = {EMPTY_SERIES: (Series, Series.series_uid), EMPTY_STUDY: (Study, Study.study_uid),
         EMPTY_PATIENT: (Patient, Patient.patient_id)}


def empty_condition(kind: str, pid: int):
    model = EMPTY[kind][0]
    return (model.partition_id == pid) & ~_has_instances(model)


def empty_parents(db: Database, pid: int) -> list[FsckProblem]:
    """Series, studies and patients with no instance below them."""
    out = []
    with db.read() as conn:
        for kind, (model, key) in EMPTY.items():
            q = (select(model.id, model.store, key).where(empty_condition(kind, pid))
                 .order_by(model.id))
            for row_id, store, uid in conn.execute(q):
                out.append(FsckProblem(kind, store, uid=uid, detail="no instances left",
                                       row_id=row_id))
    return out


def with_repair(problem: FsckProblem, action: str) -> FsckProblem:
    return replace(problem, repair=action)
