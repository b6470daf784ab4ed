"""The RIS console: real HL7 to the partition's RIS, the ACK shown, the worklist as a modality sees it."""
from __future__ import annotations

import re

from tests.conftest import csrf_from
from tests.labs.test_consoles import console_post


def start(client, lab="tst-order") -> int:
    page = client.get(f"/labs/{lab}")
    response = client.post(f"/labs/{lab}/start", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    return int(re.search(r"/runs/(\d+)$", response.headers["Location"]).group(1))


PATIENT = {"patient-trigger": "A04", "patient-patient_id": "MRN4711", "patient-family": "Berg", "patient-given": "Anna",
           "patient-birth_date": "19790412", "patient-sex": "F"}


def test_an_hl7_lab_through_the_ris_console(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start(client)
    path = f"/runs/{run_id}/console/ris"
    body = console_post(client, path, "patient", **PATIENT).get_data(as_text=True)
    assert "ACK AA" in body and "BERG^ANNA" in body
    body = console_post(client, path, "order", **{"order-control": "NW", "order-patient_id": "MRN4711",
                                                  "order-placer": "PL4711", "order-procedure": "CTHEAD"}).get_data(as_text=True)
    assert "ACK AA" in body and "PL4711" in body
    body = console_post(client, path, "query-worklist", **{"worklist-device": "CT"}).get_data(as_text=True)
    assert "Worklist: Success, 1 item(s)" in body and "MRN4711" in body
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    client.post(f"/runs/{run_id}/submit", data={"csrf_token": csrf_from(page)})
    assert "Submitted: 10 of 10 points." in client.get(f"/runs/{run_id}").get_data(as_text=True)


def test_a_bad_message_gets_a_negative_ack_with_the_failing_field_marked(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start(client)
    path = f"/runs/{run_id}/console/ris"
    code = re.search(r"Partition <code>(R[0-9A-Z]{7})</code>", client.get(path).get_data(as_text=True)).group(1)
    message = f"MSH|^~\\&|HIS|GH|RIS|{code}|20261128093000||ADT^A04|X1|P|2.5.1\nPID|1||||BERG^ANNA||19790412|F"
    body = console_post(client, path, "raw", **{"raw-message": message}).get_data(as_text=True)
    assert re.search(r"ACK A[ER]", body) and "PID" in body
    assert "<mark>" in body  # the message log marks the field that failed


def test_ris_forms_refuse_delimiters_and_unknown_patients(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start(client)
    path = f"/runs/{run_id}/console/ris"
    response = console_post(client, path, "patient", **{**PATIENT, "patient-family": "Berg|Injected"})
    assert response.status_code == 400 and "No HL7 delimiters" in response.get_data(as_text=True)
    body = console_post(client, path, "order", **{"order-control": "NW", "order-patient_id": "NOBODY",
                                                  "order-placer": "PL1", "order-procedure": "CTHEAD"}).get_data(as_text=True)
    assert "does not know patient NOBODY" in body


def test_the_log_shows_a_message_field_by_field_and_the_trace_marks_the_failing_field(app, client, auth, accounts, box):
    auth.login(accounts["trainee"])
    run_id = start(client)
    path = f"/runs/{run_id}/console/ris"
    body = console_post(client, path, "patient", **PATIENT).get_data(as_text=True)
    assert "Field by field" in body and "PID-5</code></td><td class=\"text-break\">BERG^ANNA" in body
    code = re.search(r"Partition <code>(R[0-9A-Z]{7})</code>", body).group(1)
    broken = f"MSH|^~\\&|HIS|GH|RIS|{code}|20261128093000||ADT^A04|X2|P|2.5.1\nPID|1||||BERG^ANNA||19790412|F"
    console_post(client, path, "raw", **{"raw-message": broken})
    trace = client.get(f"/runs/{run_id}/trace").get_data(as_text=True)
    assert '<mark title="the field the RIS refused">' in trace
