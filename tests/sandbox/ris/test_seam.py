"""The seam to the archive: RAD-12 updates and merges, unmatched studies, reports attached,
and the simulated modality's whole scheduled workflow."""

from __future__ import annotations

import pydicom

from sandbox.ris import samples
from tests.sandbox.ris.conftest import schedule


def _store_for(sandbox, code, p, seed, **kw):
    patient = {"PatientID": p["patient_id"], "PatientName": p["name"],
               "PatientBirthDate": p["birth_date"], "PatientSex": p["sex"]}
    return sandbox.generate(code, seed=seed, images_per_series=1, rows=16, columns=16,
                            patient=patient, **kw)[0]


def test_a08_rewrites_the_stored_studies(sandbox, rcode, person):
    sandbox.send_hl7(rcode, samples.adt(rcode, "A04", person))
    uid = _store_for(sandbox, rcode, person, 1)
    result = sandbox.send_hl7(rcode, samples.adt(rcode, "A08", {**person, "name": "Renamed^Ann"}))
    assert result.code == "AA"
    [study] = sandbox.studies(rcode, study_uid=uid)
    assert study.patient_name == "Renamed^Ann"
    [inst] = sandbox.instances(rcode, study_uid=uid)
    assert str(pydicom.dcmread(sandbox.instance_path(rcode, inst.sop_instance_uid)).PatientName) \
        == "Renamed^Ann"
    assert sandbox.journal(rcode, kind="seam.patient-updated")


def test_a40_merges_the_stored_studies(sandbox, rcode, person):
    prior = {**person, "patient_id": "OLDID1", "name": "Old^Name"}
    sandbox.send_hl7(rcode, samples.adt(rcode, "A04", prior))
    sandbox.send_hl7(rcode, samples.adt(rcode, "A04", person))
    old_uid = _store_for(sandbox, rcode, prior, 2)
    new_uid = _store_for(sandbox, rcode, person, 3)
    result = sandbox.send_hl7(rcode, samples.adt(rcode, "A40", person, prior_patient_id="OLDID1"))
    assert result.code == "AA", result.error
    assert {s.patient_id for s in sandbox.studies(rcode)} == {person["patient_id"]}
    assert {s.study_uid for s in sandbox.studies(rcode)} == {old_uid, new_uid}


def test_a40_renames_when_the_survivor_has_no_studies(sandbox, rcode, person):
    prior = {**person, "patient_id": "OLDID2"}
    sandbox.send_hl7(rcode, samples.adt(rcode, "A04", prior))
    uid = _store_for(sandbox, rcode, prior, 4)
    sandbox.send_hl7(rcode, samples.adt(rcode, "A40", person, prior_patient_id="OLDID2"))
    assert sandbox.studies(rcode, study_uid=uid)[0].patient_id == person["patient_id"]


def test_with_policy_flag_the_archive_is_left_alone_and_the_trainee_told(sandbox, rcode, person):
    sandbox.set_ris_policy(rcode, update_policy="flag")
    sandbox.send_hl7(rcode, samples.adt(rcode, "A04", person))
    uid = _store_for(sandbox, rcode, person, 5)
    sandbox.send_hl7(rcode, samples.adt(rcode, "A08", {**person, "name": "Other^Name"}))
    assert sandbox.studies(rcode, study_uid=uid)[0].patient_name == person["name"]
    assert sandbox.journal(rcode, kind="seam.patient-update-flagged")


def test_studies_without_a_matching_order_are_unmatched_with_reasons(sandbox, rcode, person):
    order = schedule(sandbox, rcode, person, "SM1")
    stray = _store_for(sandbox, rcode, person, 6, accession_number="WRONG1")
    wrong_patient = _store_for(sandbox, rcode, {**person, "patient_id": "X1"}, 7,
                               accession_number=order.accession_number)
    matches = {m["study_uid"]: m for m in sandbox.study_matches(rcode)}
    assert matches[stray]["matched"] is False
    assert "no order" in matches[stray]["reasons"][0]
    reasons = " ".join(matches[wrong_patient]["reasons"])
    assert "Study Instance UID differs" in reasons and "Patient ID X1 differs" in reasons
    assert {m["study_uid"] for m in sandbox.unmatched_studies(rcode)} == {stray, wrong_patient}
    sandbox.study_matches(rcode, record=True)
    assert len(sandbox.journal(rcode, kind="seam.study-unmatched")) == 2


def test_the_modality_does_the_scheduled_workflow_and_the_report_attaches(sandbox, rcode,
                                                                          person):
    order = schedule(sandbox, rcode, person, "SW1")
    result = sandbox.modality(rcode).perform()
    assert result.ok, result.steps
    assert [s["step"] for s in result.steps] == [
        "worklist", "mpps-in-progress", "store", "mpps-completed", "storage-commitment"]
    [o] = sandbox.orders(rcode)
    assert o.status == "CM"
    [study] = sandbox.studies(rcode)
    assert (study.study_uid, study.accession_number, study.patient_id) == (
        order.study_uid, order.accession_number, person["patient_id"])
    assert sandbox.study_matches(rcode)[0]["matched"] is True
    assert sandbox.journal(rcode, kind="seam.study-matched")
    ack = sandbox.send_hl7(rcode, samples.oru(rcode, person, accession=order.accession_number))
    assert ack.code == "AA" and "attached" in ack.summary
    assert sandbox.reports(rcode)[0].attached is True


def test_a_study_arriving_without_an_order_is_flagged_by_the_worker(sandbox, rcode, person):
    import time

    schedule(sandbox, rcode, person, "FLAG1")  # the partition's RIS is in use

    result = sandbox.devices(rcode).store(f"{rcode}_PACS", seed=31, rows=16, columns=16,
                                          images_per_series=1, accession_number="NOORDER1")
    assert result.ok
    deadline = time.time() + 5
    while not sandbox.journal(rcode, kind="seam.study-unmatched") and time.time() < deadline:
        time.sleep(0.1)
    [event] = sandbox.journal(rcode, kind="seam.study-unmatched")
    assert event.details["accession_number"] == "NOORDER1" and "no order" in event.summary
    sandbox.study_matches(rcode, record=True)  # the same verdict is not journaled twice
    assert len(sandbox.journal(rcode, kind="seam.study-unmatched")) == 1
