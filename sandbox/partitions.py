"""Partitions, their node registries and faults: plain database operations.

Everything here goes through the database so that any process sharing it (the
site on several hosts, the CLI, the listener) sees the same state.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from sandbox import faults as fault_kinds
from sandbox import journal
from sandbox.codes import ae_title_for, validate_ae_title, validate_code
from sandbox.db import Database
from sandbox.models import (
    Fault, ForwardJob, JournalEvent, Node, Partition, Patient, RoutingRule,
)
from sandbox.records import FaultInfo, NodeInfo, PartitionInfo

ROLES_SHOWN = ("PACS", "WS", "RIS", "CT")


class PartitionNotFound(LookupError):
    pass


@dataclass(frozen=True)
class PartitionState:
    """What an association needs to know about its partition, read once on arrival."""

    id: int
    code: str
    accept_any_calling_ae: bool
    replace_duplicates: bool
    nodes: dict[str, NodeInfo] = field(default_factory=dict)
    faults: dict[str, dict] = field(default_factory=dict)
    routing_rules: tuple = ()

    def resolve_node(self, ae_title: str, own_address: tuple[str, int] | None = None,
                     own_suffixes: tuple[str, ...] = ("WS", "PACS", "CT", "MR")
                     ) -> tuple[NodeInfo | None, bool]:
        """The node for `ae_title` and whether the misset_node fault bent it.

        The registry wins; otherwise the partition's own hosted AEs (<CODE>_WS, <CODE>_PACS,
        and the simulated modalities <CODE>_CT and <CODE>_MR, which receive storage
        commitment reports) resolve to the sandbox's listener at `own_address`.
        """
        ae_title = ae_title.strip()
        node = self.nodes.get(ae_title)
        if node is None and own_address and ae_title in {f"{self.code}_{s}" for s in own_suffixes}:
            node = NodeInfo(ae_title, own_address[0], own_address[1], "hosted by the sandbox")
        misset = self.faults.get("misset_node")
        if node and misset and misset["ae_title"] == node.ae_title:
            return NodeInfo(node.ae_title, node.host, misset["port"], node.description), True
        return node, False


def _row(conn, code: str) -> Partition:
    row = conn.execute(select(Partition).where(Partition.code == validate_code(code))).scalar()
    if row is None:
        raise PartitionNotFound(f"no partition {code!r}")
    return row


def _info(row: Partition) -> PartitionInfo:
    return PartitionInfo(
        code=row.code, accept_any_calling_ae=row.accept_any_calling_ae,
        replace_duplicates=row.replace_duplicates, created_at=row.created_at,
        ae_titles={role: ae_title_for(row.code, role) for role in ROLES_SHOWN},
    )


def create(db: Database, code: str, *, accept_any_calling_ae: bool = False,
           replace_duplicates: bool = True) -> PartitionInfo:
    validate_code(code)
    try:
        with db.session() as s:
            row = Partition(code=code, accept_any_calling_ae=accept_any_calling_ae,
                            replace_duplicates=replace_duplicates)
            s.add(row)
            s.flush()
            info = _info(row)
    except IntegrityError:
        raise ValueError(f"partition {code!r} already exists") from None
    journal.record(db, code, "partition.created", f"partition {code} created",
                   accept_any_calling_ae=accept_any_calling_ae)
    return info


def get(db: Database, code: str) -> PartitionInfo:
    with db.session() as s:
        return _info(_row(s, code))


def list_all(db: Database) -> list[PartitionInfo]:
    with db.session() as s:
        return [_info(r) for r in s.execute(select(Partition).order_by(Partition.code)).scalars()]


def update(db: Database, code: str, **settings) -> PartitionInfo:
    allowed = {"accept_any_calling_ae", "replace_duplicates"}
    if unknown := set(settings) - allowed:
        raise ValueError(f"unknown partition settings {sorted(unknown)}; known: {sorted(allowed)}")
    with db.session() as s:
        row = _row(s, code)
        before = {k: getattr(row, k) for k in settings}
        for k, v in settings.items():
            setattr(row, k, bool(v))
        info = _info(row)
    journal.record(db, code, "partition.updated", f"settings changed: {settings}",
                   before=before, after=settings)
    return info


def load_state(db: Database, code: str) -> PartitionState | None:
    """Snapshot for one association; None if the partition does not exist."""
    with db.read() as conn:
        p = conn.execute(select(Partition.__table__).where(Partition.code == code)).first()
        if p is None:
            return None
        nodes = conn.execute(select(Node.__table__).where(Node.partition_id == p.id)).all()
        faults = conn.execute(select(Fault.__table__).where(Fault.partition_id == p.id)).all()
        rules = conn.execute(select(RoutingRule.__table__)
                             .where(RoutingRule.partition_id == p.id)).all()
    return PartitionState(
        id=p.id, code=p.code, accept_any_calling_ae=p.accept_any_calling_ae,
        replace_duplicates=p.replace_duplicates,
        nodes={n.ae_title: NodeInfo(n.ae_title, n.host, n.port, n.description) for n in nodes},
        faults={f.kind: dict(f.params or {}) for f in faults},
        routing_rules=tuple(rules),
    )


def reset(db: Database, data_dir: Path, code: str, *, keep_journal: bool = False) -> None:
    """Back to a fresh partition: no images, nodes, faults, rules, jobs or journal.

    With `keep_journal` (a finished lab run whose images are released) the journal stays, so the
    run's protocol trace can still be read."""
    with db.session() as s:
        pid = _row(s, code).id
        for model in (ForwardJob, RoutingRule, Fault, Node):
            s.execute(delete(model).where(model.partition_id == pid))
        from sandbox.ris.api import delete_partition_data  # the RIS's rows (sandbox/ris/)
        delete_partition_data(s, pid, code)
        # Studies, series and instances go with their patient (ON DELETE CASCADE);
        # delete them explicitly too for databases without enforced cascades.
        from sandbox.models import Instance, Series, Study
        for model in (Instance, Series, Study, Patient):
            s.execute(delete(model).where(model.partition_id == pid))
        if not keep_journal:
            s.execute(delete(JournalEvent).where(JournalEvent.partition_code == code))
    shutil.rmtree(Path(data_dir) / code, ignore_errors=True)
    if keep_journal:
        journal.record(db, code, "partition.released", f"partition {code}: images and settings released")
    else:
        journal.record(db, code, "partition.reset", f"partition {code} reset")


