"""No partition can see, query, retrieve or alter another's data, through any service."""

from __future__ import annotations

import pytest

from sandbox.archive import status as st
from tests.sandbox.conftest import associate, find, small_study
from tests.sandbox.test_retrieve import _get, _identifier, move


@pytest.fixture
def a_study(sandbox, code):
    [uid] = sandbox.generate(code, seed=31, images_per_series=2, rows=32, columns=32)
    return uid


def test_node_registries_are_separate(sandbox, code, other_code):
    sandbox.add_node(code, "ONLYA", "127.0.0.1", 104)
    assert associate(sandbox, f"{code}_PACS", calling="ONLYA").is_established
    assert associate(sandbox, f"{other_code}_PACS", calling="ONLYA").is_rejected
    assert [n.ae_title for n in sandbox.list_nodes(other_code)] == ["TESTSCU"]


def test_a_partition_cannot_find_anothers_studies(sandbox, code, other_code, a_study):
    assert len(find(sandbox, code, {"QueryRetrieveLevel": "STUDY",
                                    "StudyInstanceUID": a_study})[1]) == 1
    for level, keys in (("STUDY", {"StudyInstanceUID": a_study}), ("STUDY", {}),
                        ("SERIES", {"SeriesInstanceUID": ""}), ("IMAGE", {"SOPInstanceUID": ""})):
        status, matches = find(sandbox, other_code, {"QueryRetrieveLevel": level, **keys})
        assert status == st.SUCCESS and matches == []


def test_a_partition_cannot_move_or_get_anothers_study(sandbox, code, other_code, a_study):
    final = move(sandbox, other_code, f"{other_code}_WS", _identifier(StudyInstanceUID=a_study))
    assert final.Status == st.SUCCESS and getattr(final, "NumberOfCompletedSuboperations", 0) == 0
    assert sandbox.studies(other_code, store="workstation") == []
    received = []
    final = _get(sandbox, other_code, _identifier(StudyInstanceUID=a_study), received)
    assert received == [] and getattr(final, "NumberOfCompletedSuboperations", 0) == 0


def test_a_partition_cannot_move_to_anothers_workstation(sandbox, code, other_code, a_study):
    final = move(sandbox, code, f"{other_code}_WS", _identifier(StudyInstanceUID=a_study))
    assert final.Status == st.MOVE_DESTINATION_UNKNOWN
    assert sandbox.studies(other_code, store="workstation") == []


def test_the_same_sop_instance_in_two_partitions_stays_two_instances(sandbox, code, other_code):
    study = small_study(32)
    for c in (code, other_code):
        sandbox.devices(c).store(f"{c}_PACS", datasets=study)
    assert len(sandbox.instances(code)) == len(sandbox.instances(other_code)) == 3
    sandbox.delete_study(other_code, study[0].StudyInstanceUID)
    assert len(sandbox.instances(code)) == 3
    for inst in sandbox.instances(code):
        assert sandbox.instance_path(code, inst.sop_instance_uid).exists()


def test_commitment_does_not_commit_anothers_instances(sandbox, code, other_code, a_study,
                                                       storage_peer):
    from tests.sandbox.test_commitment import _request, _wait

    sandbox.add_node(other_code, "PEER", "127.0.0.1", storage_peer.port)
    refs = [(i.sop_class_uid, i.sop_instance_uid) for i in sandbox.instances(code)]
    assert _request(sandbox, other_code, refs) == st.SUCCESS
    assert _wait(lambda: storage_peer.reports)
    event_type, info = storage_peer.reports[0]
    assert event_type == 2 and len(info.FailedSOPSequence) == len(refs)


def test_admin_operations_and_journals_are_per_partition(sandbox, code, other_code, a_study):
    with pytest.raises(LookupError):
        sandbox.delete_study(other_code, a_study)
    patient = sandbox.studies(code)[0].patient_id
    with pytest.raises(LookupError):
        sandbox.edit_patient(other_code, patient, patient_name="X^Y")
    assert sandbox.studies(code)[0].study_uid == a_study
    assert all(e.partition_code == other_code for e in sandbox.journal(other_code))
    assert not any(a_study in str(e.details) for e in sandbox.journal(other_code))


def test_resetting_one_partition_leaves_the_other_alone(sandbox, code, other_code, a_study):
    sandbox.generate(other_code, seed=33, images_per_series=1, rows=32, columns=32)
    sandbox.reset_partition(other_code)
    assert sandbox.studies(other_code) == [] and sandbox.list_nodes(other_code) == []
    assert len(sandbox.studies(code)) == 1
    assert sandbox.instance_path(code, sandbox.instances(code)[0].sop_instance_uid).exists()
