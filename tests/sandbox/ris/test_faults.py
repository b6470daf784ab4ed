"""Each RIS fault a break-fix lab can switch on: what it breaks, that it is journaled, and that
clearing it repairs the behaviour."""

from __future__ import annotations

import socketserver
import threading
import time

import pytest

from sandbox.ris import hl7text, samples
from tests.sandbox.ris.conftest import mwl_find, schedule


def _fired(sb, code, kind):
    return [e for e in sb.journal(code, kind="fault.fired") if e.details.get("fault") == kind]


def test_a_broken_procedure_table_leaves_orders_without_a_modality(sandbox, rcode, person):
    sandbox.set_fault(rcode, "procedure_modality", procedure="CTHEAD", modality="")
    result = sandbox.send_hl7(rcode, samples.orm(rcode, person, placer="F1"))
    assert result.code == "AE" and "no modality" in result.error["reason"]
    sandbox.set_fault(rcode, "procedure_modality", procedure="CTHEAD", modality="MR")
    order = schedule(sandbox, rcode, person, "F2")
    assert order.modality == "MR" and order.station_ae == f"{rcode}_MR"
    assert _fired(sandbox, rcode, "procedure_modality")
    sandbox.clear_fault(rcode, "procedure_modality")
    assert schedule(sandbox, rcode, person, "F3").modality == "CT"


def test_a_wrong_station_ae_hides_the_order_from_the_modalitys_worklist(sandbox, rcode, person):
    sandbox.set_fault(rcode, "wrong_station_ae", ae_title="OLD_CT")
    schedule(sandbox, rcode, person, "F10")
    status, matches = mwl_find(sandbox, rcode, {"AccessionNumber": ""},
                               {"ScheduledStationAETitle": f"{rcode}_CT"})
    assert matches == []
    assert sandbox.orders(rcode)[0].station_ae == "OLD_CT"
    assert _fired(sandbox, rcode, "wrong_station_ae")


@pytest.mark.parametrize("message_type", ["ORM^O01", "ORM"])
def test_an_interface_that_answers_ae_to_a_message_type(sandbox, rcode, person, message_type):
    sandbox.set_fault(rcode, "ack_error", message_type=message_type)
    assert sandbox.send_hl7(rcode, samples.adt(rcode, "A04", person)).code == "AA"
    result = sandbox.send_hl7(rcode, samples.orm(rcode, person, placer="F20"))
    assert result.code == "AE" and "ack_error" in result.error["reason"]
    assert sandbox.orders(rcode) == [] and _fired(sandbox, rcode, "ack_error")


def test_patient_ids_from_a_second_assigning_authority(sandbox, rcode, person):
    sandbox.set_fault(rcode, "second_assigning_authority", issuer="OTHER_HOSP")
    text = samples.adt(rcode, "A04", person, extra_ids=(("X-777", "OTHER_HOSP"),))
    assert sandbox.send_hl7(rcode, text).code == "AA"
    assert sandbox.ris_patients(rcode)[0].patient_id == "X-777"
    assert _fired(sandbox, rcode, "second_assigning_authority")
    sandbox.clear_fault(rcode)
    sandbox.send_hl7(rcode, text)
    assert {p.patient_id for p in sandbox.ris_patients(rcode)} == {"X-777", person["patient_id"]}


def test_a_date_format_off_by_a_field(sandbox, rcode, person):
    sandbox.set_fault(rcode, "swap_date_format")
    order = schedule(sandbox, rcode, person, "F30", start="20250304101500")
    assert order.sps_start_date == "20250403"
    assert mwl_find(sandbox, rcode, {"AccessionNumber": ""},
                    {"ScheduledProcedureStepStartDate": "20250304"})[1] == []


class _Placer(socketserver.ThreadingTCPServer):
    """A tiny MLLP order placer that acknowledges everything (AA)."""

    daemon_threads = True
    allow_reuse_address = True


def _placer_handler(received):
    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            reader = hl7text.FrameReader(1_000_000)
            while True:
                data = self.request.recv(65536)
                if not data:
                    return
                for kind, body in reader.feed(data):
                    if kind == "frame":
                        from sandbox.ris.messages import peek_header

                        received.append(body.decode())
                        cid = peek_header(body.decode()).control_id
                        self.request.sendall(hl7text.frame(
                            f"MSH|^~\\&|PLACER|GH|RIS|X|20250101||ACK|A{cid}|P|2.5.1\r"
                            f"MSA|AA|{cid}"))
    return Handler


@pytest.fixture(scope="module")
def quiet(tmp_path_factory):
    """A sandbox with no listener and no background worker: the tests run the queue."""
    from tests.sandbox.conftest import make_sandbox

    with make_sandbox(tmp_path_factory.mktemp("quiet"), start=False) as sb:
        yield sb


@pytest.fixture
def qcode(quiet, rcode):
    quiet.create_partition(rcode)
    return rcode


def test_an_outbound_link_that_is_down_backs_the_queue_up_until_it_is_fixed(quiet, qcode,
                                                                           person):
    sandbox, rcode = quiet, qcode
    received: list[str] = []
    server = _Placer(("127.0.0.1", 0), _placer_handler(received))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sandbox.add_hl7_endpoint(rcode, "PLACER", "127.0.0.1", server.server_address[1])
        sandbox.set_fault(rcode, "hl7_outbound_down")
        schedule(sandbox, rcode, person, "F40")
        schedule(sandbox, rcode, person, "F41")
        sandbox.run_hl7_queue(rcode)
        queue = sandbox.hl7_queue(rcode)
        assert len(queue) == 2 and all("link is down" in m.last_error for m in queue)
        assert received == [] and _fired(sandbox, rcode, "hl7_outbound_down")
        sandbox.clear_fault(rcode, "hl7_outbound_down")
        assert sandbox.retry_hl7_queue(rcode) == 2
        sandbox.run_hl7_queue(rcode)
        assert sandbox.hl7_queue(rcode) == []
        assert len(received) == 2 and all("ORC|SC|F4" in m for m in received)
        sent = sandbox.hl7_messages(rcode, direction="out")
        assert {m.state for m in sent} == {"sent"} and {m.ack_code for m in sent} == {"AA"}
    finally:
        server.shutdown()
        server.server_close()


def test_an_unreachable_endpoint_is_retried_and_says_why(quiet, qcode, person):
    sandbox, rcode = quiet, qcode
    from tests.sandbox.conftest import free_port

    sandbox.add_hl7_endpoint(rcode, "NOWHERE", "127.0.0.1", free_port())
    schedule(sandbox, rcode, person, "F50")
    sandbox.run_hl7_queue(rcode)
    [m] = sandbox.hl7_queue(rcode)
    assert m.state == "pending" and m.attempts == 1 and "refused" in m.last_error.lower()
    time.sleep(0.06)  # forward_retry_seconds in the test config
    sandbox.run_hl7_queue(rcode)
    assert sandbox.hl7_queue(rcode)[0].attempts == 2


def test_an_endpoint_outside_loopback_is_never_contacted(quiet, qcode, person):
    sandbox, rcode = quiet, qcode
    sandbox.add_hl7_endpoint(rcode, "FAR", "192.0.2.10", 2575)
    schedule(sandbox, rcode, person, "F60")
    sandbox.run_hl7_queue(rcode)
    [m] = sandbox.hl7_queue(rcode)
    assert "not loopback" in m.last_error
