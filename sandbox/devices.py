"""Simulated devices a console or lab drives: the modality <CODE>_CT and workstation <CODE>_WS.

Each operation opens a real association (TCP_NODELAY, network policy) to a node
the partition knows — a registered node, or its own <CODE>_PACS/<CODE>_WS on
the sandbox's DICOM port — and returns a plain DimseResult. Works from any
process that shares the database: the listener may run elsewhere.
"""

from __future__ import annotations

import time

from pydicom.dataset import Dataset
from pynetdicom import build_context, build_role, evt
from pynetdicom.sop_class import (
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from sandbox import journal, partitions
from sandbox.codes import validate_ae_title
from sandbox.archive import status as st
from sandbox.archive.attributes import InstanceAttributes, read_header
from sandbox.archive.ingest import Target, store_instance
from sandbox.archive.storage import PREAMBLE, file_meta_bytes
from sandbox.netpolicy import DestinationRefused
from sandbox.records import DimseResult

_FIND = {"PATIENT": PatientRootQueryRetrieveInformationModelFind,
         "STUDY": StudyRootQueryRetrieveInformationModelFind}
_MOVE = {"PATIENT": PatientRootQueryRetrieveInformationModelMove,
         "STUDY": StudyRootQueryRetrieveInformationModelMove}
_GET = {"PATIENT": PatientRootQueryRetrieveInformationModelGet,
        "STUDY": StudyRootQueryRetrieveInformationModelGet}
DEVICES = ("CT", "MR", "WS")


class Devices:
    def __init__(self, sandbox, code: str) -> None:
        self.sb = sandbox
        self.code = code

    # -- plumbing --------------------------------------------------------------------------

    def calling_ae(self, device: str) -> str:
        """The AE title a device calls from: `<CODE>_CT`, `_MR`, `_WS` for the partition's own devices
        (always known to its archive), or any other valid AE title, for a simulated device the
        hospital has not registered yet (a new modality in a lab): the archive's node registry
        decides whether that one gets in."""
        if device in DEVICES:
            return f"{self.code}_{device}"
        try:
            return validate_ae_title(device)
        except ValueError as exc:
            raise ValueError(f"unknown device {device!r}: use one of {DEVICES} or an AE title ({exc})") from None

    def _open(self, device: str, node_ae: str, contexts, **kwargs):
        """(assoc, None) or (None, DimseResult explaining why not)."""
        calling = self.calling_ae(device)
        state = partitions.load_state(self.sb.db, self.code)
        if state is None:
            raise partitions.PartitionNotFound(f"no partition {self.code!r}")
        node, misset = state.resolve_node(node_ae, self.sb.dicom_address)
        if node is None:
            return None, DimseResult(False, None, "Unknown node",
                                     f"{node_ae} is not a registered node of {self.code}")
        if misset:
            journal.record(self.sb.db, self.code, "fault.fired",
                           f"fault misset_node: {node.ae_title} resolved to port {node.port}",
                           fault="misset_node")
        try:
            assoc = self.sb.services.outgoing.associate(calling, node, contexts, **kwargs)
        except DestinationRefused as exc:
            return None, DimseResult(False, None, "Refused", str(exc))
        if not assoc.is_established:
            why = "association rejected" if assoc.is_rejected else "no association (peer unreachable or aborted)"
            return None, DimseResult(False, None, "No association",
                                     f"{why}: {node.ae_title} at {node.host}:{node.port}")
        return assoc, None

    def _done(self, op: str, node_ae: str, result: DimseResult, started: float) -> DimseResult:
        journal.record(self.sb.db, self.code, f"device.{op}",
                       f"{op.upper()} to {node_ae}: {result.status_name} {result.message}".strip(),
                       status=result.status, node=node_ae, completed=result.completed,
                       failed=result.failed, matches=len(result.matches),
                       duration_ms=round((time.perf_counter() - started) * 1000, 1))
        return result

    # -- operations ------------------------------------------------------------------------

    def echo(self, node_ae: str, *, device: str = "WS") -> DimseResult:
        started = time.perf_counter()
        assoc, failed = self._open(device, node_ae, [build_context(Verification)])
        if failed:
            return self._done("c-echo", node_ae, failed, started)
        try:
            rsp = assoc.send_c_echo()
        finally:
            assoc.release()
        return self._done("c-echo", node_ae, _result(rsp), started)

    def find(self, node_ae: str, *, level: str = "STUDY", model: str = "STUDY",
             device: str = "WS", **keys) -> DimseResult:
        """C-FIND; keys are DICOM keywords ("PatientID": "P1*"); a key set to "" is returned."""
        started = time.perf_counter()
        identifier = _identifier(level, keys)
        assoc, failed = self._open(device, node_ae, [build_context(_FIND[model])])
        if failed:
            return self._done("c-find", node_ae, failed, started)
        matches, last = [], None
        try:
            for rsp, ds in assoc.send_c_find(identifier, _FIND[model]):
                last = rsp
                if ds is not None and st.is_pending(getattr(rsp, "Status", None)):
                    matches.append({e.keyword: _plain(e.value) for e in ds if e.keyword})
        finally:
            assoc.release()
        result = _result(last)
        return self._done("c-find", node_ae, DimseResult(
            result.ok, result.status, result.status_name, f"{len(matches)} match(es)",
            matches=matches), started)

    def move(self, node_ae: str, destination_ae: str, *, level: str = "STUDY",
             model: str = "STUDY", device: str = "WS", **keys) -> DimseResult:
        started = time.perf_counter()
        assoc, failed = self._open(device, node_ae, [build_context(_MOVE[model])])
        if failed:
            return self._done("c-move", node_ae, failed, started)
        last = None
        try:
            for rsp, _ in assoc.send_c_move(_identifier(level, keys), destination_ae,
                                            _MOVE[model]):
                last = rsp
        finally:
            assoc.release()
        return self._done("c-move", node_ae, _result(last, f"to {destination_ae}"), started)

    def get(self, node_ae: str, *, level: str = "STUDY", model: str = "STUDY",
            sop_classes: tuple[str, ...] | None = None, **keys) -> DimseResult:
        """C-GET into the workstation's store (the WS takes the Storage SCP role)."""
        from sandbox.archive.services import STORAGE_SYNTAXES

        started = time.perf_counter()
        state = partitions.load_state(self.sb.db, self.code)
        classes = sop_classes or self._classes_for(keys)
        contexts = [build_context(_GET[model])]
        contexts += [build_context(c, list(STORAGE_SYNTAXES[:2])) for c in classes[:100]]
        roles = [build_role(c, scp_role=True) for c in classes[:100]]
        target = Target(state.id, self.code, "workstation", True, calling_ae=node_ae,
                        route=False) if state else None

        def on_store(event):
            req = event.request
            ts = str(event.context.transfer_syntax)
            try:
                attrs = InstanceAttributes.from_dataset(read_header(req.DataSet, ts))
            except Exception:  # noqa: BLE001
                return st.CANNOT_UNDERSTAND
            chunks = [PREAMBLE, file_meta_bytes(attrs.sop_class_uid, attrs.sop_instance_uid,
                                                ts, node_ae), req.DataSet.getbuffer()]
            return store_instance(self.sb.db, self.sb.files, target, attrs, chunks, ts)

        assoc, failed = self._open("WS", node_ae, contexts, ext_neg=roles,
                                   evt_handlers=[(evt.EVT_C_STORE, on_store)])
        if failed:
            return self._done("c-get", node_ae, failed, started)
        last = None
        try:
            for rsp, _ in assoc.send_c_get(_identifier(level, keys), _GET[model]):
                last = rsp
        finally:
            assoc.release()
        return self._done("c-get", node_ae, _result(last), started)

    def _classes_for(self, keys: dict) -> tuple[str, ...]:
        """SOP classes in the archive for the study/series asked for (C-GET needs them up front)."""
        instances = self.sb.instances(self.code, study_uid=keys.get("StudyInstanceUID"),
                                      series_uid=keys.get("SeriesInstanceUID"))
        return tuple(sorted({i.sop_class_uid for i in instances})) or (
            "1.2.840.10008.5.1.4.1.1.2",)

    def store(self, node_ae: str, datasets=None, *, seed: int = 0, modality: str = "CT",
              device: str = "CT", **synth_options) -> DimseResult:
        """C-STORE `datasets` (default: one generated study) from the modality."""
        started = time.perf_counter()
        if datasets is None:
            from sandbox import synth

            datasets = synth.generate_study(seed, modality, **synth_options)
        pairs = sorted({(str(d.SOPClassUID), str(d.file_meta.TransferSyntaxUID))
                        for d in datasets})
        contexts = [build_context(c, [t]) for c, t in pairs]
        assoc, failed = self._open(device, node_ae, contexts)
        if failed:
            return self._done("c-store", node_ae, failed, started)
        completed = failed_n = warning = 0
        last_status = None
        try:
            for ds in datasets:
                if not assoc.is_established:
                    failed_n += 1
                    continue
                rsp = assoc.send_c_store(ds)
                last_status = getattr(rsp, "Status", None)
                if last_status == st.SUCCESS:
                    completed += 1
                elif last_status is not None and not st.is_failure(last_status):
                    warning += 1
                else:
                    failed_n += 1
        finally:
            if assoc.is_established:
                assoc.release()
        ok = failed_n == 0
        return self._done("c-store", node_ae, DimseResult(
            ok, last_status, st.name(last_status), f"{completed} stored, {failed_n} failed",
            completed=completed, failed=failed_n, warning=warning), started)

    def commit(self, node_ae: str, *, study_uid: str | None = None, device: str = "CT") -> DimseResult:
        """Ask the archive to commit to keeping a study's instances (Storage Commitment Push Model,
        PS3.4 J.3.2: N-ACTION "Request Storage Commitment"). The answer only acknowledges the request;
        the result arrives later as an N-EVENT-REPORT on a new association to the modality."""
        from pydicom.uid import generate_uid
        from pynetdicom.sop_class import StorageCommitmentPushModel

        started = time.perf_counter()
        instances = self.sb.instances(self.code, study_uid=study_uid)
        if not instances:
            return DimseResult(False, None, "Nothing to commit", "no instance of that study is in the archive")
        request = Dataset()
        request.TransactionUID = generate_uid()
        request.ReferencedSOPSequence = []
        for instance in instances:
            item = Dataset()
            item.ReferencedSOPClassUID = instance.sop_class_uid
            item.ReferencedSOPInstanceUID = instance.sop_instance_uid
            request.ReferencedSOPSequence.append(item)
        assoc, failed = self._open(device, node_ae, [build_context(StorageCommitmentPushModel)])
        if failed:
            return self._done("n-action", node_ae, failed, started)
        try:
            rsp, _ = assoc.send_n_action(request, 1, StorageCommitmentPushModel, "1.2.840.10008.1.20.1.1")
        finally:
            assoc.release()
        return self._done("n-action", node_ae, _result(rsp, f"{len(instances)} instance(s); the report follows "
                                                            "on a new association"), started)


def _identifier(level: str, keys: dict) -> Dataset:
    level = level.upper()
    ds = Dataset()
    ds.QueryRetrieveLevel = level
    for keyword, value in keys.items():
        setattr(ds, keyword, value)
    return ds


def _plain(value):
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [str(v) for v in value]
    return str(value) if value is not None else ""


def _result(rsp, message: str = "") -> DimseResult:
    status_code = getattr(rsp, "Status", None) if rsp is not None else None
    if rsp is None or status_code is None:
        return DimseResult(False, None, "No response", "the association was aborted or timed out")
    counts = {k: int(getattr(rsp, f"NumberOf{k.title()}Suboperations", 0) or 0)
              for k in ("completed", "failed", "warning")}
    return DimseResult(status_code == st.SUCCESS, status_code, st.name(status_code), message,
                       **counts)
