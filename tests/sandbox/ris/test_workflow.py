"""The complete IHE scheduled workflow end to end over real sockets, with dcmtk as the modality's
worklist client: ADT -> order (MLLP) -> findscu -W -> MPPS IN PROGRESS -> storescu with the
worklist's identifiers -> MPPS COMPLETED -> storage commitment -> order completed, study matched."""

from __future__ import annotations

import time

import pydicom
import pytest
from pydicom.dataset import Dataset
from pynetdicom import build_context
from pynetdicom.sop_class import ModalityPerformedProcedureStep, StorageCommitmentPushModel

from sandbox import synth
from sandbox.archive import status as st
from sandbox.ris import samples
from sandbox.ris.mllp import MllpClient
from tests.sandbox.conftest import associate
from tests.sandbox.ris.conftest import ack_of, mpps_create_dataset, mpps_final_dataset

pytestmark = pytest.mark.dcmtk


def test_the_scheduled_workflow_end_to_end(sandbox, dcmtk, storage_peer, tmp_path):
    code = "E2E1"
    sandbox.create_partition(code)
    # the modality: its AE title is registered where the storage commitment report goes
    sandbox.add_node(code, "MODALITY1", "127.0.0.1", storage_peer.port)
    person = samples.patient(424242)

    # 1-2. ADT registration and the order, over MLLP
    with MllpClient(*sandbox.hl7_address) as hl7:
        assert ack_of(hl7.send(samples.adt(code, "A04", person, visit="E2EV")))[0] == "AA"
        ack = hl7.send(samples.orm(code, person, placer="E2E-PL1", visit="E2EV",
                                   start="20250601083000"))
        assert ack_of(ack)[0] == "AA"
    [order] = sandbox.orders(code)

    # 3. dcmtk's findscu -W asks the worklist for this station's steps
    out = tmp_path / "mwl"
    out.mkdir()
    done = dcmtk("findscu", "-W", "-aet", "MODALITY1", "-aec", f"{code}_RIS", "-X",
                 "-k", f"ScheduledProcedureStepSequence[0].ScheduledStationAETitle={code}_CT",
                 "-k", "ScheduledProcedureStepSequence[0].Modality",
                 "-k", "ScheduledProcedureStepSequence[0].ScheduledProcedureStepStartDate",
                 "-k", "ScheduledProcedureStepSequence[0].ScheduledProcedureStepID",
                 "-k", "PatientName", "-k", "PatientID", "-k", "PatientBirthDate",
                 "-k", "PatientSex", "-k", "AccessionNumber", "-k", "StudyInstanceUID",
                 "-k", "RequestedProcedureID", "-k", "ReferringPhysicianName",
                 "127.0.0.1", sandbox.dicom_port, cwd=out)
    assert done.returncode == 0, done.stderr
    [found] = sorted(out.glob("rsp*.dcm"))
    item = pydicom.dcmread(found, force=True)
    assert item.AccessionNumber == order.accession_number
    assert item.StudyInstanceUID == order.study_uid and item.PatientID == person["patient_id"]
    sps = item.ScheduledProcedureStepSequence[0]
    assert sps.ScheduledStationAETitle == f"{code}_CT" and sps.Modality == "CT"

    # 4. MPPS IN PROGRESS
    mpps_uid = pydicom.uid.generate_uid()
    assoc = associate(sandbox, f"{code}_RIS", [build_context(ModalityPerformedProcedureStep)],
                      calling="MODALITY1")
    rsp, _ = assoc.send_n_create(mpps_create_dataset(order, station="MODALITY1"),
                                 ModalityPerformedProcedureStep, mpps_uid)
    assoc.release()
    assert rsp.Status == st.SUCCESS and sandbox.orders(code)[0].status == "IP"

    # 5. images carrying the worklist's identifiers, stored with dcmtk's storescu
    datasets = synth.generate_study(
        9, "CT", images_per_series=2, rows=32, columns=32, study_uid=item.StudyInstanceUID,
        accession_number=item.AccessionNumber,
        patient={"PatientID": item.PatientID, "PatientName": str(item.PatientName),
                 "PatientBirthDate": item.PatientBirthDate, "PatientSex": item.PatientSex})
    files = synth.write_study(datasets, tmp_path / "images")
    done = dcmtk("storescu", "-aet", "MODALITY1", "-aec", f"{code}_PACS", "127.0.0.1",
                 sandbox.dicom_port, *files)
    assert done.returncode == 0, done.stderr

    # 6. MPPS COMPLETED with the performed series
    final = mpps_final_dataset(series_uid=datasets[0].SeriesInstanceUID,
                               instances=tuple(d.SOPInstanceUID for d in datasets))
    assoc = associate(sandbox, f"{code}_RIS", [build_context(ModalityPerformedProcedureStep)],
                      calling="MODALITY1")
    rsp, _ = assoc.send_n_set(final, ModalityPerformedProcedureStep, mpps_uid)
    assoc.release()
    assert rsp.Status == st.SUCCESS

    # 7. storage commitment: the report comes back to MODALITY1
    info = Dataset()
    info.TransactionUID = pydicom.uid.generate_uid()
    info.ReferencedSOPSequence = []
    for d in datasets:
        ref = Dataset()
        ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = d.SOPClassUID, d.SOPInstanceUID
        info.ReferencedSOPSequence.append(ref)
    assoc = associate(sandbox, f"{code}_PACS", [build_context(StorageCommitmentPushModel)],
                      calling="MODALITY1")
    rsp, _ = assoc.send_n_action(info, 1, StorageCommitmentPushModel, "1.2.840.10008.1.20.1.1")
    assoc.release()
    assert rsp.Status == st.SUCCESS
    deadline = time.time() + 10
    while not storage_peer.reports and time.time() < deadline:
        time.sleep(0.05)
    [(event_type, report)] = storage_peer.reports
    assert event_type == 1 and len(report.ReferencedSOPSequence) == 2

    # the archive journals the report once its association is released
    while not sandbox.journal(code, kind="dimse.n-event-report") and time.time() < deadline:
        time.sleep(0.05)

    # 8. the order is completed and the study matched
    assert sandbox.orders(code)[0].status == "CM"
    [match] = sandbox.study_matches(code)
    assert match["matched"] and match["placer_number"] == "E2E-PL1"
    kinds = {e.kind for e in sandbox.journal(code)}
    assert {"hl7.received", "ris.order-scheduled", "dimse.c-find", "dimse.n-create",
            "dimse.c-store", "dimse.n-set", "dimse.n-event-report", "seam.study-matched"} <= kinds
