"""Mutation fuzzing of the listeners, complementing tests/sandbox/test_bad_input.py (random bytes) and
tests/sandbox/ris/test_fuzz.py (the HL7 parser and raw chunks): here valid PDUs and frames are mutated,
and every connection must end (answered or closed by the server) without a hang or an escaped exception."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz.listeners import DicomPeer, Troubles, mllp_exchange
from tests.fuzz.strategies import DERANDOMIZE, dicom_stream
from tests.sandbox.conftest import make_sandbox
from tests.sandbox.ris.test_fuzz import messages

CASES = {"dicom": 0, "mllp": 0}


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    with make_sandbox(tmp_path_factory.mktemp("fuzz-listeners"), acse_timeout=0.5, network_timeout=1.0,
                      dimse_timeout=1.0) as sb:
        sb.create_partition("FZD", accept_any_calling_ae=True)
        sb.create_partition("FZ1")
        yield sb


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_mutated_pdus_never_hang_or_stop_the_dicom_listener(quick):
    peer = DicomPeer(quick)
    with Troubles() as troubles:
        @settings(derandomize=DERANDOMIZE, max_examples=60, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(data=dicom_stream())
        def property_(data):
            CASES["dicom"] += 1
            peer.send(data)
            peer.drain()

        property_()
        peer.drain(wait=True)
    assert peer.hangs == 0 and CASES["dicom"] >= 60
    assert troubles.seen == []
    assert peer.alive()


def test_every_mutated_hl7_frame_gets_an_ack_or_a_hang_up(quick):
    with Troubles() as troubles:
        @settings(derandomize=DERANDOMIZE, max_examples=40, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(text=messages)
        def property_(text):
            CASES["mllp"] += 1
            assert mllp_exchange(quick, text) in ("ack", "closed", "skipped")

        property_()
    assert troubles.seen == []
    assert CASES["mllp"] >= 40, CASES
