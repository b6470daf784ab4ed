"""What an HL7 handler is given: the open transaction, the partition, the message, the policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import Connection, select

from sandbox import journal
from sandbox.models import RisSettings
from sandbox.partitions import PartitionState
from sandbox.ris.messages import Message

DEFAULT_HOME_ISSUER = "ACADEMY_GH"  # sandbox.synth.ISSUER_OF_PATIENT_ID
UPDATE_POLICIES = ("apply", "flag")


@dataclass(frozen=True)
class Policy:
    home_issuer: str = DEFAULT_HOME_ISSUER
    update_policy: str = "apply"


def load_policy(conn: Connection, partition_id: int) -> Policy:
    row = conn.execute(select(RisSettings.home_issuer, RisSettings.update_policy)
                       .where(RisSettings.partition_id == partition_id)).first()
    return Policy(*row) if row else Policy()


@dataclass
class HandlerContext:
    conn: Connection
    partition: PartitionState
    policy: Policy
    msg: Message
    message_id: str = ""
    # work to do once the transaction has committed (archive rewrites: RAD-12)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.partition.code

    @property
    def pid(self) -> int:
        return self.partition.id

    def fault(self, kind: str) -> dict | None:
        return self.partition.faults.get(kind)

    def record(self, kind: str, summary: str, **details) -> None:
        journal.record(self.conn, self.code, kind, summary,
                       control_id=self.msg.control_id, **details)

    def fault_fired(self, kind: str, summary: str, **details) -> None:
        self.record("fault.fired", f"fault {kind}: {summary}", fault=kind, **details)
