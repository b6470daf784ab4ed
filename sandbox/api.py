"""`Sandbox`: the one object the platform and the CLI use (see sandbox/__init__.py)."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, text

from sandbox import admin, imports, journal, partitions
from sandbox.archive import fsck_repair, routing
from sandbox.archive.fsck import FsckReport
from sandbox.archive.fsck import check as check_consistency
from sandbox.archive.context import Services
from sandbox.archive.filestore import FileStore
from sandbox.archive.outgoing import Outgoing
from sandbox.archive.server import Listener
from sandbox.codes import validate_code
from sandbox.config import SandboxConfig
from sandbox.db import Database
from sandbox.devices import Devices
from sandbox.models import ForwardJob, Instance, Patient, RoutingRule, Series, Study
from sandbox.ris.api import RisApi
from sandbox.records import (
    FaultInfo, ForwardJobInfo, InstanceInfo, JournalEvent, NodeInfo, PartitionInfo,
    RoutingRuleInfo, StorageUsage, StudyInfo,
)

log = logging.getLogger("sandbox")

STORES = ("archive", "workstation")


class Sandbox(RisApi):  # RisApi: the RIS part (sandbox/ris/api.py)
    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(self.config.database_url)
        # Sandbox data is disposable training state: the schema is created, not migrated.
        self.db.create_all()
        self.files = FileStore(self.config.data_dir, fsync=self.config.fsync)
        self.services = Services(self.db, self.files, self.config, Outgoing(self.config))
        self._listener: Listener | None = None
        self._worker_stop = threading.Event()
        self._worker: threading.Thread | None = None

    # -- servers ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the DICOM listener (and the forward queue worker) in this process."""
        if self._listener is not None:
            return
        listener = Listener(self.services)
        listener.start(self.config.host, self.config.dicom_port)
        self._listener = listener
        self._worker_stop.clear()
        self._worker = threading.Thread(target=self._work_queue, name="sandbox-forward",
                                        daemon=True)
        self._worker.start()
        self._start_ris()  # HL7/MLLP listener and outbound queue (sandbox/ris/)

    def stop(self) -> None:
        self._stop_ris()
        self._worker_stop.set()
        if self._worker:
            self._worker.join(timeout=5)
            self._worker = None
        if self._listener:
            self._listener.stop()
            self._listener = None

    def close(self) -> None:
        self.stop()
        self.db.dispose()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def dicom_port(self) -> int:
        """The bound port when listening here, else the configured one."""
        return self._listener.port if self._listener and self._listener.port else \
            self.config.dicom_port

    @property
    def dicom_address(self) -> tuple[str, int]:
        host = self.config.host
        return ("127.0.0.1" if host in ("", "0.0.0.0") else host), self.dicom_port

    def status(self) -> dict:
        """For /healthz: is the listener up here, and is the database answering."""
        try:
            with self.db.read() as conn:
                conn.execute(text("SELECT 1"))
            database = True
        except Exception:  # noqa: BLE001 - health reports, it does not raise
            database = False
        listening = bool(self._listener and self._listener.server)
        return {"dicom": {"listening": listening, "port": self.dicom_port,
                          "host": self.config.host},
                "hl7": {"listening": bool(self._mllp and self._mllp.server),
                        "port": self.hl7_port, "host": self.config.host},
                "database": {"ok": database}}

    def _work_queue(self) -> None:
        while not self._worker_stop.wait(1.0):
            try:
                self.run_forward_queue()
            except Exception:  # noqa: BLE001 - the worker keeps going
                log.exception("forward queue run failed")

    # -- partitions ------------------------------------------------------------------------

    def create_partition(self, code: str, *, accept_any_calling_ae: bool = False,
                         replace_duplicates: bool = True) -> PartitionInfo:
        return partitions.create(self.db, code, accept_any_calling_ae=accept_any_calling_ae,
                                 replace_duplicates=replace_duplicates)

    def get_partition(self, code: str) -> PartitionInfo:
        return partitions.get(self.db, code)

    def list_partitions(self) -> list[PartitionInfo]:
        return partitions.list_all(self.db)

    def update_partition(self, code: str, **settings) -> PartitionInfo:
        """Settings: accept_any_calling_ae, replace_duplicates."""
        return partitions.update(self.db, code, **settings)

    def reset_partition(self, code: str) -> None:
        partitions.reset(self.db, self.config.data_dir, code)

    def delete_partition(self, code: str) -> None:
        partitions.delete_partition(self.db, self.config.data_dir, code)

    def release_partition_data(self, code: str) -> None:
        """Free a partition's images, nodes, faults and orders but keep its journal (for traces)."""
        partitions.reset(self.db, self.config.data_dir, code, keep_journal=True)

    # -- nodes and faults ------------------------------------------------------------------

    def add_node(self, code: str, ae_title: str, host: str, port: int,
                 description: str = "") -> NodeInfo:
        return partitions.add_node(self.db, code, ae_title, host, port, description)

    def remove_node(self, code: str, ae_title: str) -> None:
        partitions.remove_node(self.db, code, ae_title)

    def list_nodes(self, code: str) -> list[NodeInfo]:
        return partitions.list_nodes(self.db, code)

    def set_fault(self, code: str, kind: str, **params) -> FaultInfo:
        """Switch a fault on (kinds and params: sandbox/faults.py)."""
        return partitions.set_fault(self.db, code, kind, **params)

    def clear_fault(self, code: str, kind: str | None = None) -> int:
        return partitions.clear_fault(self.db, code, kind)

    def list_faults(self, code: str) -> list[FaultInfo]:
        return partitions.list_faults(self.db, code)

    # -- reading ---------------------------------------------------------------------------

    def _pid(self, code: str) -> int:
        state = partitions.load_state(self.db, validate_code(code))
        if state is None:
            raise partitions.PartitionNotFound(f"no partition {code!r}")
        return state.id

    def studies(self, code: str, *, store: str = "archive", patient_id: str | None = None,
                study_uid: str | None = None) -> list[StudyInfo]:
        pid, store = self._pid(code), _store(store)
        series_count = (select(func.count(Series.id)).where(Series.study_pk == Study.id)
                        .correlate(Study).scalar_subquery())
        instance_count = (select(func.count(Instance.id)).join(Series, Instance.series_pk ==
                          Series.id).where(Series.study_pk == Study.id).correlate(Study)
                          .scalar_subquery())
        q = (select(Study, Patient.patient_id, Patient.patient_name, series_count,
                    instance_count)
             .join(Patient, Patient.id == Study.patient_pk)
             .where(Study.partition_id == pid, Study.store == store).order_by(Study.id))
        if patient_id is not None:
            q = q.where(Patient.patient_id == patient_id)
        if study_uid is not None:
            q = q.where(Study.study_uid == study_uid)
        with self.db.session() as s:
            return [
                StudyInfo(st.study_uid, ptid, name, st.study_date, st.study_time,
                          st.accession_number, st.study_description,
                          tuple(m for m in st.modalities.split("\\") if m), nser, ninst,
                          st.retention_flagged, st.store)
                for st, ptid, name, nser, ninst in s.execute(q)
            ]

    def instances(self, code: str, *, store: str = "archive", study_uid: str | None = None,
                  series_uid: str | None = None) -> list[InstanceInfo]:
        pid, store = self._pid(code), _store(store)
        q = (select(Instance, Series.series_uid, Series.modality, Study.study_uid,
                    Patient.patient_id)
             .join(Series, Series.id == Instance.series_pk)
             .join(Study, Study.id == Series.study_pk)
             .join(Patient, Patient.id == Study.patient_pk)
             .where(Instance.partition_id == pid, Instance.store == store)
             .order_by(Instance.id))
        if study_uid is not None:
            q = q.where(Study.study_uid == study_uid)
        if series_uid is not None:
            q = q.where(Series.series_uid == series_uid)
        with self.db.session() as s:
            return [
                InstanceInfo(i.sop_instance_uid, i.sop_class_uid, ser, stu, ptid, mod,
                             i.instance_number, i.transfer_syntax, i.size, i.path, i.store)
                for i, ser, mod, stu, ptid in s.execute(q)
            ]

    def instance_path(self, code: str, sop_instance_uid: str, store: str = "archive") -> Path:
        """Where a stored instance's file is (for viewers and checks)."""
        pid = self._pid(code)
        with self.db.read() as conn:
            rel = conn.execute(select(Instance.path).where(
                Instance.partition_id == pid, Instance.store == _store(store),
                Instance.sop_instance_uid == sop_instance_uid)).scalar()
        if rel is None:
            raise LookupError(f"no instance {sop_instance_uid} in {code} {store}")
        return self.files.path(rel)

    def journal(self, code: str, kind: str | None = None, since: datetime | int | None = None,
                *, limit: int = 10_000, latest: bool = False) -> list[JournalEvent]:
        """A partition's journal, oldest first; `kind` exact or a prefix ending in '.';
        `latest`: the newest `limit` events rather than the oldest."""
        return journal.read(self.db, validate_code(code), kind=kind, since=since, limit=limit,
                            latest=latest)

    def unattributed_journal(self, kind: str | None = None,
                             since: datetime | int | None = None) -> list[JournalEvent]:
        """Events that belong to no partition (unknown called AE, bad PDUs, silent peers)."""
        return journal.read(self.db, None, kind=kind, since=since)

    # -- devices, scenarios, data ----------------------------------------------------------

    def devices(self, code: str) -> Devices:
        """The partition's simulated modality (<CODE>_CT) and workstation (<CODE>_WS)."""
        return Devices(self, validate_code(code))

    def apply_scenario(self, code: str, scenario: dict) -> dict:
        """Set a partition up from a lab's scenario mapping (schema: sandbox/scenario.py)."""
        from sandbox import scenario as scenarios

        return scenarios.apply(self, code, scenario)

    def generate(self, code: str, *, studies: int = 1, seed: int = 0, modality: str = "CT",
                 series_count: int = 1, images_per_series: int = 3, store: str = "archive",
                 **options) -> list[str]:
        """Generate synthetic studies straight into a store; returns their Study UIDs."""
        return imports.generate(self, code, studies=studies, seed=seed, modality=modality,
                                series_count=series_count, images_per_series=images_per_series,
                                store=_store(store), **options)

    def import_folder(self, code: str, path: Path | str, *, store: str = "archive") -> dict:
        """Import every DICOM file under `path`; returns counts and skipped files with reasons."""
        return imports.import_folder(self, code, Path(path), store=_store(store))

    # -- routing ---------------------------------------------------------------------------

    def add_routing_rule(self, code: str, destination_ae: str, *, modality: str = "",
                         calling_ae: str = "", study_description: str = "") -> RoutingRuleInfo:
        return admin.add_routing_rule(self, code, destination_ae, modality=modality,
                                      calling_ae=calling_ae, study_description=study_description)

    def remove_routing_rule(self, code: str, rule_id: int) -> None:
        admin.remove_routing_rule(self, code, rule_id)

    def routing_rules(self, code: str) -> list[RoutingRuleInfo]:
        pid = self._pid(code)
        with self.db.session() as s:
            rows = s.execute(select(RoutingRule).where(RoutingRule.partition_id == pid)
                             .order_by(RoutingRule.id)).scalars()
            return [RoutingRuleInfo(r.id, r.destination_ae, r.modality, r.calling_ae,
                                    r.study_description) for r in rows]

    def forward_queue(self, code: str, *, state: str | None = None) -> list[ForwardJobInfo]:
        """Forward jobs (pending ones first say why they wait, in `last_error`)."""
        pid = self._pid(code)
        q = select(ForwardJob).where(ForwardJob.partition_id == pid).order_by(ForwardJob.id)
        if state:
            q = q.where(ForwardJob.state == state)
        with self.db.session() as s:
            return [ForwardJobInfo(j.id, j.sop_instance_uid, j.destination_ae, j.state,
                                   j.attempts, j.last_error, j.next_attempt_at)
                    for j in s.execute(q).scalars()]

    def run_forward_queue(self, code: str | None = None) -> int:
        """Send due forward jobs now (the worker does this every second while started)."""
        return routing.run_due(self.db, self.files, self.services.outgoing, self.config,
                               code=validate_code(code) if code else None)

    def retry_forward_jobs(self, code: str) -> int:
        """Make failed and waiting jobs due now; returns how many."""
        return admin.retry_forward_jobs(self, code)

    # -- study-level administration --------------------------------------------------------

    def edit_patient(self, code: str, patient_id: str, /, **changes) -> dict:
        """Change demographics (patient_name, birth_date, sex, patient_id) of every study."""
        return admin.edit_patient(self, code, patient_id, **changes)

    def merge_patients(self, code: str, source_patient_id: str, target_patient_id: str) -> dict:
        return admin.merge_patients(self, code, source_patient_id, target_patient_id)

    def move_series(self, code: str, series_uid: str, target_study_uid: str) -> dict:
        return admin.move_series(self, code, series_uid, target_study_uid)

    def delete_study(self, code: str, study_uid: str, *, store: str = "archive") -> dict:
        return admin.delete_study(self, code, study_uid, store=_store(store))

    # -- consistency -----------------------------------------------------------------------

    def fsck(self, code: str, repair: bool = False, *,
             min_age: float = 60.0) -> FsckReport:
        """Check that a partition's index and file store agree; with `repair`, make them.

        Orphan and temp files younger than `min_age` seconds are left alone (a store may
        be in progress on a live archive); pass 0 when no listener is running."""
        code = validate_code(code)
        pid = self._pid(code)
        report = check_consistency(self.db, self.files, code, pid, min_age=min_age)
        if repair and report.problems:
            report = fsck_repair.repair(self.db, self.files, pid, report)
        return report

    def fsck_all(self, repair: bool = False, *, min_age: float = 60.0) -> list[FsckReport]:
        """`fsck` of every partition, one at a time."""
        return [self.fsck(p.code, repair, min_age=min_age) for p in self.list_partitions()]

    def storage_usage(self, code: str) -> StorageUsage:
        return admin.storage_usage(self, code)

    def apply_retention(self, code: str, *, older_than_days: int,
                        action: str = "flag") -> list[str]:
        """Flag or delete archive studies older than a period; returns their Study UIDs."""
        return admin.apply_retention(self, code, older_than_days=older_than_days, action=action)


def _store(store: str) -> str:
    if store not in STORES:
        raise ValueError(f"unknown store {store!r}; use one of {STORES}")
    return store
