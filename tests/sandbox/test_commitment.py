"""Storage Commitment Push Model: N-ACTION, then N-EVENT-REPORT to the requesting node."""

from __future__ import annotations

import time

from pydicom.dataset import Dataset
from pynetdicom import build_context
from pynetdicom.sop_class import StorageCommitmentPushModel

from sandbox.archive import status as st
from sandbox.archive.commitment import WELL_KNOWN_INSTANCE
from tests.sandbox.conftest import associate


def _request(sb, code, refs, calling="PEER"):
    ds = Dataset()
    ds.TransactionUID = "1.2.3.4.5.6.7"
    ds.ReferencedSOPSequence = []
    for sop_class, sop_uid in refs:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = sop_uid
        ds.ReferencedSOPSequence.append(item)
    assoc = associate(sb, f"{code}_PACS", [build_context(StorageCommitmentPushModel)],
                      calling=calling)
    assert assoc.is_established
    try:
        status, _ = assoc.send_n_action(ds, 1, StorageCommitmentPushModel, WELL_KNOWN_INSTANCE)
    finally:
        assoc.release()
    return status.Status


def _wait(predicate, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline and not predicate():
        time.sleep(0.05)
    return predicate()


def test_commitment_reports_committed_and_failed_instances(sandbox, code, storage_peer):
    sandbox.add_node(code, "PEER", "127.0.0.1", storage_peer.port)
    [uid] = sandbox.generate(code, seed=21, images_per_series=2, rows=32, columns=32)
    stored = [(i.sop_class_uid, i.sop_instance_uid) for i in sandbox.instances(code)]
    missing = (stored[0][0], "1.2.3.999")
    assert _request(sandbox, code, [*stored, missing]) == st.SUCCESS
    assert _wait(lambda: storage_peer.reports)
    event_type, info = storage_peer.reports[0]
    assert event_type == 2  # some failed (PS3.4 J.3.3.1)
    assert sorted(i.ReferencedSOPInstanceUID for i in info.ReferencedSOPSequence) == sorted(
        u for _, u in stored)
    assert [i.ReferencedSOPInstanceUID for i in info.FailedSOPSequence] == ["1.2.3.999"]
    assert info.FailedSOPSequence[0].FailureReason == 0x0112
    assert _wait(lambda: sandbox.journal(code, kind="dimse.n-event-report"))


def test_all_committed_gives_event_type_1(sandbox, code, storage_peer):
    sandbox.add_node(code, "PEER", "127.0.0.1", storage_peer.port)
    sandbox.generate(code, seed=22, images_per_series=1, rows=32, columns=32)
    refs = [(i.sop_class_uid, i.sop_instance_uid) for i in sandbox.instances(code)]
    assert _request(sandbox, code, refs) == st.SUCCESS
    assert _wait(lambda: storage_peer.reports)
    assert storage_peer.reports[0][0] == 1


def test_a_class_instance_conflict_fails_that_instance(sandbox, code, storage_peer):
    sandbox.add_node(code, "PEER", "127.0.0.1", storage_peer.port)
    sandbox.generate(code, seed=23, images_per_series=1, rows=32, columns=32)
    [inst] = sandbox.instances(code)
    assert _request(sandbox, code, [("1.2.840.10008.5.1.4.1.1.4", inst.sop_instance_uid)]) == 0
    assert _wait(lambda: storage_peer.reports)
    assert storage_peer.reports[0][1].FailedSOPSequence[0].FailureReason == 0x0119


def test_a_report_to_an_unregistered_caller_is_not_sent_and_is_journaled(sandbox, code):
    sandbox.update_partition(code, accept_any_calling_ae=True)
    assert _request(sandbox, code, [], calling="ANON") == st.SUCCESS
    assert _wait(lambda: any("not a registered node" in e.summary
                             for e in sandbox.journal(code, kind="failure")))


def test_an_unknown_action_or_a_request_without_transaction_uid_is_refused(sandbox, code):
    assoc = associate(sandbox, f"{code}_PACS", [build_context(StorageCommitmentPushModel)])
    try:
        ds = Dataset()
        ds.TransactionUID = "1.2.3"
        ds.ReferencedSOPSequence = []
        status, _ = assoc.send_n_action(ds, 2, StorageCommitmentPushModel, WELL_KNOWN_INSTANCE)
        assert status.Status == st.NO_SUCH_ACTION
        empty = Dataset()
        empty.ReferencedSOPSequence = []
        status, _ = assoc.send_n_action(empty, 1, StorageCommitmentPushModel, WELL_KNOWN_INSTANCE)
        assert status.Status == st.MISSING_ATTRIBUTE
    finally:
        assoc.release()
    statuses = [e.status for e in sandbox.journal(code, kind="dimse.n-action")]
    assert statuses == [st.NO_SUCH_ACTION, st.MISSING_ATTRIBUTE]
