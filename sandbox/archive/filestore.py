"""The file store: data_dir/<CODE>/<store>/<study>/<series>/<instance>.dcm.

Files are written to a temporary name in the same directory, fsynced and
renamed, so a reader never sees half a file. Paths in the index are relative to
the data directory, so hosts may mount a shared volume at different places.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

_SAFE_UID = re.compile(r"[0-9][0-9.]{0,63}")


def _segment(uid: str) -> str:
    """A UID as a path segment; anything but digits and dots is hashed (no traversal)."""
    uid = uid.strip()
    return uid if _SAFE_UID.fullmatch(uid) else "x" + hashlib.sha1(uid.encode()).hexdigest()


# Files are made durable on these threads while the caller writes the index (both wait
# on the disk, not on Python), and the caller waits for the file before committing.
_WRITERS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="sandbox-file")

# fdatasync flushes the data and the size (what a reader needs), not the timestamps:
# about half the cost of fsync for a new 512 KB file here.
_sync = getattr(os, "fdatasync", os.fsync)


class FileStore:
    def __init__(self, root: Path, *, fsync: bool = True) -> None:
        self.root = Path(root)
        self.fsync = fsync

    def relpath(self, code: str, store: str, study_uid: str, series_uid: str,
                sop_uid: str, *, unique: bool = False) -> str:
        """Where an instance lives; `unique` adds a token so a replacement never
        overwrites the file the index still points to."""
        name = _segment(sop_uid) + (f".{secrets.token_hex(4)}" if unique else "") + ".dcm"
        return "/".join((code, store, _segment(study_uid), _segment(series_uid), name))

    def path(self, relpath: str) -> Path:
        return self.root / relpath

    def write(self, relpath: str, chunks: list) -> int:
        """Write `chunks` (bytes-like) durably at `relpath`; returns the size."""
        final = self.path(relpath)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.{secrets.token_hex(4)}.tmp")
        size = 0
        try:
            with open(tmp, "wb") as fh:
                for chunk in chunks:
                    size += fh.write(chunk)
                if self.fsync:
                    fh.flush()
                    _sync(fh.fileno())
            os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return size

    def write_async(self, relpath: str, chunks: list) -> Future:
        """`write` on a background thread; the chunks must stay valid until it is done."""
        return _WRITERS.submit(self.write, relpath, chunks)

    def remove(self, relpath: str) -> None:
        """Delete a file and prune directories it leaves empty (up to the partition)."""
        p = self.path(relpath)
        p.unlink(missing_ok=True)
        for parent in list(p.parents)[:3]:
            try:
                parent.rmdir()
            except OSError:
                break
