"""Fixtures for the RIS tests: the session sandbox (MLLP and DICOM on free ports), a fresh
partition per test, an MLLP client, MWL/MPPS associations.

The archive's fixtures (tests/sandbox/conftest.py) apply here too: `sandbox`, `code`,
`make_sandbox`, `dcmtk`, `storage_peer`.
"""

from __future__ import annotations

import itertools

import pytest
from pydicom.dataset import Dataset
from pynetdicom import build_context
from pynetdicom.sop_class import ModalityPerformedProcedureStep, ModalityWorklistInformationFind

from sandbox.ris import samples
from sandbox.ris.mllp import MllpClient
from sandbox.ris.messages import parse
from tests.sandbox.conftest import associate

_seeds = itertools.count(1000)


@pytest.fixture
def rcode(sandbox) -> str:
    """A fresh partition whose RIS knows the test SCU's AE title."""
    code = f"R{next(_seeds)}"
    sandbox.create_partition(code)
    sandbox.add_node(code, "TESTSCU", "127.0.0.1", 1)
    return code


@pytest.fixture
def person():
    """A new invented patient each time."""
    return samples.patient(next(_seeds))


@pytest.fixture
def mllp(sandbox):
    """Open MLLP connections to the session sandbox; closed after the test."""
    clients = []

    def connect(timeout: float = 10.0) -> MllpClient:
        client = MllpClient(*sandbox.hl7_address, timeout=timeout)
        clients.append(client)
        return client

    yield connect
    for c in clients:
        c.close()


def ack_of(text: str) -> tuple[str, str, dict]:
    """(MSA-1, MSA-2, ERR fields) of an ACK, read with the RIS's own parser."""
    msg = parse(text)
    msa = msg.first("MSA")
    err = msg.first("ERR")
    fields = {}
    if err is not None:
        fields = {"location": err.er7(2), "code": err.get(3, 1), "text": err.get(8),
                  "err1": err.er7(1)}
    return msa.get(1), msa.get(2), fields


def send(sb, code: str, text: str):
    """Through the API (same processing as the listener)."""
    return sb.send_hl7(code, text)


def schedule(sb, code: str, p: dict, placer: str, **kw):
    """Register the patient and place an order; returns the order."""
    assert sb.send_hl7(code, samples.adt(code, "A04", p)).code == "AA"
    result = sb.send_hl7(code, samples.orm(code, p, placer=placer, **kw))
    assert result.code == "AA", result.error
    [order] = [o for o in sb.orders(code) if o.placer_number == placer]
    return order


def mwl_find(sb, code: str, top: dict | None = None, sps: dict | None = None,
             calling: str = "TESTSCU", called: str | None = None) -> tuple[int, list[Dataset]]:
    ds = Dataset()
    for k, v in (top or {}).items():
        setattr(ds, k, v)
    if sps is not None:
        item = Dataset()
        for k, v in sps.items():
            setattr(item, k, v)
        ds.ScheduledProcedureStepSequence = [item]
    assoc = associate(sb, called or f"{code}_RIS", [build_context(ModalityWorklistInformationFind)],
                      calling=calling)
    assert assoc.is_established
    matches, final = [], None
    try:
        for rsp, identifier in assoc.send_c_find(ds, ModalityWorklistInformationFind):
            if rsp.Status in (0xFF00, 0xFF01):
                matches.append(identifier)
            else:
                final = rsp.Status
    finally:
        assoc.release()
    return final, matches


def mpps_assoc(sb, code: str):
    assoc = associate(sb, f"{code}_RIS", [build_context(ModalityPerformedProcedureStep)])
    assert assoc.is_established
    return assoc


def mpps_create_dataset(order, *, status: str = "IN PROGRESS", station: str = "TESTSCU",
                        drop: tuple = ()) -> Dataset:
    ds = Dataset()
    ds.PatientName = order.patient_name
    ds.PatientID = order.patient_id
    ssa = Dataset()
    ssa.StudyInstanceUID = order.study_uid
    ssa.AccessionNumber = order.accession_number
    ssa.RequestedProcedureID = order.requested_procedure_id
    ssa.ScheduledProcedureStepID = order.sps_id
    ds.ScheduledStepAttributesSequence = [ssa]
    ds.PerformedStationAETitle = station
    ds.PerformedProcedureStepStartDate = "20250101"
    ds.PerformedProcedureStepStartTime = "101010"
    ds.PerformedProcedureStepStatus = status
    ds.PerformedProcedureStepID = "PPS1"
    ds.Modality = order.modality
    ds.PerformedSeriesSequence = []
    for kw in drop:
        delattr(ds, kw)
    return ds


def mpps_final_dataset(status: str = "COMPLETED", series_uid: str = "1.2.3.4",
                       instances: tuple = ("1.2.3.4.1",), drop: tuple = ()) -> Dataset:
    ds = Dataset()
    ds.PerformedProcedureStepStatus = status
    ds.PerformedProcedureStepEndDate = "20250101"
    ds.PerformedProcedureStepEndTime = "103000"
    s = Dataset()
    s.SeriesInstanceUID = series_uid
    refs = []
    for uid in instances:
        r = Dataset()
        r.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        r.ReferencedSOPInstanceUID = uid
        refs.append(r)
    s.ReferencedImageSequence = refs
    ds.PerformedSeriesSequence = [s]
    for kw in drop:
        delattr(ds, kw)
    return ds
