"""Every check type passes when the trainee did the thing, and fails (with a useful message) when not."""
from __future__ import annotations

import secrets

import pytest

from academy.labs import registry
from academy.labs.checks import archive, knowledge, network  # noqa: F401
from academy.labs.context import CheckContext


@pytest.fixture
def part(box):
    code = "C" + secrets.token_hex(3).upper()[:7]
    box.create_partition(code)
    for device in ("WS", "CT"):
        box.add_node(code, f"{code}_{device}", "127.0.0.1", box.dicom_port, device)
    box.apply_scenario(code, {"patients": [{"key": "a", "patient_id": "PAT-A", "name": "ALPHA^ANN"},
                                           {"key": "b", "patient_id": "PAT-B", "name": "ALPHA^ANNE"}],
                              "studies": [{"patient": "a", "modality": "CT", "seed": 1, "images": 2,
                                           "description": "CT HEAD", "accession": "ACC1"},
                                          {"patient": "b", "modality": "MR", "seed": 2, "images": 1,
                                           "description": "MR KNEE", "accession": "ACC2"}]})
    yield code
    box.delete_partition(code)


def outcome(box, code, name, params, answers=None, check_id="q"):
    ctx = CheckContext(box, code, 0, answers or {}, check_id)
    check = registry.get(name)
    return check.run(ctx, check.params.model_validate(params))


def test_every_check_type_here_is_covered_by_this_file():
    covered = {"association_accepted", "association_rejected", "echo_performed", "find_performed", "move_completed",
               "get_completed", "commitment_confirmed", "study_stored", "study_at_workstation", "node_registered",
               "attribute_equals", "admin_action_done", "patients_merged", "series_moved", "fault_cleared",
               "answer_exact", "answer_one_of", "answer_numeric", "answer_pattern", "retention_applied",
               "routing_rule_present", "study_absent", "study_kept",
               # tests/labs/test_ris_checks.py
               "hl7_received", "patient_registered", "order_in_state", "worklist_queried", "mpps_completed",
               "unmatched_reconciled", "report_attached"}
    assert set(registry.REGISTRY) == covered


def test_association_and_echo(box, part):
    ws = f"{part}_WS"
    assert not outcome(box, part, "echo_performed", {"calling_ae": ws}).passed
    assert not outcome(box, part, "association_accepted", {"calling_ae": ws}).passed
    assert box.devices(part).echo(f"{part}_PACS").ok
    result = outcome(box, part, "echo_performed", {"calling_ae": ws, "called_ae": f"{part}_PACS"})
    assert result.passed and result.event_id
    assert outcome(box, part, "association_accepted", {"calling_ae": ws}).passed


def test_association_rejected_for_an_unregistered_calling_ae(box, part):
    assert not outcome(box, part, "association_rejected", {"reason": "calling-ae"}).passed
    box.set_fault(part, "reject_calling_ae", ae_title=f"{part}_CT")  # the scanner's AE is refused
    assert not box.devices(part).echo(f"{part}_PACS", device="CT").ok
    assert outcome(box, part, "association_rejected", {"calling_ae": f"{part}_CT", "reason": "calling-ae"}).passed
    assert not outcome(box, part, "association_rejected", {"calling_ae": f"{part}_CT", "reason": "called-ae"}).passed
    failed = outcome(box, part, "echo_performed", {"calling_ae": f"{part}_CT"})
    assert not failed.passed and "rejected" in failed.message


def test_find_needs_the_key_and_a_match(box, part):
    devices = box.devices(part)
    devices.find(f"{part}_PACS", level="STUDY", PatientID="NOBODY", StudyInstanceUID="")
    miss = outcome(box, part, "find_performed", {"level": "STUDY", "keys": ["PatientID"]})
    assert not miss.passed and "found nothing" in miss.message
    devices.find(f"{part}_PACS", level="STUDY", PatientName="ALPHA*", StudyInstanceUID="")
    wrong_key = outcome(box, part, "find_performed", {"level": "STUDY", "keys": ["PatientID"]})
    assert not wrong_key.passed
    devices.find(f"{part}_PACS", level="STUDY", PatientID="PAT-A", StudyInstanceUID="")
    assert outcome(box, part, "find_performed", {"level": "STUDY", "keys": ["PatientID"]}).passed
    assert not outcome(box, part, "find_performed", {"level": "SERIES"}).passed


