"""C-MOVE and C-GET: destinations through the node registry, network policy, statuses."""

from __future__ import annotations

import pytest

from pydicom.dataset import Dataset
from pynetdicom import build_context, build_role, evt
from pynetdicom.sop_class import (
    CTImageStorage,
    PatientRootQueryRetrieveInformationModelMove as PATIENT_MOVE,
    StudyRootQueryRetrieveInformationModelGet as STUDY_GET,
    StudyRootQueryRetrieveInformationModelMove as STUDY_MOVE,
)

from sandbox.archive import status as st
from tests.sandbox.conftest import associate, make_sandbox

# Invalid UIDs in identifiers are the point of some tests; pydicom warns about them.
pytestmark = pytest.mark.filterwarnings("ignore:Invalid value for VR")


def _identifier(level="STUDY", **keys) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for k, v in keys.items():
        setattr(ds, k, v)
    return ds


def move(sb, code, destination, identifier, model=STUDY_MOVE):
    assoc = associate(sb, f"{code}_PACS", [build_context(model)])
    assert assoc.is_established
    try:
        responses = [rsp for rsp, _ in assoc.send_c_move(identifier, destination, model)]
    finally:
        assoc.release()
    return responses[-1]


def test_a_move_to_the_partitions_workstation_delivers_the_study(sandbox, code):
    [uid] = sandbox.generate(code, seed=1, images_per_series=3, rows=32, columns=32)
    final = move(sandbox, code, f"{code}_WS", _identifier(StudyInstanceUID=uid))
    assert final.Status == st.SUCCESS and final.NumberOfCompletedSuboperations == 3
    [ws] = sandbox.studies(code, store="workstation")
    assert ws.study_uid == uid and ws.instance_count == 3
    event = sandbox.journal(code, kind="dimse.c-move")[-1]
    assert event.status == st.SUCCESS and event.details["completed"] == 3
    # the workstation saw the archive's own AE title as caller
    stores = [e for e in sandbox.journal(code, kind="association.accepted")
              if e.details["called_ae"] == f"{code}_WS"]
    assert stores[-1].details["calling_ae"] == f"{code}_PACS"


def test_a_move_to_a_registered_external_node(sandbox, code, storage_peer):
    sandbox.add_node(code, "PEER", "127.0.0.1", storage_peer.port)
    [uid] = sandbox.generate(code, seed=2, images_per_series=2, rows=32, columns=32)
    final = move(sandbox, code, "PEER", _identifier(StudyInstanceUID=uid))
    assert final.Status == st.SUCCESS and len(storage_peer.received) == 2


def test_series_and_image_level_moves_and_patient_root(sandbox, code, storage_peer):
    sandbox.add_node(code, "PEER", "127.0.0.1", storage_peer.port)
    [uid] = sandbox.generate(code, seed=3, images_per_series=3, rows=32, columns=32)
    inst = sandbox.instances(code, study_uid=uid)
    final = move(sandbox, code, "PEER", _identifier("IMAGE", StudyInstanceUID=uid,
                                                     SeriesInstanceUID=inst[0].series_uid,
                                                     SOPInstanceUID=inst[0].sop_instance_uid))
    assert final.Status == st.SUCCESS and final.NumberOfCompletedSuboperations == 1
    final = move(sandbox, code, "PEER", _identifier("PATIENT", PatientID=inst[0].patient_id),
                 model=PATIENT_MOVE)
    assert final.Status == st.SUCCESS and final.NumberOfCompletedSuboperations == 3


def test_a_move_to_an_unknown_destination_is_refused_with_a801(sandbox, code):
    [uid] = sandbox.generate(code, seed=4, images_per_series=1, rows=32, columns=32)
    final = move(sandbox, code, "NOBODY", _identifier(StudyInstanceUID=uid))
    assert final.Status == st.MOVE_DESTINATION_UNKNOWN
    assert "not a registered node" in sandbox.journal(code, kind="dimse.c-move")[-1].summary


