"""C-FIND matching (PS3.4 C.2.2.2) at every level, both information models, over real sockets."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset
from pynetdicom import build_context
from pynetdicom.sop_class import (
    PatientRootQueryRetrieveInformationModelFind as PATIENT_ROOT,
    StudyRootQueryRetrieveInformationModelFind as STUDY_ROOT,
)

from sandbox.archive import status as st
from tests.sandbox.conftest import associate, find

PATIENTS = {
    "smith": {"PatientID": "PID001", "PatientName": "SMITH^JOHN", "PatientBirthDate": "19600101",
              "PatientSex": "M"},
    "smythe": {"PatientID": "PID002", "PatientName": "SMYTHE^ANNA", "PatientBirthDate": "19750505",
               "PatientSex": "F"},
    "jones": {"PatientID": "XID003", "PatientName": "Jones^Mary", "PatientBirthDate": "19900909",
              "PatientSex": "F"},
}

# Invalid UIDs in identifiers are the point of some tests; pydicom warns about them.
pytestmark = pytest.mark.filterwarnings("ignore:Invalid value for VR")


@pytest.fixture(scope="module")
def data(sandbox):
    code = "FIND1"
    sandbox.create_partition(code)
    sandbox.add_node(code, "TESTSCU", "127.0.0.1", 1)
    studies = {}
    plan = [("smith", "CT", "20200110", "CT HEAD", "ACC1"),
            ("smith", "MR", "20210315", "MR KNEE", "ACC2"),
            ("smythe", "CT", "20220601", "CT CHEST", "ACC3"),
            ("jones", "CR", "20230720", "CHEST PA", "ACC4")]
    for n, (who, modality, date, desc, acc) in enumerate(plan):
        [uid] = sandbox.generate(code, seed=100 + n, modality=modality, patient=PATIENTS[who],
                                 study_date=date, study_description=desc, accession_number=acc,
                                 images_per_series=2, rows=32, columns=32)
        studies[acc] = uid
    return code, studies


def _accessions(matches):
    return sorted(m.AccessionNumber for m in matches)


def q(**keys):
    keys.setdefault("QueryRetrieveLevel", "STUDY")
    keys.setdefault("AccessionNumber", "")
    return keys


def test_universal_matching_returns_every_study(sandbox, data):
    code, _ = data
    status, matches = find(sandbox, code, q())
    assert status == st.SUCCESS and _accessions(matches) == ["ACC1", "ACC2", "ACC3", "ACC4"]


def test_single_value_matching_on_patient_id(sandbox, data):
    code, _ = data
    assert _accessions(find(sandbox, code, q(PatientID="PID001"))[1]) == ["ACC1", "ACC2"]


def test_wildcard_star_and_question_mark(sandbox, data):
    code, _ = data
    assert _accessions(find(sandbox, code, q(PatientName="SM*"))[1]) == ["ACC1", "ACC2", "ACC3"]
    assert _accessions(find(sandbox, code, q(PatientName="SM?TH^*"))[1]) == ["ACC1", "ACC2"]
    assert _accessions(find(sandbox, code, q(PatientID="PID00?"))[1]) == ["ACC1", "ACC2", "ACC3"]
    assert _accessions(find(sandbox, code, q(StudyDescription="CT*"))[1]) == ["ACC1", "ACC3"]


def test_person_names_match_case_insensitively_other_strings_do_not(sandbox, data):
    code, _ = data
    assert _accessions(find(sandbox, code, q(PatientName="jones^mary"))[1]) == ["ACC4"]
    assert _accessions(find(sandbox, code, q(StudyDescription="ct*"))[1]) == []


def test_a_literal_percent_or_underscore_is_not_a_wildcard(sandbox, data):
    code, _ = data
    assert find(sandbox, code, q(PatientID="PID%"))[1] == []
    assert find(sandbox, code, q(PatientID="PID_01"))[1] == []


def test_list_of_uid_matching(sandbox, data):
    code, studies = data
    uids = [studies["ACC1"], studies["ACC4"]]
    status, matches = find(sandbox, code, q(StudyInstanceUID=uids))
    assert _accessions(matches) == ["ACC1", "ACC4"]


@pytest.mark.parametrize("value, expected", [
    ("20210315", ["ACC2"]),
    ("20210101-20221231", ["ACC2", "ACC3"]),
    ("20220101-", ["ACC3", "ACC4"]),
    ("-20201231", ["ACC1"]),
])
def test_date_single_value_and_range_matching(sandbox, data, value, expected):
    code, _ = data
    assert _accessions(find(sandbox, code, q(StudyDate=value))[1]) == expected


def test_time_range_matching(sandbox, data):
    code, _ = data
    _, everything = find(sandbox, code, q(StudyTime=""))
    times = sorted(m.StudyTime for m in everything)
    low = times[1][:4]
    _, matches = find(sandbox, code, q(StudyTime=f"{low}-"))
    assert len(matches) == sum(t[:4] >= low for t in times)
    _, none = find(sandbox, code, q(StudyTime="0000-0001"))
    assert none == [] or all(m.StudyTime <= "000159.999999" for m in none)


def test_modalities_in_study_matches_any_of_the_studys_modalities(sandbox, data):
    code, _ = data
    assert _accessions(find(sandbox, code, q(ModalitiesInStudy="MR"))[1]) == ["ACC2"]
    assert _accessions(find(sandbox, code, q(ModalitiesInStudy=["MR", "CR"]))[1]) == ["ACC2", "ACC4"]


def test_return_keys_are_filled_and_unknown_keys_come_back_empty(sandbox, data):
    code, _ = data
    _, [m] = find(sandbox, code, q(AccessionNumber="ACC3", PatientName="", StudyDate="",
                                   NumberOfStudyRelatedInstances="",
                                   NumberOfStudyRelatedSeries="", InstitutionName="",
                                   ModalitiesInStudy=""))
    assert m.PatientName == "SMYTHE^ANNA" and m.StudyDate == "20220601"
    assert m.NumberOfStudyRelatedInstances == 2 and m.NumberOfStudyRelatedSeries == 1
    assert m.InstitutionName == "" and m.ModalitiesInStudy == "CT"
    assert m.QueryRetrieveLevel == "STUDY" and m.RetrieveAETitle == f"{code}_PACS"


def test_patient_level_in_the_patient_root_model(sandbox, data):
    code, _ = data
    ds = Dataset()
    ds.QueryRetrieveLevel = "PATIENT"
    ds.PatientID = "PID*"
    ds.PatientName = ""
    ds.NumberOfPatientRelatedStudies = ""
    status, matches = find(sandbox, code, ds, model=PATIENT_ROOT)
    assert status == st.SUCCESS
    got = {m.PatientID: m.NumberOfPatientRelatedStudies for m in matches}
    assert got == {"PID001": 2, "PID002": 1}


def test_series_and_image_levels(sandbox, data):
    code, studies = data
    status, series = find(sandbox, code, {"QueryRetrieveLevel": "SERIES",
                                          "StudyInstanceUID": studies["ACC2"], "Modality": "",
                                          "SeriesInstanceUID": "",
                                          "NumberOfSeriesRelatedInstances": ""})
    assert status == st.SUCCESS and len(series) == 1
    assert series[0].Modality == "MR" and series[0].NumberOfSeriesRelatedInstances == 2
    status, images = find(sandbox, code, {"QueryRetrieveLevel": "IMAGE",
                                          "SeriesInstanceUID": series[0].SeriesInstanceUID,
                                          "SOPInstanceUID": "", "InstanceNumber": ""})
    assert status == st.SUCCESS and sorted(i.InstanceNumber for i in images) == [1, 2]
    _, by_modality = find(sandbox, code, {"QueryRetrieveLevel": "SERIES", "Modality": "CT",
                                          "SeriesInstanceUID": ""})
    assert len(by_modality) == 2


def test_the_patient_level_does_not_exist_in_study_root(sandbox, data):
    code, _ = data
    status, matches = find(sandbox, code, {"QueryRetrieveLevel": "PATIENT", "PatientID": ""})
    assert status == st.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS and matches == []


@pytest.mark.parametrize("keys, expected", [
    ({"QueryRetrieveLevel": "WARD"}, st.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS),
    ({"PatientID": ""}, st.IDENTIFIER_DOES_NOT_MATCH_SOP_CLASS),  # no level at all
    ({"QueryRetrieveLevel": "STUDY", "StudyDate": "2020-13"}, st.UNABLE_TO_PROCESS),
    ({"QueryRetrieveLevel": "STUDY", "StudyDate": "yesterday"}, st.UNABLE_TO_PROCESS),
    ({"QueryRetrieveLevel": "STUDY", "StudyTime": "25x"}, st.UNABLE_TO_PROCESS),
    ({"QueryRetrieveLevel": "STUDY", "StudyInstanceUID": "1.2.abc"}, st.UNABLE_TO_PROCESS),
])
def test_invalid_identifiers_are_refused_with_a_named_status_and_journaled(sandbox, data, keys,
                                                                           expected):
    code, _ = data
    status, matches = find(sandbox, code, keys)
    assert status == expected and matches == []
    assert sandbox.journal(code, kind="dimse.c-find")[-1].status == expected


def test_a_find_is_journaled_with_level_keys_and_count(sandbox, data):
    code, _ = data
    find(sandbox, code, q(PatientID="PID001"))
    event = sandbox.journal(code, kind="dimse.c-find")[-1]
    assert event.status == st.SUCCESS and event.details["matches"] == 2
    assert event.details["level"] == "STUDY" and event.details["identifier"]["PatientID"] == "PID001"


def test_a_c_cancel_stops_the_matches(sandbox, data):
    """Send C-CANCEL right after the C-FIND (PS3.7 9.3.2.3); the SCP ends with FE00."""
    code, _ = data
    import threading

    from pynetdicom import evt
    from pynetdicom.dimse_messages import C_FIND_RQ

    def cancel_once_sent(event):  # the SCP is then sleeping in the delay fault
        if isinstance(event.message, C_FIND_RQ):
            threading.Timer(0.1, assoc.send_c_cancel, (42,),
                            {"query_model": STUDY_ROOT}).start()

    sandbox.set_fault(code, "delay_responses", seconds=0.6)
    try:
        assoc = associate(sandbox, f"{code}_PACS", [build_context(STUDY_ROOT)],
                          evt_handlers=[(evt.EVT_DIMSE_SENT, cancel_once_sent)])
        ds = Dataset()
        ds.QueryRetrieveLevel = "STUDY"
        ds.AccessionNumber = ""
        statuses = [rsp.Status for rsp, _ in assoc.send_c_find(ds, STUDY_ROOT, msg_id=42)]
        assoc.release()
    finally:
        sandbox.clear_fault(code, "delay_responses")
    assert statuses[-1] == st.CANCEL and len(statuses) < 5
    assert sandbox.journal(code, kind="dimse.c-find")[-1].status == st.CANCEL
