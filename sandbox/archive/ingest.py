"""Putting one instance into a store: file first, then the index, all or nothing.

The file is written (temp, fsync, rename) before the index transaction; if the
transaction fails the file is removed, so a file is indexed only if it is on
disk and vice versa. A replaced instance's old file is removed after commit.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from sandbox import journal
from sandbox.archive import index, routing
from sandbox.archive import status as st
from sandbox.archive.attributes import InstanceAttributes
from sandbox.archive.filestore import FileStore
from sandbox.db import Database

log = logging.getLogger("sandbox.ingest")


@dataclass(frozen=True)
class Target:
    """Where an instance goes and who sent it (for the journal and routing rules)."""

    partition_id: int
    code: str
    store: str
    replace_duplicates: bool
    calling_ae: str = ""
    association: str = ""
    route: bool = True


class Duplicate(Exception):
    pass


def store_instance(db: Database, files: FileStore, target: Target, a: InstanceAttributes,
                   chunks: list, transfer_syntax: str, *, summary_extra: dict | None = None,
                   cache: index.KeyCache | None = None, rules=None,
                   started: float | None = None) -> int:
    """Store and index; returns the DIMSE status (PS3.4 B.2.3) and journals the outcome.

    `cache` (index keys) and `rules` (routing rules) may come from the association.
    """
    cache = index.KeyCache() if cache is None else cache
    details = {"sop_instance_uid": a.sop_instance_uid, "sop_class_uid": a.sop_class_uid,
               "study_uid": a.study_uid, "patient_id": a.patient_id, "store": target.store,
               "transfer_syntax": transfer_syntax, **(summary_extra or {})}
    relpath = files.relpath(target.code, target.store, a.study_uid, a.series_uid,
                            a.sop_instance_uid)
    if files.path(relpath).exists():  # a copy is there: never overwrite an indexed file
        relpath = files.relpath(target.code, target.store, a.study_uid, a.series_uid,
                                a.sop_instance_uid, unique=True)
    size = sum(len(c) for c in chunks)  # bytes and byte memoryviews
    # The file is written and made durable while the index statements run; the
    # transaction commits only after the file is on disk (file.result() below).
    file = files.write_async(relpath, chunks)

    def discard() -> None:
        _settle(file)
        files.remove(relpath)

    for attempt in range(3):
        try:
            with db.write() as conn:
                existing = index.find_instance(conn, target.partition_id, target.store,
                                               a.sop_instance_uid)
                if existing and not target.replace_duplicates:
                    raise Duplicate
                index.add_instance(conn, target.partition_id, target.store, a, path=relpath,
                                   size=size, transfer_syntax=transfer_syntax,
                                   calling_ae=target.calling_ae, existing=existing,
                                   cache=cache)
                if target.route:
                    routing.enqueue(conn, target.partition_id, target.code, a,
                                    target.calling_ae, rules)
                if existing:
                    journal.record(conn, target.code, "store.replaced",
                                   f"{a.sop_instance_uid} replaced by a second copy",
                                   association=target.association, **details)
                file.result()  # raises OSError if the file could not be written: no commit
                if started is not None:
                    details["duration_ms"] = round((time.perf_counter() - started) * 1000, 2)
                journal.record(conn, target.code, "dimse.c-store",
                               f"C-STORE {a.sop_instance_uid} stored", status=st.SUCCESS,
                               association=target.association, size=size, **details)
            break
        except Duplicate:
            discard()
            return _duplicate(db, target, a, details)
        except IntegrityError:
            # a concurrent insert of the same study/series, or a cached key gone stale:
            # read everything again
            cache.clear()
            if attempt == 2:
                discard()
                journal.record(db, target.code, "failure",
                               f"cannot index {a.sop_instance_uid}: integrity conflict",
                               status=st.OUT_OF_RESOURCES, association=target.association)
                return st.OUT_OF_RESOURCES
            continue
        except Exception as exc:  # noqa: BLE001 - answer A700, never raise to pynetdicom
            discard()
            log.exception("storing %s failed", a.sop_instance_uid)
            journal.record(db, target.code, "failure", f"cannot store {a.sop_instance_uid}: {exc}",
                           status=st.OUT_OF_RESOURCES, association=target.association, **details)
            return st.OUT_OF_RESOURCES
    if existing and existing.path != relpath:  # the replaced copy's file, after commit
        files.remove(existing.path)
    return st.SUCCESS


def _settle(future) -> None:
    """Wait for a background write, whatever its outcome."""
    try:
        future.result()
    except Exception:  # noqa: BLE001 - the caller is already failing
        pass


def _duplicate(db, target: Target, a: InstanceAttributes, details: dict) -> int:
    journal.record(db, target.code, "store.duplicate-refused",
                   f"{a.sop_instance_uid} already stored; partition keeps the first copy",
                   status=st.DUPLICATE_SOP_INSTANCE, association=target.association, **details)
    return st.DUPLICATE_SOP_INSTANCE