def test_move_get_and_the_workstation(box, part):
    study = box.studies(part, patient_id="PAT-A")[0]
    assert not outcome(box, part, "move_completed", {"destination": f"{part}_WS"}).passed
    assert not outcome(box, part, "study_at_workstation", {"patient_id": "PAT-A"}).passed
    refused = box.devices(part).move(f"{part}_PACS", "NOWHERE", StudyInstanceUID=study.study_uid)
    assert not refused.ok
    failed = outcome(box, part, "move_completed", {"destination": "NOWHERE"})
    assert not failed.passed and failed.event_id
    assert box.devices(part).move(f"{part}_PACS", f"{part}_WS", StudyInstanceUID=study.study_uid).ok
    assert outcome(box, part, "move_completed", {"destination": f"{part}_WS"}).passed
    assert outcome(box, part, "study_at_workstation", {"patient_id": "PAT-A", "min_instances": 2}).passed
    assert not outcome(box, part, "get_completed", {}).passed
    mr = box.studies(part, patient_id="PAT-B")[0]
    assert box.devices(part).get(f"{part}_PACS", StudyInstanceUID=mr.study_uid).ok
    assert outcome(box, part, "get_completed", {}).passed


def test_study_stored_with_attributes(box, part):
    assert outcome(box, part, "study_stored", {"accession_number": "ACC1", "modality": "CT", "min_instances": 2}).passed
    too_few = outcome(box, part, "study_stored", {"accession_number": "ACC1", "min_instances": 5})
    assert not too_few.passed and "only 2 of 5" in too_few.message
    assert not outcome(box, part, "study_stored", {"accession_number": "NOPE"}).passed


def test_commitment(box, part):
    import time

    assert "No storage commitment request" in outcome(box, part, "commitment_confirmed", {}).message
    box.add_node(part, f"{part}_CT", "127.0.0.1", 1)  # the CT's commitment listener, wrongly registered
    assert box.devices(part).commit(f"{part}_PACS", device="CT").ok
    time.sleep(1.0)
    waiting = outcome(box, part, "commitment_confirmed", {"calling_ae": f"{part}_CT"})
    assert not waiting.passed and "no report was delivered" in waiting.message
    box.add_node(part, f"{part}_CT", "127.0.0.1", box.dicom_port)
    box.devices(part).commit(f"{part}_PACS", device="CT")
    for _ in range(50):
        if outcome(box, part, "commitment_confirmed", {"calling_ae": f"{part}_CT"}).passed:
            break
        time.sleep(0.1)
    assert outcome(box, part, "commitment_confirmed", {"calling_ae": f"{part}_CT"}).passed
    assert box.journal(part, kind="commitment.report-received")[-1].details["committed"] == 3


def test_node_registered(box, part):
    assert not outcome(box, part, "node_registered", {"ae_title": "VIEWER"}).passed
    box.add_node(part, "VIEWER", "127.0.0.1", 4242)
    wrong = outcome(box, part, "node_registered", {"ae_title": "VIEWER", "host": "127.0.0.1", "port": 104})
    assert not wrong.passed and "port 4242" in wrong.message
    assert outcome(box, part, "node_registered", {"ae_title": "viewer", "host": "127.0.0.1", "port": 4242}).passed


def test_demographics_merge_and_admin_actions(box, part):
    params = {"study_description": "CT HEAD", "attribute": "patient_name", "value": "ALPHA^ANNA"}
    assert not outcome(box, part, "attribute_equals", params).passed
    assert not outcome(box, part, "admin_action_done", {"action": "edit-patient"}).passed
    box.edit_patient(part, "PAT-A", patient_name="ALPHA^ANNA")
    assert outcome(box, part, "attribute_equals", params).passed
    assert outcome(box, part, "admin_action_done", {"action": "edit-patient"}).passed
    merged = {"source_patient_id": "PAT-B", "target_patient_id": "PAT-A"}
    assert not outcome(box, part, "patients_merged", merged).passed
    box.merge_patients(part, "PAT-B", "PAT-A")
    assert outcome(box, part, "patients_merged", merged).passed
    assert not outcome(box, part, "patients_merged", {"source_patient_id": "PAT-A", "target_patient_id": "PAT-B"}).passed


def test_series_moved(box, part):
    params = {"target_study_description": "CT HEAD", "modality": "MR"}
    assert not outcome(box, part, "series_moved", params).passed
    mr = box.studies(part, patient_id="PAT-B")[0]
    ct = box.studies(part, patient_id="PAT-A")[0]
    series = box.instances(part, study_uid=mr.study_uid)[0].series_uid
    box.move_series(part, series, ct.study_uid)
    assert outcome(box, part, "series_moved", params).passed
    assert not outcome(box, part, "series_moved", {"target_study_description": "MR KNEE", "modality": "MR"}).passed


