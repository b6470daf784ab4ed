"""The RIS check types pass when the trainee did the thing and fail when not (real RIS, real messages)."""
from __future__ import annotations

import secrets

import pytest

import sandbox
from tests.labs.test_checks import outcome


@pytest.fixture
def part(box):
    code = "H" + secrets.token_hex(3).upper()
    box.create_partition(code)
    yield code
    box.delete_partition(code)


PATIENT = {"patient_id": "MRN7001", "issuer": "ACADEMY_GH", "name": "OKAFOR^LINA", "birth_date": "19800214", "sex": "F"}


def test_hl7_received_and_patient_registered(box, part):
    assert not outcome(box, part, "hl7_received", {"message_type": "ADT^A04"}).passed
    assert not outcome(box, part, "patient_registered", {"patient_id": "MRN7001"}).passed
    broken = sandbox.build_adt(part, "A04", PATIENT).replace("MRN7001", "")  # PID-3 missing: AE/AR
    ack = box.send_hl7(part, broken)
    assert ack.code in ("AE", "AR")
    failed = outcome(box, part, "hl7_received", {"message_type": "ADT^A04"})
    assert not failed.passed and failed.event_id and "answered A" in failed.message
    assert box.send_hl7(part, sandbox.build_adt(part, "A04", PATIENT)).code == "AA"
    assert outcome(box, part, "hl7_received", {"message_type": "ADT^A04", "patient_id": "MRN7001"}).passed
    assert outcome(box, part, "hl7_received", {"message_type": "ADT^A04", "ack": "AE"}).passed or \
        outcome(box, part, "hl7_received", {"message_type": "ADT^A04", "ack": "AR"}).passed
    assert outcome(box, part, "patient_registered", {"patient_id": "MRN7001", "name": "okafor^lina"}).passed
    assert not outcome(box, part, "patient_registered", {"patient_id": "MRN7001", "name": "OTHER^NAME"}).passed


def test_order_worklist_mpps_through_a_scheduled_workflow(box, part):
    box.send_hl7(part, sandbox.build_adt(part, "A04", PATIENT))
    order = {"placer_number": "PL9001", "status": "scheduled"}
    assert not outcome(box, part, "order_in_state", order).passed
    ack = box.send_hl7(part, sandbox.build_orm(part, PATIENT, placer="PL9001", accession="ACC9001", modality="CT"))
    assert ack.code == "AA", ack.summary
    assert outcome(box, part, "order_in_state", order).passed
    assert not outcome(box, part, "order_in_state", {**order, "status": "completed"}).passed
    assert not outcome(box, part, "worklist_queried", {"station_ae": f"{part}_CT"}).passed
    assert not outcome(box, part, "mpps_completed", {"accession_number": "ACC9001"}).passed
    box.add_node(part, f"{part}_CT", "127.0.0.1", box.dicom_port)
    result = box.modality(part, "CT").perform(accession_number="ACC9001")
    assert result.ok, result
    assert outcome(box, part, "worklist_queried", {"station_ae": f"{part}_CT"}).passed
    assert outcome(box, part, "mpps_completed", {"accession_number": "ACC9001"}).passed
    assert outcome(box, part, "order_in_state", {**order, "status": "completed"}).passed


def test_report_attached(box, part):
    assert not outcome(box, part, "report_attached", {}).passed


def test_unmatched_study_reconciled(box, part):
    box.send_hl7(part, sandbox.build_adt(part, "A04", PATIENT))
    box.send_hl7(part, sandbox.build_orm(part, PATIENT, placer="PL9002", accession="ACC9002", modality="CT"))
    order = box.orders(part)[0]  # the study was made for this order, but under a temporary patient ID
    box.generate(part, studies=1, seed=4, modality="CT", images_per_series=1, study_uid=order.study_uid,
                 accession_number="ACC9002", patient={"PatientID": "TEMP0042", "PatientName": "OKAFOR^LINA"})
    assert box.unmatched_studies(part), "a study under a temporary ID matches no order"
    failed = outcome(box, part, "unmatched_reconciled", {"patient_id": "MRN7001"})
    assert not failed.passed and "still match no order" in failed.message
    box.edit_patient(part, "TEMP0042", patient_id="MRN7001")
    assert outcome(box, part, "unmatched_reconciled", {"patient_id": "MRN7001"}).passed
