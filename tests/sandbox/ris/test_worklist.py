"""Modality Worklist C-FIND at <CODE>_RIS (PS3.4 Annex K) over real associations."""

from __future__ import annotations

import pytest

from sandbox.archive import status as st
from sandbox.ris import samples
from tests.sandbox.conftest import associate
from tests.sandbox.ris.conftest import mwl_find, schedule

SPS_RETURN = {"ScheduledStationAETitle": "", "Modality": "", "ScheduledProcedureStepStartDate": "",
              "ScheduledProcedureStepStartTime": "", "ScheduledProcedureStepID": ""}


@pytest.fixture
def booked(sandbox, rcode):
    """Three scheduled orders: CT (two days) and MR, for two patients."""
    a, b = samples.patient(7001), samples.patient(7002)
    a["name"], b["name"] = "Smith^Anna", "Jones^Bob"
    orders = [
        schedule(sandbox, rcode, a, "W1", start="20250110080000", accession="ACCW1"),
        schedule(sandbox, rcode, a, "W2", start="20250111143000", accession="ACCW2"),
        schedule(sandbox, rcode, b, "W3", start="20250111090000", accession="ACCW3",
                 procedure="MRBRAIN", description="MRI BRAIN"),
    ]
    return rcode, orders, a, b


def _acc(matches):
    return sorted(m.AccessionNumber for m in matches)


def test_universal_query_returns_every_scheduled_step_with_ihe_attributes(sandbox, booked):
    code, orders, a, _ = booked
    status, matches = mwl_find(sandbox, code, {
        "PatientName": "", "PatientID": "", "PatientBirthDate": "", "PatientSex": "",
        "AccessionNumber": "", "RequestedProcedureID": "", "RequestedProcedureDescription": "",
        "StudyInstanceUID": "", "ReferringPhysicianName": ""}, SPS_RETURN)
    assert status == st.SUCCESS and _acc(matches) == ["ACCW1", "ACCW2", "ACCW3"]
    first = next(m for m in matches if m.AccessionNumber == "ACCW1")
    sps = first.ScheduledProcedureStepSequence[0]
    assert (first.PatientID, str(first.PatientName)) == (a["patient_id"], "Smith^Anna")
    assert first.StudyInstanceUID == orders[0].study_uid
    assert first.RequestedProcedureID == orders[0].requested_procedure_id
    assert first.RequestedProcedureDescription == "CT HEAD"
    assert str(first.ReferringPhysicianName) == "Mbeki^Tomas"
    assert (sps.ScheduledStationAETitle, sps.Modality, sps.ScheduledProcedureStepStartDate,
            sps.ScheduledProcedureStepStartTime, sps.ScheduledProcedureStepID) == (
        f"{code}_CT", "CT", "20250110", "080000", orders[0].sps_id)
    assert "PlacerOrderNumberImagingServiceRequest" not in first  # only what was asked


@pytest.mark.parametrize("top, sps, expected", [
    ({}, {"ScheduledStationAETitle": "{code}_MR"}, ["ACCW3"]),
    ({}, {"ScheduledStationAETitle": "{code}_C*"}, ["ACCW1", "ACCW2"]),
    ({}, {"Modality": "CT"}, ["ACCW1", "ACCW2"]),
    ({}, {"ScheduledProcedureStepStartDate": "20250111"}, ["ACCW2", "ACCW3"]),
    ({}, {"ScheduledProcedureStepStartDate": "20250101-20250110"}, ["ACCW1"]),
    ({}, {"ScheduledProcedureStepStartDate": "20250111-"}, ["ACCW2", "ACCW3"]),
    ({}, {"ScheduledProcedureStepStartTime": "0800-1000"}, ["ACCW1", "ACCW3"]),
    ({}, {"ScheduledProcedureStepStartDate": "20250111", "Modality": "CT"}, ["ACCW2"]),
    ({"PatientName": "smith*"}, None, ["ACCW1", "ACCW2"]),
    ({"PatientName": "J?NES^BOB"}, None, ["ACCW3"]),
    ({"AccessionNumber": "ACCW2"}, None, ["ACCW2"]),
    ({"PatientID": "{pid_b}"}, None, ["ACCW3"]),
    ({"AccessionNumber": "ACCW9"}, None, []),
    ({"ReferringPhysicianName": "mbeki*"}, None, ["ACCW1", "ACCW2", "ACCW3"]),
    ({}, {"ScheduledProcedureStepID": "NOSUCH"}, []),
])
def test_matching_keys(sandbox, booked, top, sps, expected):
    code, _, _, b = booked
    def fill(d):
        return {k: v.format(code=code, pid_b=b["patient_id"]) for k, v in d.items()}

    status, matches = mwl_find(sandbox, code, {"AccessionNumber": "", **fill(top)},
                               fill(sps) if sps is not None else None)
    assert status == st.SUCCESS and _acc(matches) == expected


def test_study_uid_list_and_requested_procedure_id(sandbox, booked):
    code, orders, _, _ = booked
    status, matches = mwl_find(sandbox, code, {
        "AccessionNumber": "", "StudyInstanceUID": [orders[0].study_uid, orders[2].study_uid]})
    assert _acc(matches) == ["ACCW1", "ACCW3"]
    status, matches = mwl_find(sandbox, code, {
        "AccessionNumber": "", "RequestedProcedureID": orders[1].requested_procedure_id})
    assert _acc(matches) == ["ACCW2"]


def test_a_zero_length_sequence_returns_the_whole_item(sandbox, booked):
    code, _, _, _ = booked
    status, matches = mwl_find(sandbox, code, {"AccessionNumber": "ACCW1",
                                               "ScheduledProcedureStepSequence": []})
    sps = matches[0].ScheduledProcedureStepSequence[0]
    assert sps.Modality == "CT" and sps.ScheduledProcedureStepStatus == "SCHEDULED"


def test_only_scheduled_orders_are_on_the_worklist(sandbox, booked, person):
    code, _, a, _ = booked
    sandbox.send_hl7(code, samples.orm(code, a, placer="W1", control="CA"))
    assert _acc(mwl_find(sandbox, code, {"AccessionNumber": ""})[1]) == ["ACCW2", "ACCW3"]


def test_an_invalid_date_is_refused_with_a_named_status(sandbox, booked):
    code, _, _, _ = booked
    status, matches = mwl_find(sandbox, code, {"AccessionNumber": ""},
                               {"ScheduledProcedureStepStartDate": "2025-01-10"})
    assert status == st.UNABLE_TO_PROCESS and matches == []
    event = sandbox.journal(code, kind="dimse.c-find")[-1]
    assert event.status == st.UNABLE_TO_PROCESS and "ScheduledProcedureStepStartDate" in \
        event.summary


def test_another_partitions_worklist_is_invisible(sandbox, booked, other_code):
    status, matches = mwl_find(sandbox, other_code, {"AccessionNumber": ""})
    assert status == st.SUCCESS and matches == []


def test_an_unregistered_modality_is_rejected_at_association(sandbox, booked):
    code, _, _, _ = booked
    from pynetdicom import build_context
    from pynetdicom.sop_class import ModalityWorklistInformationFind

    assoc = associate(sandbox, f"{code}_RIS", [build_context(ModalityWorklistInformationFind)],
                      calling="STRANGER")
    assert assoc.is_rejected


def test_the_api_view_matches_the_dicom_view(sandbox, booked):
    code, _, _, _ = booked
    items = sandbox.worklist(code, ScheduledStationAETitle=f"{code}_CT",
                             ScheduledProcedureStepStartDate="20250111")
    assert [i["AccessionNumber"] for i in items] == ["ACCW2"]
