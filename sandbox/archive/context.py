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

    def fault_fired(self, kind: str, summary: str, **details) -> None:
        self.record("fault.fired", f"fault {kind}: {summary}", fault=kind, **details)