def test_a_node_outside_loopback_is_refused_unless_its_network_is_allowed(tmp_path):
    with make_sandbox(tmp_path) as sb:
        sb.create_partition("NET1", accept_any_calling_ae=True)
        sb.add_node("NET1", "FAR", "192.0.2.10", 104)  # TEST-NET-1, never loopback
        [uid] = sb.generate("NET1", seed=5, images_per_series=1, rows=32, columns=32)
        final = move(sb, "NET1", "FAR", _identifier(StudyInstanceUID=uid))
        assert final.Status == st.MOVE_DESTINATION_UNKNOWN
        assert "not loopback" in sb.journal("NET1", kind="dimse.c-move")[-1].summary
        result = sb.devices("NET1").echo("FAR")
        assert not result.ok and "not loopback" in result.message
    from sandbox.netpolicy import DestinationRefused, check_destination
    assert check_destination("192.0.2.10", ("192.0.2.0/24",)) == "192.0.2.10"
    assert check_destination("localhost", ()) in ("127.0.0.1", "::1")
    try:
        check_destination("192.0.2.10", ("10.0.0.0/8",))
    except DestinationRefused:
        pass
    else:
        raise AssertionError("192.0.2.10 must be refused")


def test_an_invalid_move_identifier_is_refused(sandbox, code):
    final = move(sandbox, code, f"{code}_WS", _identifier("STUDY", PatientID="X"))
    assert final.Status == st.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS  # no Study Instance UID
    final = move(sandbox, code, f"{code}_WS", _identifier("STUDY", StudyInstanceUID="1.x"))
    assert final.Status == st.UNABLE_TO_PROCESS


def test_a_move_that_matches_nothing_succeeds_with_zero_sub_operations(sandbox, code):
    final = move(sandbox, code, f"{code}_WS", _identifier(StudyInstanceUID="1.2.3.999"))
    assert final.Status == st.SUCCESS
    assert sandbox.studies(code, store="workstation") == []


def _get(sb, code, identifier, received):
    def on_store(event):
        received.append(event.dataset.SOPInstanceUID)
        return st.SUCCESS

    assoc = associate(sb, f"{code}_PACS", [build_context(STUDY_GET), build_context(CTImageStorage)],
                      ext_neg=[build_role(CTImageStorage, scp_role=True)],
                      evt_handlers=[(evt.EVT_C_STORE, on_store)])
    assert assoc.is_established
    try:
        return [rsp for rsp, _ in assoc.send_c_get(identifier, STUDY_GET)][-1]
    finally:
        assoc.release()


def test_a_get_returns_the_instances_on_the_same_association(sandbox, code):
    [uid] = sandbox.generate(code, seed=6, images_per_series=2, rows=32, columns=32)
    received = []
    final = _get(sandbox, code, _identifier(StudyInstanceUID=uid), received)
    assert final.Status == st.SUCCESS and final.NumberOfCompletedSuboperations == 2
    assert sorted(received) == sorted(i.sop_instance_uid for i in sandbox.instances(code))
    assert sandbox.journal(code, kind="dimse.c-get")[-1].details["completed"] == 2


def test_an_invalid_get_identifier_is_refused(sandbox, code):
    final = _get(sandbox, code, _identifier("WARD"), [])
    assert final.Status == st.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS


def test_a_move_can_be_cancelled(sandbox, code):
    """C-CANCEL during sub-operations (slowed by the delay fault, which the WS shares)."""
    [uid] = sandbox.generate(code, seed=7, images_per_series=6, rows=32, columns=32)
    sandbox.set_fault(code, "delay_responses", seconds=0.15)
    assoc = associate(sandbox, f"{code}_PACS", [build_context(STUDY_MOVE)])
    responses = []
    try:
        for rsp, _ in assoc.send_c_move(_identifier(StudyInstanceUID=uid), f"{code}_WS",
                                        STUDY_MOVE, msg_id=9):
            responses.append(rsp.Status)
            if len(responses) == 1:
                assoc.send_c_cancel(9, query_model=STUDY_MOVE)
    finally:
        assoc.release()
        sandbox.clear_fault(code)
    assert responses[-1] == st.CANCEL
    assert len(sandbox.instances(code, store="workstation")) < 6
