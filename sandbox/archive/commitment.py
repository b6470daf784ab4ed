"""Storage Commitment Push Model SCP (PS3.4 J.3).

N-ACTION (action type 1, "Request Storage Commitment") is answered at once;
the result goes back as N-EVENT-REPORT (event type 1: all committed, 2: some
failed) on a new association to the requesting node, which must be registered
and allowed by the network policy. Commitment means: the instance is indexed
in this partition's store with the same SOP Class.
"""

from __future__ import annotations

import threading

from pydicom.dataset import Dataset
from pynetdicom import build_context, build_role
from pynetdicom.sop_class import StorageCommitmentPushModel
from sqlalchemy import select

from sandbox.archive import status as st
from sandbox.archive.context import AssociationContext
from sandbox.models import Instance
from sandbox.netpolicy import DestinationRefused

# PS3.4 J.3.2.1.2 / J.3.3.1.1
WELL_KNOWN_INSTANCE = "1.2.840.10008.1.20.1.1"
REQUEST_STORAGE_COMMITMENT = 1
ALL_COMMITTED, SOME_FAILED = 1, 2


def on_action(event, ctx: AssociationContext):
    req = event.request
    if req.ActionTypeID != REQUEST_STORAGE_COMMITMENT:
        ctx.record("dimse.n-action", f"N-ACTION type {req.ActionTypeID} is not supported",
                   status=st.NO_SUCH_ACTION)
        return st.NO_SUCH_ACTION, None
    try:
        info = event.action_information
        transaction = str(info.TransactionUID)
        refs = [(str(i.ReferencedSOPClassUID), str(i.ReferencedSOPInstanceUID))
                for i in info.ReferencedSOPSequence]
    except Exception as exc:  # noqa: BLE001 - PS3.7 C.5: missing attribute
        ctx.record("dimse.n-action", f"storage commitment request unusable: {exc}",
                   status=st.MISSING_ATTRIBUTE)
        return st.MISSING_ATTRIBUTE, None
    committed, failed = _check(ctx, refs)
    ctx.record("dimse.n-action",
               f"storage commitment {transaction}: {len(committed)} committed, {len(failed)} failed",
               status=st.SUCCESS, transaction_uid=transaction, requested=len(refs))
    threading.Thread(target=_report, args=(ctx, transaction, committed, failed),
                     name=f"commitment-{transaction[-12:]}", daemon=True).start()
    return st.SUCCESS, None


def _check(ctx: AssociationContext, refs):
    uids = [uid for _, uid in refs]
    with ctx.services.db.read() as conn:
        stored = dict(conn.execute(
            select(Instance.sop_instance_uid, Instance.sop_class_uid).where(
                Instance.partition_id == ctx.partition.id, Instance.store == ctx.store,
                Instance.sop_instance_uid.in_(uids))
        ).all()) if uids else {}
    committed, failed = [], []
    for sop_class, uid in refs:
        if uid not in stored:
            failed.append((sop_class, uid, st.NO_SUCH_OBJECT_INSTANCE))
        elif stored[uid] != sop_class:
            failed.append((sop_class, uid, st.CLASS_INSTANCE_CONFLICT))
        else:
            committed.append((sop_class, uid))
    return committed, failed


def _report(ctx: AssociationContext, transaction: str, committed, failed) -> None:
    ds = Dataset()
    ds.TransactionUID = transaction
    ds.ReferencedSOPSequence = [_item(c, u) for c, u in committed]
    if failed:
        ds.FailedSOPSequence = [_item(c, u, reason) for c, u, reason in failed]
    event_type = SOME_FAILED if failed else ALL_COMMITTED
    node = ctx.resolve_node(ctx.calling_ae)
    if node is None:
        ctx.record("failure", f"storage commitment report for {transaction} not sent: "
                   f"{ctx.calling_ae} is not a registered node")
        return
    try:
        assoc = ctx.services.outgoing.associate(
            ctx.called_ae, node, [build_context(StorageCommitmentPushModel)],
            ext_neg=[build_role(StorageCommitmentPushModel, scp_role=True)],
        )
    except DestinationRefused as exc:
        ctx.record("failure", f"storage commitment report not sent: {exc}")
        return
    if not assoc.is_established:
        ctx.record("dimse.n-event-report", f"storage commitment report to {node.ae_title} "
                   "failed: no association", status=None, transaction_uid=transaction)
        return
    try:
        rsp, _ = assoc.send_n_event_report(ds, event_type, StorageCommitmentPushModel,
                                           WELL_KNOWN_INSTANCE)
        status_code = getattr(rsp, "Status", None)
    finally:
        assoc.release()
    ctx.record("dimse.n-event-report",
               f"storage commitment report {transaction} to {node.ae_title}: "
               f"{len(committed)} committed, {len(failed)} failed",
               status=status_code, event_type=event_type, transaction_uid=transaction,
               committed=[u for _, u in committed], failed=[u for _, u, _ in failed])


def _item(sop_class: str, uid: str, reason: int | None = None) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = sop_class
    item.ReferencedSOPInstanceUID = uid
    if reason is not None:
        item.FailureReason = reason
    return item
