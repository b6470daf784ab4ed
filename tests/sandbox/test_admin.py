"""Study-level administration, routing with its retry queue, storage usage and retention."""

from __future__ import annotations

import time

import pydicom
import pytest

from sandbox.archive import status as st
from tests.sandbox.conftest import find

PATIENT_A = {"PatientID": "PA", "PatientName": "ALPHA^ANN", "PatientBirthDate": "19800101",
             "PatientSex": "F"}
PATIENT_B = {"PatientID": "PB", "PatientName": "BETA^BOB", "PatientBirthDate": "19700202",
             "PatientSex": "M"}


def _gen(sb, code, seed, patient, **kw):
    kw.setdefault("images_per_series", 2)
    [uid] = sb.generate(code, seed=seed, patient=patient, rows=32, columns=32, **kw)
    return uid


def test_editing_demographics_changes_index_files_and_journal(sandbox, code):
    uid = _gen(sandbox, code, 41, PATIENT_A)
    result = sandbox.edit_patient(code, "PA", patient_name="ALPHA^ANNE", sex="O")
    assert result["before"] == {"patient_name": "ALPHA^ANN", "sex": "F"}
    _, [m] = find(sandbox, code, {"QueryRetrieveLevel": "STUDY", "StudyInstanceUID": uid,
                                  "PatientName": "", "PatientSex": ""})
    assert m.PatientName == "ALPHA^ANNE" and m.PatientSex == "O"
    for inst in sandbox.instances(code):
        ds = pydicom.dcmread(sandbox.instance_path(code, inst.sop_instance_uid))
        assert ds.PatientName == "ALPHA^ANNE"
    event = sandbox.journal(code, kind="admin.edit-patient")[-1]
    assert event.details["before"]["patient_name"] == "ALPHA^ANN"
    assert event.details["after"]["patient_name"] == "ALPHA^ANNE"


def test_merging_two_patients_moves_the_studies(sandbox, code):
    _gen(sandbox, code, 42, PATIENT_A)
    b_study = _gen(sandbox, code, 43, PATIENT_B)
    sandbox.merge_patients(code, "PB", "PA")
    assert {s.patient_id for s in sandbox.studies(code)} == {"PA"}
    ds = pydicom.dcmread(sandbox.instance_path(
        code, sandbox.instances(code, study_uid=b_study)[0].sop_instance_uid))
    assert ds.PatientID == "PA" and ds.PatientName == "ALPHA^ANN"
    _, patients = find(sandbox, code, {"QueryRetrieveLevel": "STUDY", "PatientID": "PB"})
    assert patients == []
    assert sandbox.journal(code, kind="admin.merge-patients")[-1].details["before"]["patient_id"] == "PB"


def test_moving_a_series_to_another_study(sandbox, code):
    a = _gen(sandbox, code, 44, PATIENT_A, series_count=2)
    b = _gen(sandbox, code, 45, PATIENT_B)
    series = sandbox.instances(code, study_uid=a)[0].series_uid
    sandbox.move_series(code, series, b)
    moved = sandbox.instances(code, series_uid=series)
    assert {i.study_uid for i in moved} == {b} and {i.patient_id for i in moved} == {"PB"}
    ds = pydicom.dcmread(sandbox.instance_path(code, moved[0].sop_instance_uid))
    assert ds.StudyInstanceUID == b and ds.PatientID == "PB"
    counts = {s.study_uid: s.series_count for s in sandbox.studies(code)}
    assert counts == {a: 1, b: 2}


def test_deleting_a_study_removes_rows_files_and_is_journaled(sandbox, code):
    uid = _gen(sandbox, code, 46, PATIENT_A)
    paths = [sandbox.instance_path(code, i.sop_instance_uid) for i in sandbox.instances(code)]
    sandbox.delete_study(code, uid)
    assert sandbox.studies(code) == [] and not any(p.exists() for p in paths)
    assert sandbox.journal(code, kind="admin.delete-study")[-1].details["before"]["instances"] == 2
    with pytest.raises(LookupError):
        sandbox.delete_study(code, uid)


def test_storage_usage_counts_bytes_per_store(sandbox, code):
    _gen(sandbox, code, 47, PATIENT_A)
    usage = sandbox.storage_usage(code)
    assert usage.instances == 2 and usage.studies == 1
    assert usage.bytes == sum(i.size for i in sandbox.instances(code)) > 0
    assert set(usage.by_store) == {"archive"}


