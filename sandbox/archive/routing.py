"""Auto-forward rules and their retry queue (rows, so any process can run the queue).

On receipt (inside the index transaction) every matching rule adds a pending
ForwardJob. `run_due` claims due jobs one by one with a conditional UPDATE, so
several processes can work the same queue; a failed send waits
retry_seconds * 2^(attempts-1) and gives up after max_attempts (state "failed",
`last_error` says why).
"""

from __future__ import annotations

import fnmatch
from datetime import timedelta

from pydicom.uid import UID
from pynetdicom import build_context
from sqlalchemy import Connection, insert, select, update

from sandbox import journal
from sandbox.archive import status as st
from sandbox.archive.attributes import InstanceAttributes
from sandbox.db import Database, utcnow
from sandbox.models import ForwardJob, Instance, Partition, RoutingRule
from sandbox.netpolicy import DestinationRefused


def rule_matches(rule, a: InstanceAttributes, calling_ae: str) -> bool:
    if rule.modality and rule.modality != a.modality:
        return False
    if rule.calling_ae and rule.calling_ae != calling_ae:
        return False
    if rule.study_description:
        # DICOM-style wildcards * and ? (fnmatch's [] classes are not used in descriptions)
        if not fnmatch.fnmatchcase(a.study_description, rule.study_description):
            return False
    return True


def load_rules(conn: Connection, partition_id: int) -> list:
    return conn.execute(
        select(RoutingRule.__table__).where(RoutingRule.partition_id == partition_id)
    ).all()


def enqueue(conn: Connection, partition_id: int, code: str, a: InstanceAttributes,
            calling_ae: str, rules=None) -> int:
    """Queue a job per matching rule (`rules` as read when the association arrived)."""
    if rules is None:
        rules = load_rules(conn, partition_id)
    n = 0
    for rule in rules:
        if rule_matches(rule, a, calling_ae):
            conn.execute(insert(ForwardJob).values(
                partition_id=partition_id, rule_id=rule.id, sop_instance_uid=a.sop_instance_uid,
                destination_ae=rule.destination_ae, state="pending", attempts=0,
                last_error="", next_attempt_at=utcnow(), created_at=utcnow(),
            ))
            n += 1
    if n:
        journal.record(conn, code, "forward.queued",
                       f"{a.sop_instance_uid} queued for {n} forwarding rule(s)",
                       sop_instance_uid=a.sop_instance_uid)
    return n


def run_due(db: Database, files, outgoing, config, *, code: str | None = None,
            limit: int = 200) -> int:
    """Send every due pending job (of one partition, or all); returns how many were tried."""
    from sandbox import partitions  # local: partitions imports nothing of the archive

    q = (select(ForwardJob.id, ForwardJob.partition_id, Partition.code)
         .join(Partition, Partition.id == ForwardJob.partition_id)
         .where(ForwardJob.state == "pending", ForwardJob.next_attempt_at <= utcnow())
         .order_by(ForwardJob.id).limit(limit))
    if code:
        q = q.where(Partition.code == code)
    with db.read() as conn:
        due = conn.execute(q).all()
    tried = 0
    for job_id, partition_id, job_code in due:
        with db.write() as conn:
            claimed = conn.execute(
                update(ForwardJob).where(ForwardJob.id == job_id, ForwardJob.state == "pending")
                .values(state="running")
            ).rowcount
        if not claimed:
            continue  # another process took it
        tried += 1
        state = partitions.load_state(db, job_code)
        _send(db, files, outgoing, config, state, job_id)
    return tried


def _send(db, files, outgoing, config, state, job_id: int) -> None:
    with db.read() as conn:
        job = conn.execute(select(ForwardJob.__table__).where(ForwardJob.id == job_id)).one()
        inst = conn.execute(
            select(Instance.path, Instance.sop_class_uid, Instance.transfer_syntax)
            .where(Instance.partition_id == job.partition_id, Instance.store == "archive",
                   Instance.sop_instance_uid == job.sop_instance_uid)
        ).first()
    error, status_code = "", None
    node, misset = state.resolve_node(job.destination_ae) if state else (None, False)
    if inst is None:
        error = "instance no longer in the archive"
    elif node is None:
        error = f"destination {job.destination_ae} is not a registered node"
    else:
        if misset:
            journal.record(db, state.code, "fault.fired",
                           f"fault misset_node: {node.ae_title} resolved to port {node.port}",
                           fault="misset_node")
        try:
            assoc = outgoing.associate(
                f"{state.code}_PACS", node,
                [build_context(inst.sop_class_uid, [UID(inst.transfer_syntax)])],
            )
            if not assoc.is_established:
                error = f"association with {node.ae_title} at {node.host}:{node.port} failed"
            else:
                try:
                    rsp = assoc.send_c_store(files.path(inst.path))
                    status_code = getattr(rsp, "Status", None)
                    if st.is_failure(status_code):
                        error = f"C-STORE answered {st.name(status_code)}"
                finally:
                    assoc.release()
        except DestinationRefused as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - a job failure is data, not a crash
            error = f"{type(exc).__name__}: {exc}"
    attempts = job.attempts + 1
    if not error:
        values = {"state": "done", "attempts": attempts, "last_error": ""}
        kind, summary = "forward.sent", f"{job.sop_instance_uid} forwarded to {job.destination_ae}"
    else:
        give_up = attempts >= config.forward_max_attempts
        delay = config.forward_retry_seconds * 2 ** (attempts - 1)
        values = {"state": "failed" if give_up else "pending", "attempts": attempts,
                  "last_error": error, "next_attempt_at": utcnow() + timedelta(seconds=delay)}
        kind = "forward.failed"
        summary = (f"forwarding {job.sop_instance_uid} to {job.destination_ae} failed "
                   f"(attempt {attempts}): {error}")
    with db.write() as conn:
        conn.execute(update(ForwardJob).where(ForwardJob.id == job_id).values(**values))
        journal.record(conn, state.code if state else None, kind, summary, status=status_code,
                       destination_ae=job.destination_ae, attempts=attempts)