def test_fault_cleared(box, part):
    box.set_fault(part, "store_out_of_resources")
    assert not outcome(box, part, "fault_cleared", {"kind": "store_out_of_resources"}).passed
    box.clear_fault(part, "store_out_of_resources")
    assert outcome(box, part, "fault_cleared", {"kind": "store_out_of_resources"}).passed


@pytest.mark.parametrize("name,params,right,wrong", [
    ("answer_exact", {"question": "q", "value": "CT"}, " ct ", "MR"),
    ("answer_one_of", {"question": "q", "values": ["A801", "0xA801"]}, "0xa801", "A700"),
    ("answer_numeric", {"question": "q", "value": 99.9, "tolerance": 0.05, "unit": "%"}, "99.92%", "99.5"),
    ("answer_numeric", {"question": "q", "value": 262144, "tolerance": 0}, "262,144", "262.144"),
    ("answer_pattern", {"question": "q", "pattern": r"\d+\.\d+\.\d+"}, "1.2.840", "one point two"),
])
def test_knowledge_answers(box, part, name, params, right, wrong):
    assert outcome(box, part, name, params, {"q": right}).passed
    result = outcome(box, part, name, params, {"q": wrong})
    assert not result.passed and "is not right" in result.message
    assert outcome(box, part, name, params, {}).message == "Not answered yet."


def test_registering_a_type_twice_is_an_error():
    with pytest.raises(RuntimeError, match="registered twice"):
        registry.check("echo_performed", registry.Params)(lambda ctx, p: None)


def test_unknown_types_and_bad_parameters_are_reported():
    assert "unknown check type 'teleport'" in registry.parameter_errors("teleport", {})[0]
    assert registry.parameter_errors("node_registered", {"port": 1})[0].startswith("params.ae_title")
    assert registry.parameter_errors("answer_pattern", {"question": "q", "pattern": "("})


def test_a_busy_run_is_judged_on_its_newest_events(box, part, monkeypatch):
    from academy.labs import context

    monkeypatch.setattr(context, "LIMIT", 3)
    devices = box.devices(part)
    for _ in range(4):
        devices.find(f"{part}_PACS", level="STUDY", PatientID="NOBODY", StudyInstanceUID="")
    devices.find(f"{part}_PACS", level="STUDY", PatientID="PAT-A", StudyInstanceUID="")
    assert outcome(box, part, "find_performed", {"level": "STUDY", "keys": ["PatientID"]}).passed


def test_retention_applied(box, part):
    box.apply_scenario(part, {"studies": [{"modality": "CR", "seed": 9, "images": 1, "description": "OLD CR",
                                           "date": "20010101"}]})
    flag = {"older_than_days": 3650, "action": "flag"}
    assert not outcome(box, part, "retention_applied", flag).passed
    box.apply_retention(part, older_than_days=3650, action="flag")
    assert outcome(box, part, "retention_applied", flag).passed
    too_far = outcome(box, part, "retention_applied", {"older_than_days": 1, "action": "flag"})
    assert not too_far.passed and "not flagged" in too_far.message
    delete = {"older_than_days": 3650, "action": "delete"}
    assert not outcome(box, part, "retention_applied", delete).passed
    box.apply_retention(part, older_than_days=3650, action="delete")
    assert outcome(box, part, "retention_applied", delete).passed


def test_routing_rule_present_and_forwarding(box, part):
    params = {"destination_ae": f"{part}_WS", "modality": "CT"}
    assert not outcome(box, part, "routing_rule_present", params).passed
    box.add_routing_rule(part, f"{part}_WS", modality="MR")
    assert "does not cover CT" in outcome(box, part, "routing_rule_present", params).message
    box.add_routing_rule(part, f"{part}_WS", modality="CT")
    assert outcome(box, part, "routing_rule_present", params).passed


def test_study_absent(box, part):
    params = {"accession_number": "ACC2"}
    assert not outcome(box, part, "study_absent", params).passed
    assert not outcome(box, part, "study_absent", {"accession_number": "NEVER-THERE"}).passed  # nothing removed
    box.delete_study(part, box.studies(part, patient_id="PAT-B")[0].study_uid)
    assert outcome(box, part, "study_absent", params).passed


def test_study_kept(box, part):
    params = {"accession_number": "ACC1"}
    assert not outcome(box, part, "study_kept", params).passed  # nothing done yet
    box.delete_study(part, box.studies(part, patient_id="PAT-B")[0].study_uid)
    assert outcome(box, part, "study_kept", params).passed
    box.delete_study(part, box.studies(part, patient_id="PAT-A")[0].study_uid)
    assert not outcome(box, part, "study_kept", params).passed
