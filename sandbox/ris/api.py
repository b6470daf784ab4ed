"""The RIS part of `sandbox.Sandbox` (mixed in): the MLLP listener, HL7, orders, worklist, MPPS.

Like the rest of the API, everything is a database operation on shared state, so
it works in-process and against a listener running in another process.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import delete, select

from sandbox import journal
from sandbox.codes import validate_code
from sandbox.models import (
    Hl7Message, RisEndpoint, RisMpps, RisOrder, RisPatient, RisProcedure, RisReport,
    RisSettings, RisStudyMatch, RisVisit,
)
from sandbox.ris import inbound, orders, outbound, seam
from sandbox.ris.context import UPDATE_POLICIES
from sandbox.ris.records import (
    Hl7EndpointInfo, Hl7MessageInfo, MppsInfo, OrderInfo, ProcedureInfo, ReportInfo,
    RisPatientInfo,
)

log = logging.getLogger("sandbox.ris")


class RisApi:
    """Methods `Sandbox` gains for the RIS (self is the Sandbox)."""

    _mllp = None
    _hl7_worker: threading.Thread | None = None
    _hl7_stop: threading.Event | None = None

    # -- servers ---------------------------------------------------------------------------

    def _start_ris(self) -> None:
        from sandbox.ris.mllp import MllpListener

        if self._mllp is not None:
            return
        listener = MllpListener(self)
        listener.start(self.config.host, self.config.hl7_port)
        self._mllp = listener
        self._hl7_stop = threading.Event()
        self._hl7_worker = threading.Thread(target=self._work_hl7_queue, name="sandbox-hl7-out",
                                            daemon=True)
        self._hl7_worker.start()

    def _stop_ris(self) -> None:
        if self._hl7_stop is not None:
            self._hl7_stop.set()
        if self._hl7_worker is not None:
            self._hl7_worker.join(timeout=5)
            self._hl7_worker = None
        if self._mllp is not None:
            self._mllp.stop()
            self._mllp = None

    def _work_hl7_queue(self) -> None:
        """Every half second: send due outbound HL7, flag newly stored studies (seam)."""
        while not self._hl7_stop.wait(0.5):
            try:
                self.run_hl7_queue()
            except Exception:  # noqa: BLE001 - the worker keeps going
                log.exception("HL7 outbound queue run failed")
            try:
                seam.flag_new_studies(self.db)
            except Exception:  # noqa: BLE001
                log.exception("study reconciliation failed")

    @property
    def hl7_port(self) -> int:
        """The bound MLLP port when listening here, else the configured one."""
        return self._mllp.port if self._mllp and self._mllp.port else self.config.hl7_port

    @property
    def hl7_address(self) -> tuple[str, int]:
        host = self.config.host
        return ("127.0.0.1" if host in ("", "0.0.0.0") else host), self.hl7_port

    # -- HL7 -------------------------------------------------------------------------------

    def send_hl7(self, code: str, text: str | bytes) -> inbound.AckResult:
        """Deliver one HL7 message to partition `code` (as the MLLP listener would) -> its ACK.

        A message whose MSH-6 names another partition is rejected (AR): a console
        can only reach its own partition.
        """
        code = validate_code(code)
        self._pid(code)
        return inbound.handle(self, text, peer=f"api:{code}", only_partition=code)

    def hl7_messages(self, code: str, *, direction: str | None = None,
                     since: int | None = None) -> list[Hl7MessageInfo]:
        """The partition's message log (in and out), oldest first."""
        from sandbox.ris import hl7text

        q = select(Hl7Message).where(Hl7Message.partition_code == validate_code(code))
        if direction:
            q = q.where(Hl7Message.direction == direction)
        if since is not None:
            q = q.where(Hl7Message.id > since)
        with self.db.session() as s:
            rows = s.execute(q.order_by(Hl7Message.id)).scalars().all()
            return [Hl7MessageInfo(
                m.id, m.direction, m.message_type, m.control_id, m.raw, m.summary, m.ack_code,
                m.ack_raw, dict(m.error or {}), m.state, m.destination, m.attempts,
                m.last_error, m.created_at,
                hl7text.field_span(m.raw, m.error.get("segment", ""),
                                   m.error.get("sequence", 1), m.error.get("field", 0))
                if m.error else None) for m in rows]

    def hl7_queue(self, code: str) -> list[Hl7MessageInfo]:
        """Outbound messages not yet acknowledged (pending, sending, failed)."""
        return [m for m in self.hl7_messages(code, direction="out") if m.state != "sent"]

    def run_hl7_queue(self, code: str | None = None) -> int:
        return outbound.run_due(self.db, self.config, code=validate_code(code) if code else None)

    def retry_hl7_queue(self, code: str) -> int:
        self._pid(code)
        return outbound.retry(self.db, code)

    def add_hl7_endpoint(self, code: str, name: str, host: str, port: int,
                         description: str = "") -> Hl7EndpointInfo:
        """Where the RIS sends its outbound HL7 (e.g. the trainee's order placer)."""
        pid = self._pid(code)
        if not name or len(name) > 32:
            raise ValueError("endpoint name: 1 to 32 characters")
        if not isinstance(host, str) or not host.strip() or len(host) > 255:
            raise ValueError(f"invalid host {host!r}")
        if not 1 <= int(port) <= 65535:
            raise ValueError("port must be 1-65535")
        with self.db.session() as s:
            row = s.execute(select(RisEndpoint).where(RisEndpoint.partition_id == pid,
                                                      RisEndpoint.name == name)).scalar()
            if row is None:
                row = RisEndpoint(partition_id=pid, name=name)
                s.add(row)
            row.host, row.port, row.description = host.strip(), int(port), description
        journal.record(self.db, code, "hl7.endpoint-added", f"HL7 endpoint {name} at "
                       f"{host}:{port}", name=name, host=host, port=port)
        return Hl7EndpointInfo(name, host.strip(), int(port), description)

    def remove_hl7_endpoint(self, code: str, name: str) -> None:
        pid = self._pid(code)
        with self.db.session() as s:
            n = s.execute(delete(RisEndpoint).where(RisEndpoint.partition_id == pid,
                                                    RisEndpoint.name == name)).rowcount
        if not n:
            raise LookupError(f"partition {code} has no HL7 endpoint {name!r}")
        journal.record(self.db, code, "hl7.endpoint-removed", f"HL7 endpoint {name} removed")

    def hl7_endpoints(self, code: str) -> list[Hl7EndpointInfo]:
        pid = self._pid(code)
        with self.db.session() as s:
            return [Hl7EndpointInfo(e.name, e.host, e.port, e.description) for e in s.execute(
                select(RisEndpoint).where(RisEndpoint.partition_id == pid)
                .order_by(RisEndpoint.name)).scalars()]

    # -- RIS configuration -----------------------------------------------------------------

    def set_procedure(self, code: str, procedure_code: str, *, modality: str,
                      description: str = "", station_ae: str = "") -> ProcedureInfo:
        """Add or change a row of the partition's procedure-code table."""
        pid = self._pid(code)
        if not procedure_code or len(procedure_code) > 64:
            raise ValueError("procedure code: 1 to 64 characters")
        with self.db.session() as s:
            row = s.execute(select(RisProcedure).where(
                RisProcedure.partition_id == pid, RisProcedure.code == procedure_code)).scalar()
            if row is None:
                row = RisProcedure(partition_id=pid, code=procedure_code)
                s.add(row)
            row.modality, row.station_ae = modality.upper(), station_ae
            row.description = description or orders.DEFAULT_PROCEDURES.get(
                procedure_code, ("",))[0]
            info = ProcedureInfo(row.code, row.description, row.modality, row.station_ae,
                                 "partition")
        journal.record(self.db, code, "ris.procedure-set",
                       f"procedure {procedure_code} -> {modality or 'no modality'}",
                       code=procedure_code, modality=modality, station_ae=station_ae)
        return info

    def procedures(self, code: str) -> list[ProcedureInfo]:
        pid = self._pid(code)
        with self.db.read() as conn:
            table = orders.procedure_table(conn, pid)
            own = set(conn.execute(select(RisProcedure.code).where(
                RisProcedure.partition_id == pid)).scalars())
        return [ProcedureInfo(c, d, m, s, "partition" if c in own else "default")
                for c, (d, m, s) in sorted(table.items())]

    def set_ris_policy(self, code: str, *, home_issuer: str | None = None,
                       update_policy: str | None = None) -> dict:
        """home_issuer: the PID-3 assigning authority that is the patient ID;
        update_policy: "apply" (A08/A40 rewrite stored studies) or "flag" (journal only)."""
        pid = self._pid(code)
        if update_policy is not None and update_policy not in UPDATE_POLICIES:
            raise ValueError(f"update_policy: one of {UPDATE_POLICIES}")
        with self.db.session() as s:
            row = s.execute(select(RisSettings).where(RisSettings.partition_id == pid)).scalar()
            if row is None:
                row = RisSettings(partition_id=pid, home_issuer="ACADEMY_GH",
                                  update_policy="apply")
                s.add(row)
            if home_issuer is not None:
                row.home_issuer = home_issuer
            if update_policy is not None:
                row.update_policy = update_policy
            out = {"home_issuer": row.home_issuer, "update_policy": row.update_policy}
        journal.record(self.db, code, "ris.policy-set", f"RIS policy {out}", **out)
        return out

    # -- reading ---------------------------------------------------------------------------

    def ris_patients(self, code: str, *, include_merged: bool = True) -> list[RisPatientInfo]:
        pid = self._pid(code)
        with self.db.read() as conn:
            patients = conn.execute(select(RisPatient.__table__).where(
                RisPatient.partition_id == pid).order_by(RisPatient.id)).all()
            visits = conn.execute(select(RisVisit.__table__).where(
                RisVisit.partition_id == pid).order_by(RisVisit.id)).all()
        out = []
        for p in patients:
            if p.merged_into and not include_merged:
                continue
            mine = [{"visit_number": v.visit_number, "patient_class": v.patient_class,
                     "location": v.location, "status": v.status} for v in visits
                    if v.patient_pk == p.id]
            out.append(RisPatientInfo(p.patient_id, p.issuer, p.name, p.birth_date, p.sex,
                                      list(p.identifiers or []), p.merged_into, mine))
        return out

    def orders(self, code: str, *, status: str | None = None,
               accession_number: str | None = None) -> list[OrderInfo]:
        pid = self._pid(code)
        q = (select(RisOrder.__table__, RisPatient.patient_id, RisPatient.name,
                    RisVisit.visit_number)
             .join(RisPatient, RisPatient.id == RisOrder.patient_pk)
             .outerjoin(RisVisit, RisVisit.id == RisOrder.visit_pk)
             .where(RisOrder.partition_id == pid).order_by(RisOrder.id))
        if status:
            q = q.where(RisOrder.status == status)
        if accession_number:
            q = q.where(RisOrder.accession_number == accession_number)
        with self.db.read() as conn:
            rows = conn.execute(q).all()
        return [OrderInfo(
            r.id, r.patient_id, r.name, r.placer_number, r.filler_number, r.accession_number,
            r.requested_procedure_id, r.sps_id, r.procedure_code, r.procedure_description,
            r.modality, r.station_ae, r.sps_start_date, r.sps_start_time, r.study_uid,
            r.referring_physician, r.status, orders.STATUS_NAMES.get(r.status, r.status),
            r.visit_number or "") for r in rows]

    def worklist(self, code: str, **keys) -> list[dict]:
        """What a modality's MWL C-FIND would return, read directly (keys: DICOM keywords;
        SPS keys such as ScheduledStationAETitle and Modality are matched in the item)."""
        from pydicom.dataset import Dataset

        from sandbox.ris import worklist as mwl

        pid = self._pid(code)
        identifier, sps = Dataset(), Dataset()
        for kw, value in keys.items():
            setattr(sps if kw in mwl.SPS_KEYS else identifier, kw, value)
        if len(sps):
            identifier.ScheduledProcedureStepSequence = [sps]
        with self.db.read() as conn:
            rows = mwl.scheduled(conn, pid, mwl.conditions(identifier))
        out = []
        for row in rows:
            item = mwl.full_item(row)
            flat = {e.keyword: str(e.value) for e in item if e.VR != "SQ"}
            flat.update({e.keyword: str(e.value) for e in item.ScheduledProcedureStepSequence[0]
                         if e.VR != "SQ"})
            out.append(flat)
        return out

    def mpps(self, code: str) -> list[MppsInfo]:
        pid = self._pid(code)
        with self.db.read() as conn:
            rows = conn.execute(select(RisMpps.__table__, RisOrder.placer_number)
                                .outerjoin(RisOrder, RisOrder.id == RisMpps.order_pk)
                                .where(RisMpps.partition_id == pid).order_by(RisMpps.id)).all()
        return [MppsInfo(r.sop_instance_uid, r.status, r.station_ae, r.modality, r.patient_id,
                         r.study_uid, r.accession_number, r.placer_number or "", r.calling_ae,
                         list(r.performed or []), r.updated_at) for r in rows]

    def reports(self, code: str) -> list[ReportInfo]:
        pid = self._pid(code)
        from sandbox.models import Study

        with self.db.read() as conn:
            rows = conn.execute(select(RisReport.__table__, RisOrder.placer_number)
                                .outerjoin(RisOrder, RisOrder.id == RisReport.order_pk)
                                .where(RisReport.partition_id == pid)
                                .order_by(RisReport.id)).all()
            stored = set(conn.execute(select(Study.study_uid).where(
                Study.partition_id == pid, Study.store == "archive")).scalars())
        return [ReportInfo(r.id, r.placer_number or "", r.accession_number, r.study_uid,
                           r.result_status, r.text, r.study_uid in stored, r.created_at)
                for r in rows]

    def study_matches(self, code: str, *, record: bool = False) -> list[dict]:
        """Every archive study against the orders: matched, or unmatched with reasons."""
        return seam.reconcile(self.db, self._pid(code), code, record=record)

    def unmatched_studies(self, code: str) -> list[dict]:
        return [m for m in self.study_matches(code) if not m["matched"]]

    def modality(self, code: str, device: str = "CT"):
        """The partition's simulated modality (<CODE>_CT, <CODE>_MR) doing scheduled workflow."""
        from sandbox.ris.modality import Modality

        if device not in ("CT", "MR"):
            raise ValueError("device: CT or MR")
        self._pid(code)
        return Modality(self, validate_code(code), device)


def delete_partition_data(conn, partition_id: int, code: str) -> None:
    """Everything the RIS holds for a partition (partition reset)."""
    for model in (RisStudyMatch, RisReport, RisMpps, RisOrder, RisVisit, RisPatient, RisProcedure,
                  RisEndpoint, RisSettings):
        conn.execute(delete(model).where(model.partition_id == partition_id))
    conn.execute(delete(Hl7Message).where(Hl7Message.partition_code == code))