def test_retention_flags_or_deletes_old_studies(sandbox, code):
    old = _gen(sandbox, code, 48, PATIENT_A, study_date="20000101")
    new = _gen(sandbox, code, 49, PATIENT_B, study_date=time.strftime("%Y%m%d"))
    assert sandbox.apply_retention(code, older_than_days=365, action="flag") == [old]
    flags = {s.study_uid: s.retention_flagged for s in sandbox.studies(code)}
    assert flags == {old: True, new: False}
    assert sandbox.apply_retention(code, older_than_days=365, action="delete") == [old]
    assert [s.study_uid for s in sandbox.studies(code)] == [new]
    with pytest.raises(ValueError):
        sandbox.apply_retention(code, older_than_days=1, action="shred")


def test_routing_forwards_matching_receptions_to_a_node(sandbox, code, storage_peer):
    sandbox.add_node(code, "PEER", "127.0.0.1", storage_peer.port)
    sandbox.add_routing_rule(code, "PEER", modality="CT")
    sandbox.add_routing_rule(code, "PEER", modality="MR", calling_ae="NOBODY")
    result = sandbox.devices(code).store(f"{code}_PACS", seed=50, rows=32, columns=32,
                                         images_per_series=2)
    assert result.completed == 2
    assert len(sandbox.forward_queue(code)) == 2  # the MR rule did not match
    sandbox.run_forward_queue(code)  # (the running worker may have taken some already)
    deadline = time.time() + 5
    while time.time() < deadline and any(j.state != "done" for j in sandbox.forward_queue(code)):
        time.sleep(0.05)
    assert [j.state for j in sandbox.forward_queue(code)] == ["done", "done"]
    assert len(storage_peer.received) == 2
    assert len(sandbox.journal(code, kind="forward.sent")) == 2


def test_a_failing_forward_waits_in_the_queue_with_its_reason_then_retries(sandbox, code,
                                                                           storage_peer):
    from tests.sandbox.conftest import free_port

    sandbox.add_node(code, "PEER", "127.0.0.1", free_port())  # nobody listens there
    sandbox.add_routing_rule(code, "PEER", study_description="*")
    sandbox.devices(code).store(f"{code}_PACS", seed=51, rows=32, columns=32, images_per_series=1)
    deadline = time.time() + 5
    while time.time() < deadline and sandbox.forward_queue(code)[0].attempts == 0:
        sandbox.run_forward_queue(code)
    job = sandbox.forward_queue(code)[0]
    assert job.state == "pending" and job.attempts >= 1 and "association" in job.last_error
    sandbox.add_node(code, "PEER", "127.0.0.1", storage_peer.port)  # fix the node
    assert sandbox.retry_forward_jobs(code) == 1
    deadline = time.time() + 5
    while time.time() < deadline and sandbox.forward_queue(code)[0].state != "done":
        sandbox.run_forward_queue(code)
        time.sleep(0.05)
    assert sandbox.forward_queue(code)[0].state == "done" and len(storage_peer.received) == 1


def test_the_started_sandbox_works_the_queue_by_itself(sandbox, code, storage_peer):
    sandbox.add_node(code, "PEER", "127.0.0.1", storage_peer.port)
    sandbox.add_routing_rule(code, "PEER")
    sandbox.devices(code).store(f"{code}_PACS", seed=52, rows=32, columns=32, images_per_series=1)
    deadline = time.time() + 5
    while time.time() < deadline and sandbox.forward_queue(code)[0].state != "done":
        time.sleep(0.1)
    assert sandbox.forward_queue(code)[0].state == "done"


def test_forwarding_gives_up_after_the_maximum_attempts(tmp_path):
    from tests.sandbox.conftest import free_port, make_sandbox

    with make_sandbox(tmp_path, start=False, forward_max_attempts=2,
                      forward_retry_seconds=0) as sb:
        sb.create_partition("FWD")
        sb.add_node("FWD", "GONE", "127.0.0.1", free_port())
        sb.add_routing_rule("FWD", "GONE")
        from sandbox.archive.ingest import Target
        from sandbox.imports import store_dataset
        from tests.sandbox.conftest import small_study
        state = __import__("sandbox.partitions", fromlist=["x"]).load_state(sb.db, "FWD")
        target = Target(state.id, "FWD", "archive", True, calling_ae="X", route=True)
        assert store_dataset(sb, target, small_study(53)[0]) == st.SUCCESS
        sb.run_forward_queue("FWD")
        sb.run_forward_queue("FWD")
        [job] = sb.forward_queue("FWD")
        assert job.state == "failed" and job.attempts == 2
