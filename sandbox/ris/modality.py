"""The simulated modality doing the IHE Scheduled Workflow against its own partition.

RAD-5 worklist query (C-FIND MWL at <CODE>_RIS) -> RAD-6 MPPS IN PROGRESS (N-CREATE)
-> RAD-8 images carrying the worklist's identifiers (C-STORE at <CODE>_PACS) -> RAD-7
MPPS COMPLETED (N-SET) -> RAD-10 storage commitment (N-ACTION at <CODE>_PACS; the
archive reports back to the node registered as the modality's AE title).
Every step opens a real association through the sandbox's outgoing policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import build_context
from pynetdicom.sop_class import (
    ModalityPerformedProcedureStep, ModalityWorklistInformationFind, StorageCommitmentPushModel,
)

from sandbox import journal
from sandbox.archive import status as st
from sandbox.netpolicy import DestinationRefused
from sandbox.records import NodeInfo


@dataclass
class WorkflowResult:
    ok: bool
    steps: list[dict] = field(default_factory=list)
    accession_number: str = ""
    study_uid: str = ""
    mpps_uid: str = ""
    instances: int = 0

    def step(self, name: str, ok: bool, status: int | None, message: str = "") -> bool:
        self.steps.append({"step": name, "ok": ok, "status": status,
                           "status_name": st.name(status), "message": message})
        self.ok = self.ok and ok
        return ok


class Modality:
    def __init__(self, sb, code: str, device: str = "CT") -> None:
        self.sb, self.code, self.device = sb, code, device
        self.ae_title = f"{code}_{device}"

    def _assoc(self, role: str, contexts):
        host, port = self.sb.dicom_address
        node = NodeInfo(f"{self.code}_{role}", host, port, "hosted by the sandbox")
        return self.sb.services.outgoing.associate(self.ae_title, node, contexts)

    def query_worklist(self, **keys) -> tuple[int | None, list[Dataset]]:
        """C-FIND MWL; SPS keys (ScheduledStationAETitle, Modality, dates) go in the item."""
        ds = Dataset()
        for kw in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex",
                   "AccessionNumber", "RequestedProcedureID", "RequestedProcedureDescription",
                   "StudyInstanceUID", "ReferringPhysicianName"):
            setattr(ds, kw, keys.pop(kw, ""))
        sps = Dataset()
        for kw in ("ScheduledStationAETitle", "Modality", "ScheduledProcedureStepStartDate",
                   "ScheduledProcedureStepStartTime", "ScheduledProcedureStepID",
                   "ScheduledProcedureStepDescription"):
            setattr(sps, kw, keys.pop(kw, ""))
        if keys:
            raise ValueError(f"unknown worklist keys {sorted(keys)}")
        ds.ScheduledProcedureStepSequence = [sps]
        try:
            assoc = self._assoc("RIS", [build_context(ModalityWorklistInformationFind)])
        except DestinationRefused:
            return None, []
        if not assoc.is_established:
            return None, []
        items, final = [], None
        try:
            for rsp, identifier in assoc.send_c_find(ds, ModalityWorklistInformationFind):
                status = getattr(rsp, "Status", None)
                if st.is_pending(status) and identifier is not None:
                    items.append(identifier)
                else:
                    final = status
        finally:
            assoc.release()
        return final, items

    def _n(self, create: bool, uid: str, ds: Dataset) -> int | None:
        assoc = self._assoc("RIS", [build_context(ModalityPerformedProcedureStep)])
        if not assoc.is_established:
            return None
        try:
            if create:
                rsp, _ = assoc.send_n_create(ds, ModalityPerformedProcedureStep, uid)
            else:
                rsp, _ = assoc.send_n_set(ds, ModalityPerformedProcedureStep, uid)
        finally:
            assoc.release()
        return getattr(rsp, "Status", None)

    def perform(self, *, accession_number: str | None = None, seed: int = 0,
                images: int = 2, discontinue: bool = False) -> WorkflowResult:
        """Run the whole scheduled workflow for the first (or the named) worklist item."""
        result = WorkflowResult(ok=True)
        keys = {"ScheduledStationAETitle": self.ae_title}
        if accession_number:
            keys["AccessionNumber"] = accession_number
        status, items = self.query_worklist(**keys)
        if not result.step("worklist", status == st.SUCCESS and bool(items), status,
                           f"{len(items)} item(s) for {self.ae_title}"):
            return self._done(result)
        item = items[0]
        sps = item.ScheduledProcedureStepSequence[0]
        result.accession_number, result.study_uid = item.AccessionNumber, item.StudyInstanceUID
        now = datetime.now(timezone.utc)
        mpps_uid = result.mpps_uid = generate_uid()
        create = Dataset()
        create.PatientName, create.PatientID = item.PatientName, item.PatientID
        create.PatientBirthDate, create.PatientSex = item.PatientBirthDate, item.PatientSex
        ssa = Dataset()
        ssa.StudyInstanceUID = item.StudyInstanceUID
        ssa.AccessionNumber = item.AccessionNumber
        ssa.RequestedProcedureID = item.RequestedProcedureID
        ssa.ScheduledProcedureStepID = sps.ScheduledProcedureStepID
        ssa.ScheduledProcedureStepDescription = sps.ScheduledProcedureStepDescription
        create.ScheduledStepAttributesSequence = [ssa]
        create.PerformedStationAETitle = self.ae_title
        create.PerformedProcedureStepStartDate = now.strftime("%Y%m%d")
        create.PerformedProcedureStepStartTime = now.strftime("%H%M%S")
        create.PerformedProcedureStepStatus = "IN PROGRESS"
        create.PerformedProcedureStepID = f"PPS{now.strftime('%H%M%S')}"
        create.Modality = sps.Modality
        create.PerformedSeriesSequence = []
        status = self._n(True, mpps_uid, create)
        if not result.step("mpps-in-progress", status == st.SUCCESS, status):
            return self._done(result)
        from sandbox import synth

        modality = sps.Modality if sps.Modality in synth.MODALITIES else "CT"
        datasets = synth.generate_study(
            seed, modality, images_per_series=images, rows=64, columns=64,
            study_uid=item.StudyInstanceUID, accession_number=item.AccessionNumber,
            referring_physician=str(item.get("ReferringPhysicianName", "")),
            station_ae=self.ae_title, study_date=now.strftime("%Y%m%d"),
            # the study is what was scheduled: MWL's Requested Procedure Description (PS3.4 K.6.1.2.2)
            study_description=str(item.get("RequestedProcedureDescription", "") or
                                  sps.get("ScheduledProcedureStepDescription", "")) or None,
            patient={"PatientID": item.PatientID, "PatientName": str(item.PatientName),
                     "PatientBirthDate": item.PatientBirthDate or "19700101",
                     "PatientSex": item.PatientSex or "O"})
        stored = self.sb.devices(self.code).store(f"{self.code}_PACS", datasets,
                                                  device=self.device)
        result.instances = stored.completed
        if not result.step("store", stored.ok, stored.status, stored.message):
            return self._done(result)
        final = Dataset()
        final.PerformedProcedureStepStatus = "DISCONTINUED" if discontinue else "COMPLETED"
        end = datetime.now(timezone.utc)
        final.PerformedProcedureStepEndDate = end.strftime("%Y%m%d")
        final.PerformedProcedureStepEndTime = end.strftime("%H%M%S")
        series = {}
        for d in datasets:
            series.setdefault(d.SeriesInstanceUID, []).append(d)
        final.PerformedSeriesSequence = []
        for uid, members in series.items():
            s = Dataset()
            s.SeriesInstanceUID = uid
            s.PerformingPhysicianName = ""
            s.ProtocolName = str(members[0].get("SeriesDescription", ""))
            s.OperatorsName = ""
            s.SeriesDescription = str(members[0].get("SeriesDescription", ""))
            s.RetrieveAETitle = f"{self.code}_PACS"
            refs = []
            for d in members:
                r = Dataset()
                r.ReferencedSOPClassUID = d.SOPClassUID
                r.ReferencedSOPInstanceUID = d.SOPInstanceUID
                refs.append(r)
            s.ReferencedImageSequence = refs
            s.ReferencedNonImageCompositeSOPInstanceSequence = []
            final.PerformedSeriesSequence.append(s)
        status = self._n(False, mpps_uid, final)
        if not result.step("mpps-" + final.PerformedProcedureStepStatus.lower(),
                           status == st.SUCCESS, status):
            return self._done(result)
        result.step("storage-commitment", *self._commit(datasets))
        return self._done(result)

    def _commit(self, datasets) -> tuple[bool, int | None, str]:
        info = Dataset()
        info.TransactionUID = generate_uid()
        refs = []
        for d in datasets:
            r = Dataset()
            r.ReferencedSOPClassUID = d.SOPClassUID
            r.ReferencedSOPInstanceUID = d.SOPInstanceUID
            refs.append(r)
        info.ReferencedSOPSequence = refs
        assoc = self._assoc("PACS", [build_context(StorageCommitmentPushModel)])
        if not assoc.is_established:
            return False, None, "no association with the archive"
        try:
            rsp, _ = assoc.send_n_action(info, 1, StorageCommitmentPushModel,
                                         "1.2.840.10008.1.20.1.1")
        finally:
            assoc.release()
        status = getattr(rsp, "Status", None)
        return status == st.SUCCESS, status, (
            f"transaction {info.TransactionUID}: the report goes to node {self.ae_title}")

    def _done(self, result: WorkflowResult) -> WorkflowResult:
        journal.record(self.sb.db, self.code, "device.scheduled-workflow",
                       f"{self.ae_title} scheduled workflow "
                       f"{'done' if result.ok else 'stopped'}: "
                       + ", ".join(f"{s['step']} {s['status_name']}" for s in result.steps),
                       steps=result.steps, accession_number=result.accession_number,
                       study_uid=result.study_uid)
        return result
