"""MPPS N-CREATE / N-SET at <CODE>_RIS (PS3.4 Annex F): transitions, validation, order status."""

from __future__ import annotations

import pytest
from pydicom.uid import generate_uid
from pynetdicom.sop_class import ModalityPerformedProcedureStep as MPPS

from sandbox.archive import status as st
from tests.sandbox.ris.conftest import (
    mpps_assoc, mpps_create_dataset, mpps_final_dataset, schedule,
)


@pytest.fixture
def order(sandbox, rcode, person):
    return schedule(sandbox, rcode, person, "MP1")


def _create(sb, code, ds, uid=None):
    assoc = mpps_assoc(sb, code)
    try:
        rsp, _ = assoc.send_n_create(ds, MPPS, uid or generate_uid())
    finally:
        assoc.release()
    return rsp


def _set(sb, code, uid, ds):
    assoc = mpps_assoc(sb, code)
    try:
        rsp, _ = assoc.send_n_set(ds, MPPS, uid)
    finally:
        assoc.release()
    return rsp


def _status(sb, code):
    return sb.orders(code)[0].status


def test_in_progress_then_completed_moves_the_order(sandbox, rcode, order):
    uid = generate_uid()
    assert _create(sandbox, rcode, mpps_create_dataset(order), uid).Status == st.SUCCESS
    assert _status(sandbox, rcode) == "IP"
    assert sandbox.worklist(rcode) == []  # no longer scheduled
    assert _set(sandbox, rcode, uid, mpps_final_dataset()).Status == st.SUCCESS
    assert _status(sandbox, rcode) == "CM"
    [m] = sandbox.mpps(rcode)
    assert (m.status, m.placer_number, m.performed[0]["instances"]) == (
        "COMPLETED", "MP1", ["1.2.3.4.1"])
    kinds = [e.kind for e in sandbox.journal(rcode)]
    assert "dimse.n-create" in kinds and "dimse.n-set" in kinds


def test_discontinued_discontinues_the_order(sandbox, rcode, order):
    uid = generate_uid()
    _create(sandbox, rcode, mpps_create_dataset(order), uid)
    final = mpps_final_dataset("DISCONTINUED")
    assert _set(sandbox, rcode, uid, final).Status == st.SUCCESS
    assert _status(sandbox, rcode) == "DC"


def test_a_final_step_cannot_be_changed_again(sandbox, rcode, order):
    uid = generate_uid()
    _create(sandbox, rcode, mpps_create_dataset(order), uid)
    _set(sandbox, rcode, uid, mpps_final_dataset())
    rsp = _set(sandbox, rcode, uid, mpps_final_dataset("IN PROGRESS"))
    assert rsp.Status == st.PROCESSING_FAILURE and "no longer" in rsp.ErrorComment
    rsp = _set(sandbox, rcode, uid, mpps_final_dataset("DISCONTINUED"))
    assert rsp.Status == st.PROCESSING_FAILURE
    assert _status(sandbox, rcode) == "CM"


@pytest.mark.parametrize("kwargs, status", [
    ({"status": "COMPLETED"}, st.INVALID_ATTRIBUTE_VALUE),
    ({"drop": ("PerformedStationAETitle",)}, st.MISSING_ATTRIBUTE),
    ({"drop": ("ScheduledStepAttributesSequence",)}, st.MISSING_ATTRIBUTE),
    ({"drop": ("PatientID",)}, st.MISSING_ATTRIBUTE),
    ({"station": ""}, st.MISSING_ATTRIBUTE_VALUE),
])
def test_n_create_validation(sandbox, rcode, order, kwargs, status):
    rsp = _create(sandbox, rcode, mpps_create_dataset(order, **kwargs))
    assert rsp.Status == status and rsp.ErrorComment
    assert _status(sandbox, rcode) == "SC" and sandbox.mpps(rcode) == []
    assert sandbox.journal(rcode, kind="dimse.n-create")[-1].status == status


def test_duplicate_create_and_unknown_set(sandbox, rcode, order):
    uid = generate_uid()
    _create(sandbox, rcode, mpps_create_dataset(order), uid)
    assert _create(sandbox, rcode, mpps_create_dataset(order), uid).Status == \
        st.DUPLICATE_SOP_INSTANCE
    assert _set(sandbox, rcode, generate_uid(), mpps_final_dataset()).Status == \
        st.NO_SUCH_OBJECT_INSTANCE


@pytest.mark.parametrize("final, status", [
    (mpps_final_dataset(drop=("PerformedProcedureStepEndDate",)), st.MISSING_ATTRIBUTE),
    ("empty-series", st.MISSING_ATTRIBUTE_VALUE),
    (mpps_final_dataset(drop=("PerformedSeriesSequence",)), st.MISSING_ATTRIBUTE_VALUE),
    (mpps_final_dataset("ABORTED"), st.INVALID_ATTRIBUTE_VALUE),
])
def test_completion_needs_end_time_and_performed_series(sandbox, rcode, order, final, status):
    if final == "empty-series":
        final = mpps_final_dataset()
        final.PerformedSeriesSequence = []
    uid = generate_uid()
    _create(sandbox, rcode, mpps_create_dataset(order), uid)
    assert _set(sandbox, rcode, uid, final).Status == status
    assert _status(sandbox, rcode) == "IP"


def test_an_unscheduled_step_is_accepted_without_an_order(sandbox, rcode, order):
    ds = mpps_create_dataset(order)
    item = ds.ScheduledStepAttributesSequence[0]
    item.StudyInstanceUID, item.AccessionNumber, item.ScheduledProcedureStepID = "1.2.9", "", ""
    assert _create(sandbox, rcode, ds).Status == st.SUCCESS
    assert _status(sandbox, rcode) == "SC" and sandbox.mpps(rcode)[0].placer_number == ""
