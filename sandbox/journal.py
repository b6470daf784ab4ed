"""Write and read the journal: associations, DIMSE operations, faults, failures, admin acts.

Kinds (dotted, stable; graders match on them):
  association.accepted / .rejected / .released / .aborted / .closed
  dimse.c-echo / .c-store / .c-find / .c-move / .c-get / .n-action / .n-event-report
  store.replaced / store.duplicate-refused
  fault.fired
  failure                      (bad PDU, unparsable dataset, timeout, unexpected error)
  device.c-echo / .c-find / .c-move / .c-get / .c-store   (the simulated devices, as SCU)
  partition.* node.* admin.* forward.* retention.* scenario.*
  fsck.row-removed / .row-updated / .file-removed / .reindexed   (one per repair)

Details carry what graders need: calling/called AE titles, peer, presentation contexts,
identifier keys, level, matches, sub-operation counts, status, duration_ms, before/after.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Connection, insert, select

from sandbox.db import Database, utcnow
from sandbox.models import JournalEvent as Row
from sandbox.records import JournalEvent

log = logging.getLogger("sandbox.journal")
_INSERT = insert(Row)


def record(
    target: Database | Connection,
    partition_code: str | None,
    kind: str,
    summary: str,
    *,
    status: int | None = None,
    association: str = "",
    **details,
) -> None:
    """Append one event; inside `target`'s transaction if a Connection is given.

    Never raises to a DIMSE handler: a journal that cannot be written is logged.
    """
    values = dict(
        partition_code=partition_code, kind=kind, summary=summary[:2000], status=status,
        association=association, details=_plain(details), created_at=utcnow(),
    )
    try:
        if isinstance(target, Connection):
            target.execute(_INSERT, values)
        else:
            with target.write() as conn:
                conn.execute(_INSERT, values)
    except Exception:  # noqa: BLE001 - the journal must not take a service down
        log.exception("could not journal %s %s", kind, summary)


def read(
    db: Database,
    partition_code: str | None,
    *,
    kind: str | None = None,
    since: datetime | int | None = None,
    limit: int = 10_000,
    latest: bool = False,
) -> list[JournalEvent]:
    """Events of one partition (None: events that belong to none), oldest first.

    `kind` matches exactly or as a prefix ending in '.', e.g. "association." or
    "dimse.c-store"; `since` is a datetime or the id of the last event already seen.
    With `latest`, the newest `limit` events are the ones returned (still oldest first).
    """
    q = select(Row.__table__).where(
        Row.partition_code.is_(None) if partition_code is None
        else Row.partition_code == partition_code
    )
    if kind:
        q = q.where(Row.kind.startswith(kind) if kind.endswith(".") else Row.kind == kind)
    if isinstance(since, int):
        q = q.where(Row.id > since)
    elif since is not None:
        q = q.where(Row.created_at >= since)
    q = q.order_by(Row.id.desc() if latest else Row.id).limit(limit)
    with db.read() as conn:
        rows = conn.execute(q).all()
    if latest:
        rows.reverse()
    return [
        JournalEvent(
            id=r.id, partition_code=r.partition_code, kind=r.kind, summary=r.summary,
            status=r.status, association=r.association, details=r.details or {},
            created_at=r.created_at,
        )
        for r in rows
    ]


def _plain(value):
    """Make details JSON-safe (pydicom values, tuples, bytes)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, bytes):
        return value[:64].hex()
    return str(value)
