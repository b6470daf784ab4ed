"""The same archive on PostgreSQL: schema, ingest, matching, retrieve, admin, journal.

Uses the server named by ACADEMY_TEST_POSTGRES_URL, in a temporary database
created for this module and dropped after.
"""

from __future__ import annotations


import pytest

from sandbox.archive import status as st
from tests.conftest import NEEDS_POSTGRES, POSTGRES_URL
from tests.sandbox.conftest import associate, find, postgres_sandbox

pytestmark = NEEDS_POSTGRES


@pytest.fixture(scope="module")
def pg(tmp_path_factory):
    with postgres_sandbox(tmp_path_factory.mktemp("pg"), POSTGRES_URL, "PG1") as sb:
        yield sb


def test_store_find_move_on_postgres(pg):
    patient = {"PatientID": "PG_01", "PatientName": "Post^Gres"}
    result = pg.devices("PG1").store("PG1_PACS", seed=71, patient=patient, rows=32, columns=32,
                                     images_per_series=2)
    assert result.ok and result.completed == 2
    [study] = pg.studies("PG1")
    status, matches = find(pg, "PG1", {"QueryRetrieveLevel": "STUDY", "PatientName": "post*",
                                       "NumberOfStudyRelatedInstances": ""})
    assert status == st.SUCCESS and matches[0].NumberOfStudyRelatedInstances == 2
    assert find(pg, "PG1", {"QueryRetrieveLevel": "STUDY", "PatientID": "PG%01"})[1] == []
    assert len(find(pg, "PG1", {"QueryRetrieveLevel": "STUDY", "PatientID": "PG_01"})[1]) == 1
    assert len(find(pg, "PG1", {"QueryRetrieveLevel": "STUDY", "PatientID": "PG?01"})[1]) == 1
    moved = pg.devices("PG1").move("PG1_PACS", "PG1_WS", StudyInstanceUID=study.study_uid)
    assert moved.ok and moved.completed == 2


def test_admin_and_journal_on_postgres(pg):
    [uid] = pg.generate("PG1", seed=72, rows=32, columns=32, images_per_series=1,
                        patient={"PatientID": "PG_02", "PatientName": "A^B"})
    pg.edit_patient("PG1", "PG_02", patient_name="C^D")
    assert [s.patient_name for s in pg.studies("PG1", study_uid=uid)] == ["C^D"]
    pg.delete_study("PG1", uid)
    assert pg.studies("PG1", study_uid=uid) == []
    kinds = {e.kind for e in pg.journal("PG1")}
    assert {"admin.edit-patient", "admin.delete-study", "dimse.c-store"} <= kinds


def test_rejections_and_faults_on_postgres(pg):
    assert associate(pg, "PG1_PACS", calling="STRANGER").is_rejected
    pg.set_fault("PG1", "store_out_of_resources")
    result = pg.devices("PG1").store("PG1_PACS", seed=73, rows=32, columns=32,
                                     images_per_series=1)
    assert result.status == st.OUT_OF_RESOURCES
    pg.clear_fault("PG1")


def test_concurrent_senders_on_postgres(pg):
    import threading

    from tests.sandbox.conftest import small_study

    study = small_study(74, images_per_series=6)
    results = []

    def send(part):
        results.append(pg.devices("PG1").store("PG1_PACS", datasets=part).completed)

    threads = [threading.Thread(target=send, args=(study[i::3],)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 6
    [info] = pg.studies("PG1", study_uid=study[0].StudyInstanceUID)
    assert info.instance_count == 6 and info.series_count == 1
