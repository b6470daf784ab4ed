"""What a handler is given: the association's partition, role and the shared services."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sandbox import journal
from sandbox.archive.filestore import FileStore
from sandbox.archive.roles import Role
from sandbox.config import SandboxConfig
from sandbox.db import Database
from sandbox.partitions import PartitionState


@dataclass
class Services:
    """Process-wide dependencies; nothing here holds state that correctness relies on."""

    db: Database
    files: FileStore
    config: SandboxConfig
    outgoing: object  # sandbox.archive.outgoing.Outgoing
    # (host, port) of this process's listener, once bound: where <CODE>_WS lives.
    own_address: tuple[str, int] | None = None


@dataclass
class AssociationContext:
    """One accepted association: read from the database when it arrived."""

    id: str
    partition: PartitionState
    role: Role
    called_ae: str
    calling_ae: str
    peer: tuple[str, int]
    services: Services
    operations: int = 0
    # (kind, summary, details) of a C-MOVE/C-GET whose final response is still to be sent
    pending_final: tuple | None = None
    # patient/study/series keys this association has already indexed
    key_cache: dict = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    @property
    def code(self) -> str:
        return self.partition.code

    @property
    def store(self) -> str:
        return self.role.store or "archive"

    def fault(self, kind: str) -> dict | None:
        return self.partition.faults.get(kind)

    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 2)

    def record(self, kind: str, summary: str, *, status: int | None = None, conn=None,
               **details) -> None:
        """Journal one event of this association (within `conn`'s transaction if given)."""
        journal.record(
            conn if conn is not None else self.services.db, self.code, kind, summary,
            status=status, association=self.id, calling_ae=self.calling_ae,
            called_ae=self.called_ae, **details,
        )

    def resolve_node(self, ae_title: str):
        """(NodeInfo | None) for a destination; journals the misset_node fault if it bends it."""
        node, misset = self.partition.resolve_node(ae_title, self.services.own_address)
        if misset:
            self.fault_fired("misset_node", f"{node.ae_title} resolved to port {node.port}",
                             ae_title=node.ae_title)
        return node

    def fault_fired(self, kind: str, summary: str, **details) -> None:
        self.record("fault.fired", f"fault {kind}: {summary}", fault=kind, **details)