def delete_partition(db: Database, data_dir: Path, code: str) -> None:
    reset(db, data_dir, code)
    with db.session() as s:
        s.delete(_row(s, code))
        s.execute(delete(JournalEvent).where(JournalEvent.partition_code == code))


# -- node registry ----------------------------------------------------------------------

def add_node(db: Database, code: str, ae_title: str, host: str, port: int,
             description: str = "") -> NodeInfo:
    ae_title = validate_ae_title(ae_title)
    if not isinstance(host, str) or not host.strip() or len(host) > 255:
        raise ValueError(f"invalid host {host!r}")
    port = int(port)
    if not 1 <= port <= 65535:
        raise ValueError(f"invalid port {port}: use 1-65535")
    with db.session() as s:
        pid = _row(s, code).id
        row = s.execute(select(Node).where(Node.partition_id == pid,
                                           Node.ae_title == ae_title)).scalar()
        before = None
        if row is None:
            row = Node(partition_id=pid, ae_title=ae_title)
            s.add(row)
        else:
            before = {"host": row.host, "port": row.port, "description": row.description}
        row.host, row.port, row.description = host.strip(), port, description
    journal.record(db, code, "node.added", f"node {ae_title} at {host}:{port}",
                   ae_title=ae_title, host=host, port=port, before=before)
    return NodeInfo(ae_title, host.strip(), port, description)


def remove_node(db: Database, code: str, ae_title: str) -> None:
    ae_title = validate_ae_title(ae_title)
    with db.session() as s:
        pid = _row(s, code).id
        n = s.execute(delete(Node).where(Node.partition_id == pid, Node.ae_title == ae_title))
        if n.rowcount == 0:
            raise LookupError(f"partition {code} has no node {ae_title!r}")
    journal.record(db, code, "node.removed", f"node {ae_title} removed", ae_title=ae_title)


def list_nodes(db: Database, code: str) -> list[NodeInfo]:
    with db.session() as s:
        pid = _row(s, code).id
        rows = s.execute(select(Node).where(Node.partition_id == pid).order_by(Node.ae_title))
        return [NodeInfo(n.ae_title, n.host, n.port, n.description) for n in rows.scalars()]


# -- faults -----------------------------------------------------------------------------

def set_fault(db: Database, code: str, kind: str, **params) -> FaultInfo:
    params = fault_kinds.validate(kind, params)
    with db.session() as s:
        pid = _row(s, code).id
        row = s.execute(select(Fault).where(Fault.partition_id == pid, Fault.kind == kind)).scalar()
        if row is None:
            s.add(Fault(partition_id=pid, kind=kind, params=params))
        else:
            row.params = params
    journal.record(db, code, "fault.set", f"fault {kind} on {params}", fault=kind, params=params)
    return FaultInfo(kind, params)


def clear_fault(db: Database, code: str, kind: str | None = None) -> int:
    """Clear one fault kind, or all of them when `kind` is None; returns how many."""
    with db.session() as s:
        pid = _row(s, code).id
        q = delete(Fault).where(Fault.partition_id == pid)
        if kind is not None:
            q = q.where(Fault.kind == kind)
        n = s.execute(q).rowcount
    journal.record(db, code, "fault.cleared", f"fault {kind or 'all'} cleared", fault=kind)
    return n


def list_faults(db: Database, code: str) -> list[FaultInfo]:
    with db.session() as s:
        pid = _row(s, code).id
        rows = s.execute(select(Fault).where(Fault.partition_id == pid).order_by(Fault.kind))
        return [FaultInfo(f.kind, dict(f.params or {})) for f in rows.scalars()]
