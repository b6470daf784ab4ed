"""Bad input never takes the server down: it answers or hangs up, journals, keeps serving."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from tests.sandbox.conftest import associate, make_sandbox


@pytest.fixture(scope="module")
def impatient(tmp_path_factory):
    """A sandbox with short timeouts for silent peers."""
    with make_sandbox(tmp_path_factory.mktemp("impatient"), acse_timeout=0.5,
                      network_timeout=1.0, dimse_timeout=1.0) as sb:
        sb.create_partition("BAD", accept_any_calling_ae=True)
        yield sb


def _connect(sb) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", sb.dicom_port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def _closed_within(s: socket.socket, seconds: float) -> bytes:
    """Read until the server hangs up; returns what it sent."""
    s.settimeout(seconds)
    got = b""
    try:
        while chunk := s.recv(4096):
            got += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    return got


def _still_serving(sb):
    assoc = associate(sb, "BAD_PACS")
    assert assoc.is_established and assoc.send_c_echo().Status == 0
    assoc.release()


def _a_associate_rq(called: bytes = b"BAD_PACS", calling: bytes = b"X") -> bytes:
    from pynetdicom import build_context
    from pynetdicom.pdu import A_ASSOCIATE_RQ
    from pynetdicom.pdu_primitives import A_ASSOCIATE, MaximumLengthNotification

    prim = A_ASSOCIATE()
    prim.application_context_name = "1.2.840.10008.3.1.1.1"
    prim.calling_ae_title = calling.decode()
    prim.called_ae_title = called.decode()
    from pynetdicom.transport import AddressInformation

    prim.calling_presentation_address = AddressInformation("127.0.0.1", 1)
    prim.called_presentation_address = AddressInformation("127.0.0.1", 2)
    cx = build_context("1.2.840.10008.1.1")
    cx.context_id = 1
    prim.presentation_context_definition_list = [cx]
    ml = MaximumLengthNotification()
    ml.maximum_length_received = 16384
    prim.user_information = [ml]
    pdu = A_ASSOCIATE_RQ()
    pdu.from_primitive(prim)
    return pdu.encode()


def test_a_malformed_pdu_is_aborted_journaled_and_others_are_served(impatient):
    s = _connect(impatient)
    s.sendall(b"\x42" + b"\x00" * 5 + b"garbage!" * 4)  # PDU type 0x42 does not exist
    reply = _closed_within(s, 3)
    s.close()
    assert reply == b"" or reply[0] == 0x07  # A-ABORT or just closed
    _still_serving(impatient)
    time.sleep(0.2)
    assert any("closed before an association" in e.summary
               for e in impatient.unattributed_journal(kind="failure"))


def test_a_truncated_associate_request_is_dropped(impatient):
    rq = _a_associate_rq()
    s = _connect(impatient)
    s.sendall(rq[: len(rq) // 2])  # announce the full length, send half, go silent
    started = time.perf_counter()
    _closed_within(s, 5)
    s.close()
    assert time.perf_counter() - started < 4.5  # the server hung up on its own (timeout)
    _still_serving(impatient)


def test_a_silent_peer_is_disconnected_after_the_acse_timeout(impatient):
    s = _connect(impatient)
    started = time.perf_counter()
    _closed_within(s, 5)
    s.close()
    assert time.perf_counter() - started < 4.5
    _still_serving(impatient)


def test_a_silent_peer_inside_an_association_is_aborted_and_journaled(impatient):
    s = _connect(impatient)
    s.sendall(_a_associate_rq())
    first = s.recv(6)
    assert first[0] == 0x02  # A-ASSOCIATE-AC
    started = time.perf_counter()
    _closed_within(s, 5)
    s.close()
    assert time.perf_counter() - started < 4.5
    time.sleep(0.2)
    assert impatient.journal("BAD", kind="association.aborted")
    _still_serving(impatient)


def test_a_raw_associate_request_with_an_unknown_called_ae_gets_a_reject_pdu(impatient):
    s = _connect(impatient)
    s.sendall(_a_associate_rq(called=b"WHO_PACS"))
    reply = _closed_within(s, 3)
    s.close()
    assert reply[0] == 0x03  # A-ASSOCIATE-RJ
    result, source, reason = reply[7], reply[8], reply[9]
    assert (result, source, reason) == (1, 1, 7)


def test_a_burst_of_garbage_connections_does_not_stop_service(impatient):
    for n in range(10):
        s = _connect(impatient)
        s.sendall(struct.pack(">BBI", 0x01, 0, 2) + b"\xff\xff")
        s.close()
    _still_serving(impatient)
