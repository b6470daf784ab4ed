"""The MLLP listener over real sockets: framing, many messages and connections, bad input."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from sandbox.ris import hl7text, samples
from sandbox.ris.mllp import MllpClient
from tests.sandbox.conftest import make_sandbox
from tests.sandbox.ris.conftest import ack_of


def test_many_messages_on_one_connection_are_acknowledged_in_order(sandbox, rcode, mllp, person):
    client = mllp()
    ids = [f"ONE{i}" for i in range(5)]
    for cid in ids:
        client.send_bytes(hl7text.frame(samples.adt(rcode, "A04", person, control_id=cid)))
    answers = [ack_of(client.receive()) for _ in ids]
    assert [(a[0], a[1]) for a in answers] == [("AA", cid) for cid in ids]
    log = sandbox.hl7_messages(rcode, direction="in")
    assert [m.control_id for m in log] == ids and all(m.ack_code == "AA" for m in log)


def test_two_messages_in_one_packet_and_one_message_in_pieces(rcode, mllp, person):
    client = mllp()
    both = (hl7text.frame(samples.adt(rcode, "A04", person, control_id="P1"))
            + hl7text.frame(samples.adt(rcode, "A08", person, control_id="P2")))
    client.send_bytes(both)
    assert [ack_of(client.receive())[:2] for _ in range(2)] == [("AA", "P1"), ("AA", "P2")]
    data = hl7text.frame(samples.adt(rcode, "A08", person, control_id="P3"))
    for i in range(0, len(data), 7):
        client.send_bytes(data[i:i + 7])
        time.sleep(0.001)
    assert ack_of(client.receive())[:2] == ("AA", "P3")


def test_ten_connections_at_once_are_all_served(sandbox, rcode, person):
    results, errors = [], []

    def worker(n: int) -> None:
        try:
            with MllpClient(*sandbox.hl7_address) as c:
                for i in range(3):
                    p = samples.patient(50_000 + n * 10 + i)
                    results.append(ack_of(c.send(samples.adt(rcode, "A04", p)))[0])
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and results == ["AA"] * 30
    assert len(sandbox.ris_patients(rcode)) == 30


def test_bytes_that_are_not_hl7_get_ar_and_the_connection_keeps_working(sandbox, rcode, mllp,
                                                                        person):
    client = mllp()
    code, _, err = ack_of(client.send("GET / HTTP/1.1"))
    assert code == "AR" and err["code"] == "100" and "MSH" in err["text"]
    client.send_bytes(b"raw bytes outside any frame\r\n")
    code, _, err = ack_of(client.receive())
    assert code == "AR" and "outside an MLLP frame" in err["text"]
    assert ack_of(client.send(samples.adt(rcode, "A04", person)))[0] == "AA"
    kinds = [e.kind for e in sandbox.unattributed_journal()]
    assert "hl7.rejected" in kinds and "hl7.received" in kinds


def test_an_unknown_receiving_facility_gets_ar(sandbox, mllp, person):
    code, cid, err = ack_of(mllp().send(samples.adt("NOPE9", "A04", person, control_id="F1")))
    assert (code, cid) == ("AR", "F1") and err["location"] == "MSH^1^6"
    assert "not a partition" in err["text"]
    assert sandbox.unattributed_journal(kind="hl7.received")[-1].details["ack"] == "AR"


@pytest.fixture(scope="module")
def strict(tmp_path_factory):
    """A sandbox with a small message limit and a short silence timeout."""
    with make_sandbox(tmp_path_factory.mktemp("strict"), hl7_port=0, hl7_max_bytes=2000,
                      hl7_timeout=0.6) as sb:
        sb.create_partition("S1")
        yield sb


def test_an_oversized_message_is_refused_and_the_next_one_is_served(strict, person):
    with MllpClient(*strict.hl7_address) as client:
        big = samples.adt("S1", "A04", person) + "\rZZZ|" + "X" * 5000
        code, _, err = ack_of(client.send(big))
        assert code == "AR" and "exceeds" in err["text"] and "2000" in err["text"]
        assert ack_of(client.send(samples.adt("S1", "A04", person)))[0] == "AA"
    assert any("exceeds" in e.summary for e in strict.unattributed_journal(kind="hl7.rejected"))


def test_a_client_that_never_sends_is_timed_out_and_journaled(strict):
    with socket.create_connection(strict.hl7_address) as sock:
        sock.settimeout(5)
        assert sock.recv(10) == b""  # closed by the server after the timeout
    time.sleep(0.1)
    assert any("sent nothing" in e.summary for e in strict.unattributed_journal(kind="failure"))


def test_an_unterminated_frame_is_journaled_for_its_partition(strict, person):
    text = samples.adt("S1", "A04", person, control_id="HALF1")
    with socket.create_connection(strict.hl7_address) as sock:
        sock.sendall(hl7text.frame(text)[:-2])
        sock.settimeout(5)
        assert sock.recv(10) == b""
    time.sleep(0.1)
    events = [e for e in strict.journal("S1", kind="failure") if "unterminated" in e.summary]
    assert events and "HALF1" in events[-1].summary
    # and everyone else is still served
    with MllpClient(*strict.hl7_address) as client:
        assert ack_of(client.send(samples.adt("S1", "A04", person)))[0] == "AA"
