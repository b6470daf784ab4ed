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


def test_random_bytes_at_the_listener_never_stop_it(impatient):
    """Fuzz the PDU layer: random PDU types, lengths and bodies, then a normal echo."""
    import random

    rng = random.Random(1234)
    for _ in range(25):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64)))
        header = struct.pack(">BBI", rng.choice([1, 2, 3, 4, 5, 6, 7, rng.randrange(256)]), 0,
                             rng.choice([len(body), rng.randrange(1 << 16)]))
        s = _connect(impatient)
        try:
            s.sendall(header + body)
        except OSError:
            pass
        s.close()
    _still_serving(impatient)


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom complains about the garbage
def test_random_datasets_are_answered_with_a_failure_status_and_never_stored(sandbox, code,
                                                                            tmp_path_factory):
    """Fuzz C-STORE data: the answer is always a named failure, nothing reaches the index."""
    import random

    from pynetdicom import _config, build_context
    from pynetdicom.sop_class import CTImageStorage
    from pydicom import uid

    from sandbox.archive import status as st
    from sandbox.archive.storage import PREAMBLE, file_meta_bytes

    rng = random.Random(99)
    folder = tmp_path_factory.mktemp("fuzz")
    _config.STORE_SEND_CHUNKED_DATASET = True
    statuses = set()
    try:
        assoc = associate(sandbox, f"{code}_PACS",
                          [build_context(CTImageStorage, [uid.ImplicitVRLittleEndian])])
        for n in range(25):
            tag_soup = b"".join(
                struct.pack("<HHI", rng.choice([0x0008, 0x0010, 0x0020, rng.randrange(1 << 16)]),
                            rng.randrange(1 << 16), rng.choice([0, 4, 8, 0xFFFFFFFF,
                                                                rng.randrange(1 << 20)]))
                + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 16)))
                for _ in range(rng.randrange(1, 6)))
            path = folder / f"{n}.dcm"
            path.write_bytes(PREAMBLE + file_meta_bytes(CTImageStorage, f"1.2.3.{n}",
                                                        uid.ImplicitVRLittleEndian, "F")
                             + tag_soup)
            if not assoc.is_established:
                assoc = associate(sandbox, f"{code}_PACS",
                                  [build_context(CTImageStorage, [uid.ImplicitVRLittleEndian])])
            rsp = assoc.send_c_store(path)
            statuses.add(getattr(rsp, "Status", None))
        assoc.release()
    finally:
        _config.STORE_SEND_CHUNKED_DATASET = False
    assert statuses <= {st.CANNOT_UNDERSTAND, st.DATASET_DOES_NOT_MATCH_SOP_CLASS}
    assert sandbox.instances(code) == []
    assert not (sandbox.config.data_dir / code).exists() or not list(
        (sandbox.config.data_dir / code).rglob("*.dcm"))
