"""Every fault a lab can switch on: it changes behaviour, it is journaled, and it clears."""

from __future__ import annotations

import time

import pytest
from pydicom import uid
from pynetdicom import build_context
from pynetdicom.sop_class import CTImageStorage

from sandbox.archive import status as st
from tests.sandbox.conftest import associate, wait_for


def _fired(sb, code, kind):
    return [e for e in sb.journal(code, kind="fault.fired") if e.details.get("fault") == kind]


def test_reject_calling_ae_fault_rejects_a_registered_node(sandbox, code):
    sandbox.set_fault(code, "reject_calling_ae", ae_title="TESTSCU")
    assoc = associate(sandbox, f"{code}_PACS")
    assert assoc.is_rejected and assoc.acceptor.primitive.diagnostic == 3
    assert _fired(sandbox, code, "reject_calling_ae")
    sandbox.clear_fault(code, "reject_calling_ae")
    assert associate(sandbox, f"{code}_PACS").is_established


def test_transfer_syntaxes_fault_accepts_only_the_listed_ones(sandbox, code):
    sandbox.set_fault(code, "transfer_syntaxes", accept=[uid.ImplicitVRLittleEndian])
    assoc = associate(sandbox, f"{code}_PACS",
                      [build_context(CTImageStorage, [uid.ExplicitVRLittleEndian])])
    assert not assoc.is_established or not assoc.accepted_contexts
    if assoc.is_established:
        assert assoc.rejected_contexts[0].result == 4  # transfer syntaxes not supported
        assoc.release()
    assert _fired(sandbox, code, "transfer_syntaxes")
    ok = associate(sandbox, f"{code}_PACS",
                   [build_context(CTImageStorage, [uid.ImplicitVRLittleEndian])])
    assert ok.is_established and ok.accepted_contexts
    ok.release()


def test_delay_responses_fault_delays_each_response(sandbox, code):
    sandbox.set_fault(code, "delay_responses", seconds=0.4)
    assoc = associate(sandbox, f"{code}_PACS")
    started = time.perf_counter()
    assert assoc.send_c_echo().Status == st.SUCCESS
    assert time.perf_counter() - started >= 0.4
    assoc.release()
    assert _fired(sandbox, code, "delay_responses")


def test_drop_after_fault_aborts_the_association_after_n_operations(sandbox, code):
    sandbox.set_fault(code, "drop_after", operations=2)
    assoc = associate(sandbox, f"{code}_PACS")
    assert assoc.send_c_echo().Status == st.SUCCESS
    assert assoc.send_c_echo().Status == st.SUCCESS
    rsp = assoc.send_c_echo()
    assert getattr(rsp, "Status", None) is None  # no response: the peer aborted
    assert wait_for(lambda: assoc.is_aborted or not assoc.is_established)
    assert _fired(sandbox, code, "drop_after")
    assert wait_for(lambda: sandbox.journal(code, kind="association.aborted"))


def test_refuse_move_destination_fault_answers_a801(sandbox, code):
    from tests.sandbox.test_retrieve import _identifier, move

    [study] = sandbox.generate(code, seed=11, images_per_series=1, rows=32, columns=32)
    sandbox.set_fault(code, "refuse_move_destination", ae_title=f"{code}_WS")
    final = move(sandbox, code, f"{code}_WS", _identifier(StudyInstanceUID=study))
    assert final.Status == st.MOVE_DESTINATION_UNKNOWN
    assert _fired(sandbox, code, "refuse_move_destination")
    sandbox.clear_fault(code)
    assert move(sandbox, code, f"{code}_WS", _identifier(StudyInstanceUID=study)).Status == 0


def test_misset_node_fault_sends_to_the_wrong_port(sandbox, code, storage_peer):
    from tests.sandbox.conftest import free_port
    from tests.sandbox.test_retrieve import _identifier, move

    sandbox.add_node(code, "PEER", "127.0.0.1", storage_peer.port)
    [study] = sandbox.generate(code, seed=12, images_per_series=1, rows=32, columns=32)
    sandbox.set_fault(code, "misset_node", ae_title="PEER", port=free_port())
    final = move(sandbox, code, "PEER", _identifier(StudyInstanceUID=study))
    assert final.Status == st.MOVE_DESTINATION_UNKNOWN  # pynetdicom: association failed
    assert storage_peer.received == []
    assert _fired(sandbox, code, "misset_node")
    assert not sandbox.devices(code).echo("PEER").ok
    sandbox.clear_fault(code, "misset_node")
    assert sandbox.devices(code).echo("PEER").ok
    assert move(sandbox, code, "PEER", _identifier(StudyInstanceUID=study)).Status == 0


def test_store_out_of_resources_is_covered_in_test_storage():
    from tests.sandbox import test_storage

    assert hasattr(test_storage, "test_out_of_resources_fault_answers_a700_and_stores_nothing")


@pytest.mark.parametrize("kind, params, message", [
    ("melt_down", {}, "unknown fault"),
    ("delay_responses", {}, "missing"),
    ("delay_responses", {"seconds": 99}, "between 0 and 30"),
    ("drop_after", {"operations": 0}, "at least 1"),
    ("transfer_syntaxes", {"accept": ["not-a-uid"]}, "valid transfer syntax"),
    ("reject_calling_ae", {"ae_title": "WAY_TOO_LONG_AE_TITLE"}, "AE title"),
    ("misset_node", {"ae_title": "X", "port": 70000}, "port"),
])
def test_bad_fault_parameters_are_refused_clearly(sandbox, code, kind, params, message):
    with pytest.raises(ValueError, match=message):
        sandbox.set_fault(code, kind, **params)
    assert sandbox.list_faults(code) == []


def test_faults_are_listed_and_cleared(sandbox, code):
    sandbox.set_fault(code, "store_out_of_resources")
    sandbox.set_fault(code, "delay_responses", seconds=1)
    assert [f.kind for f in sandbox.list_faults(code)] == ["delay_responses",
                                                            "store_out_of_resources"]
    assert sandbox.clear_fault(code) == 2 and sandbox.list_faults(code) == []
